"""On real containers: a Pod whose only AWS credential is its projected ServiceAccount token deploys
through the ECS API (the example in manifests/examples/pipeline: STS web identity, then UpdateService), and a
service that burns CPU scales out under a target-tracking policy and back in once idle (metrics-server
reading the real kubelet)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator import labels
from ecs_operator.ecsapi.autoscaling import hpa
from ecs_operator.localcluster import cluster, images
from ecs_operator.localcluster.build import print_progress
from ecs_operator.localcluster.realnode.layout import NODE_NAME

from tests.integration.operator_helpers import Cluster, service
from tests.integration.realnode.conftest import OPERATOR_NAMESPACE, REPO_ROOT, Kubectl
from tests.integration.realnode.workloads import BUSYBOX, describe, task_definition
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.realnode]

PIPELINE = REPO_ROOT / "manifests" / "examples" / "pipeline"
PIPELINE_NAMESPACE = "ci"
ROLE = "ci-deployer"


@pytest.fixture(scope="module")
def ecs_api_url(kubectl: Kubectl, installed_operator: str) -> Iterator[str]:
    """The ECS API installed on the real node (manifests/local/api); its URL at the Service's ClusterIP (the
    real node runs no cluster DNS)."""
    kubectl(
        "apply", "--server-side", "--force-conflicts", "-k", str(REPO_ROOT / "manifests" / "local" / "api")
    )
    kubectl("rollout", "restart", "deployment/ecs-api", "-n", OPERATOR_NAMESPACE)
    kubectl("rollout", "status", "deployment/ecs-api", "-n", OPERATOR_NAMESPACE, "--timeout=180s")
    ip = kubectl(
        "get", "service", "ecs-api", "-n", OPERATOR_NAMESPACE, "-o", "jsonpath={.spec.clusterIP}"
    ).stdout.strip()
    yield f"http://{ip}:8000"
    kubectl("delete", "deployment", "ecs-api", "-n", OPERATOR_NAMESPACE, "--ignore-not-found")


def pipeline_overlay(directory: Path, cluster_name: str, endpoint: str) -> Path:
    """manifests/examples/pipeline as it is, but for the image built here, this test's ECS cluster, the API's
    address without DNS and the real node."""
    job_patch = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/args/3", "value": cluster_name},
        {"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Never"},
        {"op": "add", "path": "/spec/template/spec/nodeName", "value": NODE_NAME},
        {"op": "replace", "path": "/spec/template/spec/containers/0/env/4/value", "value": endpoint},
    ]
    name, tag = images.AWS_CLI.name.rsplit(":", 1)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(PIPELINE, directory)],  # kustomize refuses absolute ones
        "images": [{"name": "public.ecr.aws/aws-cli/aws-cli", "newName": name, "newTag": tag}],
        "patches": [
            {"target": {"kind": "Job", "name": "deploy-web"}, "patch": json.dumps(job_patch)},
            {
                "target": {"kind": "RoleBinding", "name": ROLE},
                "patch": json.dumps(
                    [{"op": "replace", "path": "/metadata/namespace", "value": cluster_name}]
                ),
            },
        ],
    }
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    return directory


def audited_writes(user: str, resource: str, namespace: str) -> list[dict[str, Any]]:
    """The API server's audit records of writes made as `user` (impersonated) to `resource` in `namespace`."""
    found = []
    with cluster.layout().audit_log.open(encoding="utf-8") as log:
        for line in log:
            if f'"{user}"' not in line or resource not in line:
                continue
            record = json.loads(line)
            ref = record.get("objectRef") or {}
            if (
                (record.get("impersonatedUser") or {}).get("username") == user
                and ref.get("resource") == resource
                and ref.get("namespace") == namespace
                and record.get("verb") in ("patch", "update")
                and record.get("stage") == "ResponseComplete"
                and (record.get("responseStatus") or {}).get("code", 0) < 300
            ):
                found.append(record)
    return found


