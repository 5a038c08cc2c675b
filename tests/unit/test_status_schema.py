"""Every status a controller writes is one the CRD's published status schema describes.

The controllers' plan tests check each status they produce (tests/unit/controllers/helpers.py `after`);
here the fullest statuses each writer makes: records of stopped tasks and deleted services, draining,
EXTERNAL services, deleted task definition revisions.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ecs_operator.revisions import ACTIVE, DELETE_IN_PROGRESS, INACTIVE, Revision
from ecs_operator.status.cluster import ClusterCounts, cluster_status
from ecs_operator.status.deployments import RevisionView, WorkloadView
from ecs_operator.status.problems import spec_error
from ecs_operator.status.service import ServiceInputs, draining_status, external_status, service_status
from ecs_operator.status.task import TaskInputs, task_status
from ecs_operator.status.taskdefinition import task_definition_status

from tests.unit.status_schema import assert_matches_crd, problems, status_schema

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:05:00Z"
ARN = "arn:aws:ecs:us-east-1:000000000000:task/demo/"


def pod(name: str, phase: str = "Running", **annotations: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "creationTimestamp": NOW,
            "annotations": annotations,
        },
        "spec": {"nodeName": "node-1"},
        "status": {
            "phase": phase,
            "startTime": NOW,
            "containerStatuses": [
                {
                    "name": "app",
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": 1, "reason": "Error"}}
                    if phase == "Failed"
                    else {"running": {"startedAt": NOW}},
                }
            ],
        },
    }


def task_arn(p: Any) -> str:
    return ARN + str(p["metadata"]["uid"])


def service_inputs(**kw: Any) -> ServiceInputs:
    view = RevisionView("ecs-svc/1", "web:1", 2, (pod("a"), pod("b")), NOW, primary=True, key="k1")
    base: dict[str, Any] = {
        "name": "web",
        "generation": 1,
        "desired_count": 2,
        "target_task_definition": "web:1",
        "circuit_breaker": True,
        "rollback": True,
        "workload": WorkloadView((view,), settled=True, deadline_exceeded=False, desired=2),
        "previous": {"taskNames": ["gone-1"]},
        "selector": "ecs.operator.dev/service=web",
        "gone": (pod("gone-1", "Failed", **{"ecs.operator.dev/deployment-id": "ecs-svc/1"}),),
        "essential": frozenset({"app"}),
        "task_arn": task_arn,
    }
    base.update(kw)
    return ServiceInputs(**base)


def test_the_check_finds_undeclared_members_wrong_types_and_values_at_any_depth() -> None:
    schema = status_schema("EcsService")
    assert problems({"surprise": 1}, schema) == ["status.surprise: not in the CRD's schema"]
    assert problems({"runningCount": "3"}, schema) == [
        "status.runningCount: str where the schema says integer"
    ]
    assert problems({"runningCount": True}, schema) == [
        "status.runningCount: bool where the schema says integer"
    ]
    assert problems({"deployments": [{"status": "PRIMARY"}, {"status": "LATEST"}]}, schema) == [
        "status.deployments[1].status: 'LATEST' not one of ['PRIMARY', 'ACTIVE', 'INACTIVE']"
    ]
    assert problems({"conditions": [{"type": "Ready"}]}, schema) == ["status.conditions[0].status: required"]
    with pytest.raises(AssertionError, match=re.escape("status.deployments[0].extra")):
        assert_matches_crd("EcsService", {"deployments": [{"extra": 1}]})


def test_a_service_with_stopped_task_records_matches_its_crd() -> None:
    status = service_status(service_inputs(), LATER).status
    (record,) = status["stoppedTasks"]
    assert record["lastStatus"] == "STOPPED" and record["startedBy"] == "ecs-svc/1"
    assert record["taskArn"] == ARN + "uid-gone-1" and record["node"] == "node-1"
    assert status["deployments"][0]["templateKey"] == "k1"
    assert_matches_crd("EcsService", status)


def test_a_draining_service_and_an_external_one_match_their_crd() -> None:
    draining = draining_status(
        "web", {"taskNames": ["a"]}, 2, [pod("a")], LATER, gone=(pod("b"),), task_arn=task_arn
    )
    assert draining["status"] == "DRAINING" and draining["stoppedTasks"][0]["podName"] == "b"
    assert_matches_crd("EcsService", draining)
    external = external_status(
        "web", {}, 1, {"desiredCount": 2, "deploymentController": {"type": "EXTERNAL"}}, NOW
    )
    assert_matches_crd("EcsService", external)


def test_a_cluster_remembering_a_deleted_service_matches_its_crd() -> None:
    deleted = {
        "metadata": {"name": "web", "uid": "uid-web", "creationTimestamp": NOW},
        "spec": {"serviceName": "web", "desiredCount": 2, "tags": [{"key": "team", "value": "a"}]},
        "status": service_status(service_inputs(), LATER).status,
    }
    counts = ClusterCounts(1, 2, 0, 1, 0)
    status = cluster_status({}, 1, "demo", True, counts, False, LATER, deleted_services=[deleted])
    (record,) = status["inactiveServices"]
    assert record["metadata"]["uid"] == "uid-web" and record["status"]["stoppedTasks"]
    assert_matches_crd("EcsCluster", status)
    refused = cluster_status(status, 2, "demo", True, counts, True, LATER)
    assert refused["status"] == "DEPROVISIONING"
    assert_matches_crd("EcsCluster", refused)


def test_tasks_running_stopped_by_the_user_and_gone_match_their_crd() -> None:
    status, _ = task_status(
        TaskInputs(
            cluster="demo",
            generation=1,
            previous={"tasks": [{"podName": "gone", "taskArn": ARN + "uid-gone", "lastStatus": "RUNNING"}]},
            pods={"run-1": pod("run-1"), "run-2": pod("run-2", "Failed"), "gone": None},
            essential=frozenset({"app"}),
            user_stopped=False,
            task_definition="web:1",
            stop_reasons={"run-1": "done"},
        ),
        LATER,
    )
    assert {t["podName"] for t in status["tasks"]} == {"run-1", "run-2", "gone"}
    assert_matches_crd("EcsTask", status)


def test_a_family_with_revisions_in_every_state_matches_its_crd() -> None:
    revisions = [
        Revision("web", 1, {"family": "web"}, DELETE_IN_PROGRESS, "web-1"),
        Revision("web", 2, {"family": "web"}, INACTIVE, "web-2"),
        Revision("web", 3, {"family": "web"}, ACTIVE, "web-3"),
    ]
    status = task_definition_status({}, 4, "web", revisions, NOW)
    assert status["deleteInProgressRevisions"] == [1] and status["latestRevision"] == 3
    assert_matches_crd("EcsTaskDefinition", status)


@pytest.mark.parametrize("kind", ["EcsCluster", "EcsService", "EcsTask", "EcsTaskDefinition"])
def test_a_spec_error_keeps_a_status_its_crd_describes(kind: str) -> None:
    status, _ = spec_error({"observedGeneration": 1}, 2, "InvalidSpec", "spec.x: bad", NOW)
    assert_matches_crd(kind, status)
