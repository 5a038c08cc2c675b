"""The ECS API with the real AWS CLI (v1, from PyPI), on the local control plane with the operator running:
the issue's scenario from create-cluster to delete-cluster, with task definitions from ../shared/ecs-examples.
The CLI's waiters poll as they always do (every 15 s for services, 6 s for tasks): nothing is shortened."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.api_helpers import Aws
from tests.integration.operator_helpers import Families, node_manifest
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ecs-examples" / "taskdefs"
GHOST = EXAMPLES / "jojo786__ghost-aws-ecs-pipeline__taskdef.json"
ONE_SHOT = EXAMPLES / (
    "aws__amazon-ecs-agent__agent__functional_tests__testdata__taskdefinitions__init-process__task-definition.json"
)


def example(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared ECS examples are read from ../shared/ecs-examples)")
    return path


def as_family(path: Path, family: str, folder: Path) -> Path:
    """The example registered under a family of the test's own (families are account-wide)."""
    definition = json.loads(example(path).read_text())
    copy = folder / f"{family}.json"
    copy.write_text(json.dumps({**definition, "family": family}))
    return copy


@pytest.fixture
def fargate_pool(kubectl: Kubectl, api_cluster_name: str) -> Iterator[str]:
    name = f"fp-{api_cluster_name}"
    taint = [{"key": "ecs.operator.dev/capacity", "value": "fargate", "effect": "NoSchedule"}]
    manifest = node_manifest(name, {"ecs.operator.dev/capacity": "fargate"}, taint)
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(manifest))
    yield name
    kubectl("delete", "node", name, "--wait=false", "--ignore-not-found", check=False)


