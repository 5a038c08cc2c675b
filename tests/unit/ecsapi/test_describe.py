"""The pure conversions from custom resources to ECS's response shapes."""

from __future__ import annotations

from typing import Any

from ecs_operator import labels
from ecs_operator.ecsapi import describe
from ecs_operator.identifiers import Partition
from ecs_operator.revisions import INACTIVE, Revision

PARTITION = Partition("eu-west-1", "123456789012")


def service(
    generation: int = 1, observed: int | None = 1, spec: dict[str, Any] | None = None, **status: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "web", "generation": generation, "creationTimestamp": "2026-11-30T10:00:00Z"},
        "spec": {"serviceName": "web", "taskDefinition": "web:1", "desiredCount": 2, **(spec or {})},
        "status": {"observedGeneration": observed, **status},
    }
    return obj


def deployment(task_definition: str, state: str = "COMPLETED", status: str = "PRIMARY") -> dict[str, Any]:
    return {
        "id": f"ecs-svc/{task_definition}",
        "status": status,
        "taskDefinition": task_definition,
        "desiredCount": 2,
        "runningCount": 2,
        "rolloutState": state,
        "createdAt": "2026-11-30T10:00:01Z",
        "updatedAt": "2026-11-30T10:00:05Z",
    }


def test_epoch_reads_rfc3339_and_passes_numbers() -> None:
    assert describe.epoch("1970-01-01T00:01:00Z") == 60.0
    assert describe.epoch(12) == 12.0
    assert describe.epoch(None) is None and describe.epoch("not a time") is None


def test_a_stable_service_has_one_deployment_ecs_defaults_and_arns() -> None:
    obj = service(runningCount=2, deployments=[deployment("web:1")], status="ACTIVE")
    result = describe.service(obj, "prod", PARTITION, None)
    assert result["serviceArn"] == "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"
    assert result["taskDefinition"] == "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1"
    assert [d["id"] for d in result["deployments"]] == ["ecs-svc/web:1"]
    assert result["deployments"][0]["createdAt"] == describe.epoch("2026-11-30T10:00:01Z")
    assert result["deploymentConfiguration"] == {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    }
    assert (result["launchType"], result["schedulingStrategy"], result["propagateTags"]) == (
        "EC2",
        "REPLICA",
        "NONE",
    )
    assert result["deploymentController"] == {"type": "ECS"}


def test_a_new_revision_not_yet_rolled_out_shows_a_pending_primary() -> None:
    obj = service(generation=2, observed=1, runningCount=2, deployments=[deployment("web:1")])
    result = describe.service(obj, "prod", PARTITION, describe.Expected("ecs-svc/1234", "web:2"))
    assert [(d["status"], d["rolloutState"]) for d in result["deployments"]] == [
        ("PRIMARY", "IN_PROGRESS"),
        ("ACTIVE", "COMPLETED"),
    ]
    assert result["deployments"][0]["taskDefinition"].endswith("task-definition/web:2")
    assert result["deployments"][0]["id"] == "ecs-svc/1234"
    assert result["taskDefinition"].endswith("task-definition/web:2")


def test_a_scale_not_yet_observed_keeps_one_deployment_and_the_spec_count() -> None:
    obj = service(
        generation=2, observed=1, spec={"desiredCount": 5}, runningCount=2, deployments=[deployment("web:1")]
    )
    result = describe.service(obj, "prod", PARTITION, None)
    assert (len(result["deployments"]), result["desiredCount"], result["runningCount"]) == (1, 5, 2)


def test_a_rolled_back_service_reads_the_revision_it_runs_and_hides_the_failed_deployment() -> None:
    deployments = [deployment("web:1"), {**deployment("web:2", "FAILED", "INACTIVE")}]
    obj = service(
        generation=2, observed=2, spec={"taskDefinition": "web:2"}, runningCount=2, deployments=deployments
    )
    result = describe.service(obj, "prod", PARTITION, None)
    assert result["taskDefinition"].endswith("web:1")
    assert [d["status"] for d in result["deployments"]] == ["PRIMARY"]


def test_a_service_being_deleted_is_draining_with_no_desired_tasks() -> None:
    obj = service(runningCount=1, deployments=[deployment("web:1")])
    obj["metadata"]["deletionTimestamp"] = "2026-11-30T11:00:00Z"
    result = describe.service(obj, "prod", PARTITION, None)
    assert (result["status"], result["desiredCount"]) == ("DRAINING", 0)


def test_fargate_services_echo_platform_version_and_network_defaults() -> None:
    spec = {"launchType": "FARGATE", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s-1"]}}}
    result = describe.service(service(spec=spec), "prod", PARTITION, None)
    assert result["platformVersion"] == "LATEST"
    assert result["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["s-1"],
        "assignPublicIp": "DISABLED",
        "securityGroups": [],
    }


def test_task_definitions_echo_ecs_container_defaults() -> None:
    container = {"name": "app", "image": "nginx", "portMappings": [{"containerPort": 80}]}
    data = {
        "family": "web",
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [container],
    }
    result = describe.task_definition(
        Revision("web", 3, data, INACTIVE, "web-3", "2026-11-30T10:00:00Z"), PARTITION
    )
    container = result["containerDefinitions"][0]
    assert container["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    assert (container["cpu"], container["essential"], container["environment"]) == (0, True, [])
    assert (result["revision"], result["status"], result["compatibilities"]) == (
        3,
        "INACTIVE",
        ["EC2", "FARGATE"],
    )
    assert result["taskDefinitionArn"] == "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"


def test_a_container_instance_counts_resources_in_ecs_units() -> None:
    node = {
        "metadata": {"name": "n1", "uid": "u", "creationTimestamp": "2026-11-30T10:00:00Z", "labels": {}},
        "spec": {"unschedulable": True},
        "status": {
            "allocatable": {"cpu": "4", "memory": "16Gi"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }

    def pod(phase: str, **requests: str) -> dict[str, Any]:
        return {"spec": {"containers": [{"resources": {"requests": requests}}]}, "status": {"phase": phase}}

    pods = [pod("Running", cpu="31m", memory="64Mi"), pod("Pending", cpu="500m"), pod("Succeeded", cpu="1")]
    result = describe.container_instance(node, "prod", PARTITION, pods, "abc")
    remaining = {r["name"]: r["integerValue"] for r in result["remainingResources"]}
    assert remaining["CPU"] == 4096 - 32 - 512 and remaining["MEMORY"] == 16384 - 64
    assert (result["status"], result["runningTasksCount"], result["pendingTasksCount"]) == ("DRAINING", 1, 1)
    assert result["agentConnected"] is True


def test_an_annotated_node_drains_and_a_plain_one_is_active() -> None:
    annotated = {"metadata": {"annotations": {labels.INSTANCE_DESIRED_STATUS: "DRAINING"}}, "spec": {}}
    assert describe.instance_status(annotated) == "DRAINING"
    assert describe.instance_status({"metadata": {}, "spec": {}}) == "ACTIVE"
