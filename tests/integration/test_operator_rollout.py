"""The deployment circuit breaker: a revision whose tasks keep failing (kwok's failure stage) fails the
rollout; with rollback the last COMPLETED revision comes back."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator import labels

from tests.integration.operator_helpers import Cluster, service, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.operator_fixtures"]
pytestmark = pytest.mark.integration

FAIL_EXIT_CODE = labels.KWOK_FAIL_EXIT_CODE_ANNOTATION


def failing(family: str) -> dict[str, Any]:
    taskdef = task_definition(family, image="nginx:broken")
    taskdef["spec"]["containerDefinitions"][0]["dockerLabels"] = {FAIL_EXIT_CODE: "1"}
    return taskdef


def breaker(rollback: bool) -> dict[str, Any]:
    return {"deploymentCircuitBreaker": {"enable": True, "rollback": rollback}}


def deployment(cluster: Cluster, name: str, task_def: str) -> dict[str, Any]:
    for entry in cluster.status("ecsservice", name).get("deployments") or ():
        if entry.get("taskDefinition") == task_def:
            return dict(entry)
    return {}


def test_failing_revision_is_rolled_back_to_the_last_completed_one(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(
        task_definition(web), service("web", web, desired=3, deploymentConfiguration=breaker(True))
    )
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")
    ecs_cluster.apply(failing(web))

    wait_for(
        lambda: deployment(ecs_cluster, "web", f"{web}:2").get("rolloutState") == "FAILED",
        timeout=120,
        message=f"rollout of {web}:2 FAILED",
    )
    failed = deployment(ecs_cluster, "web", f"{web}:2")
    assert failed["failedTasks"] >= 3
    assert "circuit breaker" in failed["rolloutStateReason"]
    wait_for(
        lambda: (
            ecs_cluster.status("ecsservice", "web").get("taskDefinition") == f"{web}:1"
            and ecs_cluster.is_true("ecsservice", "web", "Ready")
        ),
        timeout=120,
        message=f"rolled back to {web}:1 and steady",
    )
    messages = [e["message"] for e in ecs_cluster.status("ecsservice", "web")["events"]]
    assert any("deployment failed" in m and f"rolling back to taskDefinition {web}:1" in m for m in messages)
    assert any(e.startswith("DeploymentFailed:") for e in ecs_cluster.k8s_events("web"))
    template = ecs_cluster.get("deployment", "web")["spec"]["template"]  # type: ignore[index]
    assert template["spec"]["containers"][0]["image"] == "nginx:1.27"
    # The rollback sticks: the failed revision is not retried by later reconciles.
    ecs_cluster.kubectl("scale", "-n", ecs_cluster.namespace, "ecsservice", "web", "--replicas", "2")
    wait_for(
        lambda: (
            ecs_cluster.status("ecsservice", "web").get("runningCount") == 2
            and ecs_cluster.is_true("ecsservice", "web", "Ready")
        ),
        timeout=90,
        message=f"scaled on {web}:1",
    )
    assert ecs_cluster.status("ecsservice", "web")["taskDefinition"] == f"{web}:1"


def test_without_rollback_a_failed_rollout_is_degraded(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(
        task_definition(web), service("web", web, desired=2, deploymentConfiguration=breaker(False))
    )
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")
    ecs_cluster.apply(failing(web))
    degraded = ecs_cluster.wait_condition("ecsservice", "web", "Degraded", timeout=120)
    assert degraded["reason"] == "RolloutFailed"
    assert not ecs_cluster.is_true("ecsservice", "web", "Ready")
    assert (
        ecs_cluster.get("deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
        == "nginx:broken"
    )  # type: ignore[index]