def test_a_pod_with_a_projected_token_and_no_static_key_deploys_through_the_ecs_api(
    real_cluster: Cluster, kubectl: Kubectl, ecs_api_url: str, tmp_path: Path
) -> None:
    cluster.load_images([images.ensure(images.AWS_CLI, print_progress)])
    real_cluster.apply(
        task_definition("web", {"name": "web", "image": BUSYBOX, "memory": 32, "command": ["sleep", "3600"]}),
        service("web", "web", desired=1),
    )
    real_cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    manifests = pipeline_overlay(tmp_path, real_cluster.namespace, ecs_api_url)
    try:
        kubectl("apply", "--server-side", "-k", str(manifests))
        pod_spec = kubectl("get", "job", "deploy-web", "-n", PIPELINE_NAMESPACE, "-o", "json").stdout
        container = json.loads(pod_spec)["spec"]["template"]["spec"]["containers"][0]
        assert not any(e["name"].startswith("AWS_ACCESS_KEY") for e in container["env"]), "no static key"

        def finished() -> str:
            job = json.loads(
                kubectl("get", "job", "deploy-web", "-n", PIPELINE_NAMESPACE, "-o", "json").stdout
            )
            done = {c["type"] for c in job.get("status", {}).get("conditions") or () if c["status"] == "True"}
            return "Complete" if "Complete" in done else "Failed" if "Failed" in done else ""

        outcome = wait_for(finished, timeout=240, interval=1, message="Job deploy-web to finish")
        logs = kubectl("logs", "-n", PIPELINE_NAMESPACE, "job/deploy-web", check=False).stdout
        assert outcome == "Complete", logs
        # The CLI exchanged the token (STS AssumeRoleWithWebIdentity) and UpdateService answered the service.
        answered = json.loads(logs)["service"]
        assert answered["serviceName"] == "web" and answered["clusterArn"].endswith(
            f"/{real_cluster.namespace}"
        )
        # The write was made as the role's Kubernetes identity, and forced a new deployment.
        assert audited_writes(ROLE, "ecsservices", real_cluster.namespace)
        web = real_cluster.get("ecsservice", "web") or {}
        assert labels.FORCE_NEW_DEPLOYMENT in (web["metadata"].get("annotations") or {})
    finally:
        kubectl("delete", "-k", str(manifests), "--ignore-not-found", "--wait=false", check=False)


BURN_FLAG = "burn"
# Busy while the flag file exists on the host folder every task mounts, idle (sleeping) otherwise.
BURNER = (
    f"while true; do while [ -e /ctl/{BURN_FLAG} ]; do i=0; "
    "while [ $i -lt 5000 ]; do i=$((i+1)); done; done; sleep 1; done"
)
CPU_POLICY = {
    "PolicyName": "cpu50",
    "PolicyType": "TargetTrackingScaling",
    "TargetTrackingScalingPolicyConfiguration": {
        "TargetValue": 50.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        "ScaleOutCooldown": 15,
        "ScaleInCooldown": 0,
    },
}


def current_utilization(real_cluster: Cluster) -> int | None:
    status = (real_cluster.get("hpa", "burner") or {}).get("status") or {}
    for entry in status.get("currentMetrics") or ():
        value = ((entry.get("resource") or {}).get("current") or {}).get("averageUtilization")
        if value is not None:
            return int(value)
    return None


def test_a_cpu_burning_service_scales_out_and_back_in_once_idle(
    real_cluster: Cluster, kubectl: Kubectl, host_dir: Path
) -> None:
    flag = host_dir / BURN_FLAG
    container = {
        "name": "burn",
        "image": BUSYBOX,
        "cpu": 128,
        "memory": 32,
        "entryPoint": ["sh", "-c"],
        "command": [BURNER],
        "mountPoints": [{"sourceVolume": "ctl", "containerPath": "/ctl", "readOnly": True}],
    }
    volume = {"name": "ctl", "host": {"sourcePath": str(host_dir)}}
    real_cluster.apply(
        task_definition("burner", container, volumes=[volume]), service("burner", "burner", desired=1)
    )
    real_cluster.wait_condition("ecsservice", "burner", "Ready", timeout=120)
    # What RegisterScalableTarget (1 to 2 tasks) and PutScalingPolicy (CPU at 50 %) make: the same HPA.
    target = {"MinCapacity": 1, "MaxCapacity": 2}
    autoscaler = hpa.desired(
        real_cluster.namespace, "burner", real_cluster.namespace, "burner", target, [CPU_POLICY]
    )
    autoscaler["metadata"]["namespace"] = real_cluster.namespace
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(autoscaler))
    # Idle, the real kubelet's measurements reach the HPA through metrics-server: utilization far below 50 %.
    idle = wait_for(
        lambda: current_utilization(real_cluster) is not None,
        timeout=120,
        interval=2,
        message=f"the HPA to read the tasks' CPU; {describe(real_cluster, 'hpa', 'burner')}",
    )
    assert idle and (current_utilization(real_cluster) or 0) < 50

    flag.write_text("1", encoding="utf-8")
    try:
        wait_for(
            lambda: (real_cluster.get("ecsservice", "burner") or {}).get("spec", {}).get("desiredCount") == 2,
            timeout=240,
            interval=2,
            message=f"desiredCount 2 under load; {describe(real_cluster, 'hpa', 'burner')}",
        )
        wait_for(
            lambda: real_cluster.status("ecsservice", "burner").get("runningCount") == 2,
            timeout=120,
            interval=1,
            message="the second task running on the real node",
        )
    finally:
        flag.unlink(missing_ok=True)

    wait_for(
        lambda: (real_cluster.get("ecsservice", "burner") or {}).get("spec", {}).get("desiredCount") == 1,
        timeout=240,
        interval=2,
        message=f"desiredCount back to 1 once idle; {describe(real_cluster, 'hpa', 'burner')}",
    )
    kubectl("delete", "hpa", "burner", "-n", real_cluster.namespace, "--ignore-not-found")