def test_the_ecs_scenario_with_the_aws_cli(
    aws: Aws, api_cluster_name: str, fargate_pool: str, kubectl: Kubectl, tmp_path: Path, family: Families
) -> None:
    cluster = api_cluster_name
    blog, one_shot = family("ghost-blog"), family("ecsftest-init-process")
    created = aws("create-cluster", "--cluster-name", cluster)["cluster"]
    assert created["clusterArn"] == f"arn:aws:ecs:us-east-1:000000000000:cluster/{cluster}"
    assert created["status"] == "ACTIVE"

    ghost_json = as_family(GHOST, blog, tmp_path)
    ghost = aws("register-task-definition", "--cli-input-json", f"file://{ghost_json}")["taskDefinition"]
    assert ghost["taskDefinitionArn"].endswith(f":task-definition/{blog}:1")
    assert (ghost["family"], ghost["revision"], ghost["status"]) == (blog, 1, "ACTIVE")

    service = aws(
        "create-service", "--cluster", cluster, "--service-name", "ghost",
        "--task-definition", blog, "--desired-count", "2",
    )["service"]  # fmt: skip
    assert service["serviceArn"] == f"arn:aws:ecs:us-east-1:000000000000:service/{cluster}/ghost"
    assert service["taskDefinition"].endswith(f":task-definition/{blog}:1")
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    aws("wait", "services-stable", "--cluster", cluster, "--services", "ghost")
    stable = aws("describe-services", "--cluster", cluster, "--services", "ghost")["services"][0]
    assert (stable["runningCount"], stable["desiredCount"], len(stable["deployments"])) == (2, 2, 1)
    assert stable["deployments"][0]["rolloutState"] == "COMPLETED"
    assert any("has reached a steady state" in e["message"] for e in stable["events"])
    assert all(isinstance(e["createdAt"], float) for e in stable["events"])

    # A new revision and a new count: the CLI waits on the new deployment until it alone runs 3 tasks.
    revised = json.loads(ghost_json.read_text())
    revised["containerDefinitions"][0]["environment"] = [{"name": "GHOST_VERSION", "value": "2"}]
    (tmp_path / "ghost-2.json").write_text(json.dumps(revised))
    second = aws("register-task-definition", "--cli-input-json", f"file://{tmp_path / 'ghost-2.json'}")
    assert second["taskDefinition"]["revision"] == 2
    updated = aws(
        "update-service", "--cluster", cluster, "--service", "ghost",
        "--task-definition", f"{blog}:2", "--desired-count", "3",
    )["service"]  # fmt: skip
    assert updated["desiredCount"] == 3
    assert updated["deployments"][0]["status"] == "PRIMARY"
    assert updated["deployments"][0]["taskDefinition"].endswith(f"{blog}:2")
    aws("wait", "services-stable", "--cluster", cluster, "--services", "ghost")
    rolled = aws("describe-services", "--cluster", cluster, "--services", "ghost")["services"][0]
    assert rolled["taskDefinition"].endswith(f"{blog}:2")
    assert (rolled["runningCount"], len(rolled["deployments"])) == (3, 1)
    service_tasks = aws("list-tasks", "--cluster", cluster, "--service-name", "ghost")["taskArns"]
    assert len(service_tasks) == 3

    # A standalone task: run, wait running, stop with a reason, wait stopped, read stopCode and reason.
    aws("register-task-definition", "--cli-input-json", f"file://{as_family(ONE_SHOT, one_shot, tmp_path)}")
    run = aws("run-task", "--cluster", cluster, "--task-definition", one_shot, "--started-by", "ci")
    assert run["failures"] == []
    task_arn = run["tasks"][0]["taskArn"]
    assert task_arn.startswith(f"arn:aws:ecs:us-east-1:000000000000:task/{cluster}/")
    aws("wait", "tasks-running", "--cluster", cluster, "--tasks", task_arn)
    assert aws("list-tasks", "--cluster", cluster, "--started-by", "ci")["taskArns"] == [task_arn]
    assert aws("list-tasks", "--cluster", cluster, "--family", one_shot)["taskArns"] == [task_arn]
    by_family = aws("list-tasks", "--cluster", cluster, "--family", blog)["taskArns"]
    by_deployment = aws("list-tasks", "--cluster", cluster, "--started-by", rolled["deployments"][0]["id"])
    assert sorted(by_family) == sorted(by_deployment["taskArns"]) == sorted(service_tasks)
    stopping = aws("stop-task", "--cluster", cluster, "--task", task_arn, "--reason", "done with it")["task"]
    assert stopping["desiredStatus"] == "STOPPED"
    aws("wait", "tasks-stopped", "--cluster", cluster, "--tasks", task_arn)
    stopped = aws("describe-tasks", "--cluster", cluster, "--tasks", task_arn)["tasks"][0]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "done with it",
    )
    assert stopped["group"] == f"family:{one_shot}"
    assert aws("list-tasks", "--cluster", cluster, "--desired-status", "STOPPED", "--started-by", "ci")[
        "taskArns"
    ] == [task_arn]
    # As in ECS, the service's tasks the rollout replaced are STOPPED tasks too, for an hour.
    every_stopped = aws("list-tasks", "--cluster", cluster, "--desired-status", "STOPPED")["taskArns"]
    replaced = [arn for arn in every_stopped if arn != task_arn]
    assert task_arn in every_stopped and len(replaced) >= 2
    described = aws("describe-tasks", "--cluster", cluster, "--tasks", *replaced)["tasks"]
    assert {(t["group"], t["lastStatus"]) for t in described} == {("service:ghost", "STOPPED")}

    # Deleting: the service needs --force while scaled up, goes DRAINING, then reads INACTIVE.
    refused = aws.run("delete-service", "--cluster", cluster, "--service", "ghost", check=False)
    assert refused.returncode != 0 and "InvalidParameterException" in refused.stderr
    assert "scaled above 0" in refused.stderr
    refused = aws.run("delete-cluster", "--cluster", cluster, check=False)
    assert "ClusterContainsServicesException" in refused.stderr
    draining = aws("delete-service", "--cluster", cluster, "--service", "ghost", "--force")["service"]
    assert draining["status"] == "DRAINING"
    aws("wait", "services-inactive", "--cluster", cluster, "--services", "ghost")
    inactive = aws("describe-services", "--cluster", cluster, "--services", "ghost")
    assert inactive["services"][0]["status"] == "INACTIVE" and inactive["failures"] == []
    deleted = aws("delete-cluster", "--cluster", cluster)["cluster"]
    assert deleted["status"] == "INACTIVE"
    wait_for(
        lambda: not kubectl("get", "ecscluster", cluster, "--ignore-not-found", "-o", "name").stdout.strip(),
        timeout=120,
        message=f"EcsCluster {cluster} gone",
    )
    # As in ECS, a deleted cluster stays describable as INACTIVE for a while (docs/ecs-api.md: minutes).
    after = aws("describe-clusters", "--clusters", cluster)
    assert [c["status"] for c in after["clusters"]] == ["INACTIVE"] and after["failures"] == []


