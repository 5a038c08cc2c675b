"""Application Auto Scaling for ECS services with the real clients: register-scalable-target and
put-scaling-policy become a HorizontalPodAutoscaler on the EcsService's scale subresource with the right
bounds, target and behavior; describe-* answer from it (an HPA made with kubectl too); what cannot be
mapped is refused by name; deregister removes it; RBAC decides (a view user may describe, not register)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ecs_operator.localcluster import resourcemetrics

from tests.integration.api_helpers import AccessKey, create_key
from tests.integration.sts_helpers import aws, aws_json, key_env
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
DIMENSION = "ecs:service:DesiredCount"


def code_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr.split("(", 1)[1].split(")", 1)[0]


@pytest.fixture
def service(aws_factory: Any, admin_key: AccessKey, api_cluster_name: str) -> str:
    """A service `web` (desiredCount 1) in a fresh cluster; its ResourceId."""
    ecs = aws_factory(admin_key)
    ecs("create-cluster", "--cluster-name", api_cluster_name)
    ecs("register-task-definition", "--family", "scaled", "--container-definitions",
        '[{"name": "app", "image": "nginx:1.27", "cpu": 256, "memory": 128}]')  # fmt: skip
    ecs("create-service", "--cluster", api_cluster_name, "--service-name", "web", "--task-definition",
        "scaled", "--desired-count", "1")  # fmt: skip
    return f"service/{api_cluster_name}/web"


def hpa(kubectl: Kubectl, namespace: str, name: str = "web") -> dict[str, Any] | None:
    out = kubectl("get", "hpa", name, "-n", namespace, "-o", "json", "--ignore-not-found").stdout
    return json.loads(out) if out.strip() else None


def test_a_target_and_a_policy_become_an_hpa(
    ecs_api: Any, admin_key: AccessKey, service: str, kubectl: Kubectl, tmp_path: Path
) -> None:
    env = key_env(ecs_api.url, tmp_path, admin_key)
    namespace = service.split("/")[1]
    scaling = ("application-autoscaling", "--service-namespace", "ecs")
    arn = aws_json(env, *scaling[:1], "register-scalable-target", *scaling[1:], "--resource-id", service,
                   "--scalable-dimension", DIMENSION, "--min-capacity", "2",
                   "--max-capacity", "6")  # fmt: skip
    assert arn["ScalableTargetARN"].startswith("arn:aws:application-autoscaling:us-east-1:000000000000:")
    config = {
        "TargetValue": 60.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        "ScaleInCooldown": 120,
        "ScaleOutCooldown": 30,
    }
    policy = aws_json(env, *scaling[:1], "put-scaling-policy", *scaling[1:], "--resource-id", service,
                      "--scalable-dimension", DIMENSION, "--policy-name", "cpu60", "--policy-type",
                      "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
                      json.dumps(config))  # fmt: skip
    assert policy["PolicyARN"].endswith(f"resource/ecs/{service}:policyName/cpu60")
    found = hpa(kubectl, namespace)
    assert found is not None
    spec = found["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsService",
        "name": "web",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
        }
    ]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 120
    assert {p["periodSeconds"] for p in spec["behavior"]["scaleUp"]["policies"]} == {30}

    targets = aws_json(
        env, *scaling[:1], "describe-scalable-targets", *scaling[1:], "--resource-ids", service
    )
    (target,) = targets["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (service, 2, 6)
    assert (
        target["ScalableDimension"] == DIMENSION
        and target["SuspendedState"]["DynamicScalingInSuspended"] is False
    )
    policies = aws_json(
        env, *scaling[:1], "describe-scaling-policies", *scaling[1:], "--resource-id", service
    )
    (described,) = policies["ScalingPolicies"]
    assert described["PolicyName"] == "cpu60"
    assert described["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60.0
    activities = aws_json(
        env, *scaling[:1], "describe-scaling-activities", *scaling[1:], "--resource-id", service
    )
    assert isinstance(activities["ScalingActivities"], list)

    # Suspending scale-in disables the HPA's scale-down; a memory policy adds a metric.
    aws(env, *scaling[:1], "register-scalable-target", *scaling[1:], "--resource-id", service,
        "--scalable-dimension", DIMENSION, "--suspended-state", "DynamicScalingInSuspended=true")  # fmt: skip
    memory = {
        **config,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"},
    }
    aws(env, *scaling[:1], "put-scaling-policy", *scaling[1:], "--resource-id", service,
        "--scalable-dimension", DIMENSION, "--policy-name", "mem", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-scaling-policy-configuration", json.dumps(memory))  # fmt: skip
    found = hpa(kubectl, namespace)
    assert found is not None
    assert found["spec"]["behavior"]["scaleDown"]["selectPolicy"] == "Disabled"
    assert [m["resource"]["name"] for m in found["spec"]["metrics"]] == ["cpu", "memory"]
    assert (found["spec"]["minReplicas"], found["spec"]["maxReplicas"]) == (2, 6)

    aws(env, *scaling[:1], "delete-scaling-policy", *scaling[1:], "--resource-id", service,
        "--scalable-dimension", DIMENSION, "--policy-name", "mem")  # fmt: skip
    missing = aws(env, *scaling[:1], "delete-scaling-policy", *scaling[1:], "--resource-id", service,
                  "--scalable-dimension", DIMENSION, "--policy-name", "mem", check=False)  # fmt: skip
    assert code_of(missing) == "ObjectNotFoundException"
    aws(env, *scaling[:1], "deregister-scalable-target", *scaling[1:], "--resource-id", service,
        "--scalable-dimension", DIMENSION)  # fmt: skip
    assert hpa(kubectl, namespace) is None
    gone = aws_json(env, *scaling[:1], "describe-scalable-targets", *scaling[1:], "--resource-ids", service)
    assert gone["ScalableTargets"] == []


def test_what_cannot_be_mapped_is_refused_by_name(
    ecs_api: Any, admin_key: AccessKey, service: str, tmp_path: Path
) -> None:
    env = key_env(ecs_api.url, tmp_path, admin_key)
    base = ("application-autoscaling",)
    where = ("--service-namespace", "ecs", "--resource-id", service, "--scalable-dimension", DIMENSION)
    no_target = aws(env, *base, "put-scaling-policy", *where, "--policy-name", "p", "--policy-type",
                    "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
                    '{"TargetValue": 50, "PredefinedMetricSpecification": {"PredefinedMetricType": '
                    '"ECSServiceAverageCPUUtilization"}}', check=False)  # fmt: skip
    assert code_of(no_target) == "ObjectNotFoundException"
    aws(env, *base, "register-scalable-target", *where, "--min-capacity", "1", "--max-capacity", "3")
    custom = aws(env, *base, "put-scaling-policy", *where, "--policy-name", "p", "--policy-type",
                 "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
                 '{"TargetValue": 50, "CustomizedMetricSpecification": {"MetricName": "Q", "Namespace": "N", '
                 '"Statistic": "Average"}}', check=False)  # fmt: skip
    assert code_of(custom) == "ValidationException" and "CustomizedMetricSpecification" in custom.stderr
    step = aws(env, *base, "put-scaling-policy", *where, "--policy-name", "p", "--policy-type", "StepScaling",
               check=False)  # fmt: skip
    assert code_of(step) == "ValidationException" and "StepScaling" in step.stderr
    scheduled = aws(env, *base, "put-scheduled-action", *where, "--scheduled-action-name", "night",
                    "--schedule", "cron(0 22 * * ? *)",
                    "--scalable-target-action", "MinCapacity=0,MaxCapacity=0",
                    check=False)  # fmt: skip
    assert code_of(scheduled) == "ValidationException" and "Scheduled actions" in scheduled.stderr
    other = aws(env, *base, "describe-scalable-targets", "--service-namespace", "dynamodb", check=False)
    assert code_of(other) == "ValidationException"
    inverted = aws(env, *base, "register-scalable-target", *where, "--min-capacity", "5",
                   "--max-capacity", "2", check=False)  # fmt: skip
    assert code_of(inverted) == "ValidationException"


def test_an_hpa_made_with_kubectl_reads_as_a_target(
    ecs_api: Any, admin_key: AccessKey, service: str, kubectl: Kubectl, tmp_path: Path
) -> None:
    namespace = service.split("/")[1]
    kubectl("autoscale", "ecsservice", "web", "-n", namespace, "--min=1", "--max=4", "--cpu=70%")
    env = key_env(ecs_api.url, tmp_path, admin_key)
    targets = aws_json(
        env, "application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs"
    )
    mine = [t for t in targets["ScalableTargets"] if t["ResourceId"] == service]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in mine] == [(1, 4)]
    policies = aws_json(env, "application-autoscaling", "describe-scaling-policies",
                        "--service-namespace", "ecs", "--resource-id", service)  # fmt: skip
    policies = policies["ScalingPolicies"]
    assert [p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies] == [70.0]


def test_rbac_decides(ecs_api: Any, kubeconfig: str, kubectl: Kubectl, service: str, tmp_path: Path) -> None:
    namespace = service.split("/")[1]
    viewer = create_key(kubeconfig, f"aas-viewer-{namespace[-6:]}")
    kubectl("create", "rolebinding", f"test-{viewer.user}", "--clusterrole=ecs-operator:view",
            f"--user={viewer.user}", "-n", namespace)  # fmt: skip
    env = key_env(ecs_api.url, tmp_path, viewer)
    refused = aws(env, "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
                  "--resource-id", service, "--scalable-dimension", DIMENSION, "--min-capacity", "1",
                  "--max-capacity", "2", check=False)  # fmt: skip
    assert code_of(refused) == "AccessDeniedException"
    assert hpa(kubectl, namespace) is None


def utilization(found: dict[str, Any] | None) -> int | None:
    for entry in ((found or {}).get("status") or {}).get("currentMetrics") or ():
        value = ((entry.get("resource") or {}).get("current") or {}).get("averageUtilization")
        if value is not None:
            return int(value)
    return None


def desired_count(kubectl: Kubectl, namespace: str) -> int:
    out = kubectl("get", "ecsservice", "web", "-n", namespace, "-o", "jsonpath={.spec.desiredCount}").stdout
    return int(out or 0)


def test_the_hpa_scales_on_measured_cpu_and_kubectl_ecs_shows_target_policies_and_activities(
    ecs_api: Any, admin_key: AccessKey, service: str, kubectl: Kubectl, kubeconfig: str, tmp_path: Path
) -> None:
    """metrics-server reads kwok's simulated usage (a Pod's `kwok.x-k8s.io/usage-cpu` annotation): the HPA
    scales out when the tasks use more than the target and back in when they idle."""
    from tests.integration.test_kubectl_ecs import KubectlEcs

    env = key_env(ecs_api.url, tmp_path, admin_key)
    cluster_name = namespace = service.split("/")[1]
    scaling = ("application-autoscaling", "--service-namespace", "ecs")
    aws(env, *scaling[:1], "register-scalable-target", *scaling[1:], "--resource-id", service,
        "--scalable-dimension", DIMENSION, "--min-capacity", "1", "--max-capacity", "3")  # fmt: skip
    config = {
        "TargetValue": 50.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        "ScaleInCooldown": 0,
        "ScaleOutCooldown": 15,
    }
    aws(env, *scaling[:1], "put-scaling-policy", *scaling[1:], "--resource-id", service,
        "--scalable-dimension", DIMENSION, "--policy-name", "cpu50", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-scaling-policy-configuration", json.dumps(config))  # fmt: skip
    # Idle (kwok's default: 1m of CPU against a 250m request), measured through the metrics API.
    wait_for(
        lambda: utilization(hpa(kubectl, namespace)) is not None,
        timeout=120,
        interval=1,
        message="the HPA to read the tasks' CPU from metrics.k8s.io",
    )
    assert (utilization(hpa(kubectl, namespace)) or 0) < 50

    selector = "ecs.operator.dev/service=web"
    kubectl("annotate", "pods", "-n", namespace, "-l", selector, "--overwrite",
            f"{resourcemetrics.USAGE_CPU_ANNOTATION}=500m")  # fmt: skip
    wait_for(lambda: desired_count(kubectl, namespace) >= 2, timeout=180, interval=1,
             message=f"a scale-out at 200% of the target; HPA: {hpa(kubectl, namespace)}")  # fmt: skip
    activities = wait_for(
        lambda: aws_json(env, *scaling[:1], "describe-scaling-activities", *scaling[1:], "--resource-id",
                         service)["ScalingActivities"],
        timeout=60,
        interval=1,
        message="the scale-out as a scaling activity",
    )  # fmt: skip
    assert any(
        a["Description"].startswith("Setting desired count to ") and a["StatusCode"] == "Successful"
        for a in activities
    ), activities

    shown = KubectlEcs(kubeconfig, cluster_name).run("describe-scaling", "--service", "web").stdout
    assert service in shown and "cpu50" in shown and "ECSServiceAverageCPUUtilization" in shown
    assert "Setting desired count to " in shown
    as_json = KubectlEcs(kubeconfig, cluster_name).json("describe-scaling", "--service", "web")
    assert as_json["ScalableTarget"]["MaxCapacity"] == 3
    assert [p["PolicyName"] for p in as_json["ScalingPolicies"]] == ["cpu50"]

    kubectl("annotate", "pods", "-n", namespace, "-l", selector, f"{resourcemetrics.USAGE_CPU_ANNOTATION}-")
    wait_for(lambda: desired_count(kubectl, namespace) == 1, timeout=180, interval=1,
             message=f"a scale-in once idle; HPA: {hpa(kubectl, namespace)}")  # fmt: skip