EUREKA = EXAMPLES / "zorrofox__aws-ecs-cicd-springboot-eureka__taskdef.json"


@pytest.fixture
def second_instance(kubectl: Kubectl, api_cluster_name: str) -> Iterator[str]:
    name = f"ci2-{api_cluster_name}"
    labels = {"ecs.operator.dev/cluster": api_cluster_name, "ecs.operator.dev/capacity": "ec2"}
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(node_manifest(name, labels)))
    yield name
    kubectl("delete", "node", name, "--wait=false", "--ignore-not-found", check=False)


def test_draining_a_container_instance_moves_the_service_tasks(
    aws: Aws, api_cluster_name: str, second_instance: str, family: Families, tmp_path: Path
) -> None:
    cluster = api_cluster_name
    eureka, one_shot = family("eureka"), family("ecsftest-init-process")
    aws("create-cluster", "--cluster-name", cluster)
    aws("register-task-definition", "--cli-input-json", f"file://{as_family(EUREKA, eureka, tmp_path)}")
    aws("register-task-definition", "--cli-input-json", f"file://{as_family(ONE_SHOT, one_shot, tmp_path)}")
    aws(
        "create-service", "--cluster", cluster, "--service-name", "eureka", "--task-definition", eureka,
        "--desired-count", "1", "--launch-type", "EC2",
    )  # fmt: skip
    aws("wait", "services-stable", "--cluster", cluster, "--services", "eureka")
    (task_arn,) = aws("list-tasks", "--cluster", cluster, "--service-name", "eureka")["taskArns"]
    source = aws("describe-tasks", "--cluster", cluster, "--tasks", task_arn)["tasks"][0][
        "containerInstanceArn"
    ]
    instances = aws("list-container-instances", "--cluster", cluster)["containerInstanceArns"]
    assert source in instances and len(instances) == 2
    (target,) = [i for i in instances if i != source]
    # A standalone task on the drained instance is left to finish.
    standalone = aws(
        "start-task", "--cluster", cluster, "--task-definition", one_shot,
        "--container-instances", source,
    )["tasks"][0]["taskArn"]  # fmt: skip
    aws("wait", "tasks-running", "--cluster", cluster, "--tasks", standalone)

    drained = aws(
        "update-container-instances-state", "--cluster", cluster, "--container-instances", source,
        "--status", "DRAINING",
    )["containerInstances"][0]  # fmt: skip
    assert drained["status"] == "DRAINING"

    def moved() -> bool:
        arns = aws("list-tasks", "--cluster", cluster, "--service-name", "eureka")["taskArns"]
        tasks = aws("describe-tasks", "--cluster", cluster, "--tasks", *arns)["tasks"] if arns else []
        return bool(tasks) and all(
            t.get("containerInstanceArn") == target and t["lastStatus"] == "RUNNING" for t in tasks
        )

    wait_for(moved, timeout=120, message="the service's task running on the other container instance")
    aws("wait", "services-stable", "--cluster", cluster, "--services", "eureka")
    described = aws("describe-container-instances", "--cluster", cluster, "--container-instances", source)
    instance = described["containerInstances"][0]
    assert instance["status"] == "DRAINING"
    assert aws("list-tasks", "--cluster", cluster, "--container-instance", source)["taskArns"] == [standalone]
    assert aws("list-container-instances", "--cluster", cluster, "--status", "DRAINING")[
        "containerInstanceArns"
    ] == [source]

    aws(
        "update-container-instances-state",
        "--cluster",
        cluster,
        "--container-instances",
        source,
        "--status",
        "ACTIVE",
    )
    wait_for(
        lambda: (
            aws("describe-container-instances", "--cluster", cluster, "--container-instances", source)[
                "containerInstances"
            ][0]["status"]
            == "ACTIVE"
        ),
        timeout=60,
        message="the container instance ACTIVE again (uncordoned)",
    )
