"""EcsTask (RunTask): the ECS task lifecycle, essential containers, stopping, and placement by launch type."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator import labels

from tests.integration.operator_helpers import Cluster, run_task, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.operator_fixtures"]
pytestmark = pytest.mark.integration

FAIL_EXIT_CODE = labels.KWOK_FAIL_EXIT_CODE_ANNOTATION
FAIL_CONTAINER = labels.KWOK_FAIL_CONTAINER_ANNOTATION


def tasks(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    return list(cluster.status("ecstask", name).get("tasks") or [])


def crd_accepts_spec_desired_status(cluster: Cluster) -> bool:
    crd = cluster.get("crd", "ecstasks.ecs.operator.dev", namespaced=False) or {}
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return "desiredStatus" in schema["properties"]["spec"].get("properties", {})


def test_task_runs_then_stops_when_desired_status_is_stopped(ecs_cluster: Cluster) -> None:
    if not crd_accepts_spec_desired_status(ecs_cluster):
        pytest.skip("the EcsTask CRD has no spec.desiredStatus yet (the API server prunes it)")
    ecs_cluster.apply(
        task_definition(ecs_cluster.family("job")), run_task("job", ecs_cluster.family("job"), count=2)
    )
    ready = ecs_cluster.wait_condition("ecstask", "job", "Ready")
    assert ready["reason"] == "Running"
    entries = tasks(ecs_cluster, "job")
    assert sorted(e["podName"] for e in entries) == ["job-0", "job-1"]
    assert {(e["lastStatus"], e["desiredStatus"]) for e in entries} == {("RUNNING", "RUNNING")}
    assert all(e["taskArn"].startswith("arn:aws:ecs:") for e in entries)
    pod = ecs_cluster.get("pod", "job-0")
    assert pod is not None and pod["spec"]["restartPolicy"] == "Never"

    ecs_cluster.kubectl(
        "patch",
        "ecstask",
        "job",
        "-n",
        ecs_cluster.namespace,
        "--type=merge",
        "-p",
        '{"spec":{"desiredStatus":"STOPPED"}}',
    )

    def stopped_by_user() -> bool:
        entries = tasks(ecs_cluster, "job")
        return len(entries) == 2 and all(
            (e["lastStatus"], e.get("stopCode"), e.get("stoppedReason"))
            == ("STOPPED", "UserInitiated", "Task stopped by user")
            for e in entries
        )

    wait_for(stopped_by_user, timeout=90, message="tasks STOPPED by the user")
    wait_for(lambda: ecs_cluster.get("pod", "job-0") is None, timeout=60, message="pods removed")
    assert ecs_cluster.condition("ecstask", "job", "Ready")["reason"] == "Stopped"


def test_an_essential_container_exit_stops_the_task(ecs_cluster: Cluster) -> None:
    crash = ecs_cluster.family("crash")
    taskdef = task_definition(crash)
    app = taskdef["spec"]["containerDefinitions"][0]
    app["dockerLabels"] = {FAIL_EXIT_CODE: "3", FAIL_CONTAINER: "app"}
    sidecar = {"name": "sidecar", "image": "busybox:1.36", "essential": False, "memory": 64}
    taskdef["spec"]["containerDefinitions"].append(sidecar)
    ecs_cluster.apply(taskdef, run_task("crash", crash))
    ecs_cluster.wait_condition("ecstask", "crash", "Degraded")
    # The Pod may be seen Failed before kwok has written every container status; the message settles.
    wait_for(
        lambda: "app exited with code 3" in ecs_cluster.condition("ecstask", "crash", "Degraded")["message"],
        timeout=30,
        message="Degraded names the exit of the essential container",
    )
    assert ecs_cluster.condition("ecstask", "crash", "Degraded")["reason"] == "TaskFailed"
    wait_for(lambda: tasks(ecs_cluster, "crash")[0]["lastStatus"] == "STOPPED", timeout=60, message="STOPPED")
    entry = tasks(ecs_cluster, "crash")[0]
    assert entry["stopCode"] == "EssentialContainerExited"
    assert entry["stoppedReason"] == "Essential container in task exited"
    exit_codes = {c["name"]: c.get("exitCode") for c in entry["containers"]}
    assert exit_codes["app"] == 3
    # The sidecar kept running, so the operator stopped the whole task (its Pod).
    wait_for(lambda: ecs_cluster.get("pod", "crash-0") is None, timeout=60, message="task pod removed")


def test_a_task_that_cannot_be_placed_is_pending_with_a_reason(ecs_cluster: Cluster) -> None:
    constraint = {"type": "memberOf", "expression": "attribute:ecs.instance-type == p5.48xlarge"}
    big = ecs_cluster.family("big")
    ecs_cluster.apply(
        task_definition(big), run_task("big", big, launchType="EC2", placementConstraints=[constraint])
    )
    degraded = ecs_cluster.wait_condition("ecstask", "big", "Degraded")
    assert degraded["reason"] == "Unschedulable"
    assert "cannot be placed" in degraded["message"] and ecs_cluster.name in degraded["message"]
    entry = tasks(ecs_cluster, "big")[0]
    assert entry["lastStatus"] == "PENDING"
    assert "Unschedulable" in entry["pendingReason"]
    assert any("Unschedulable" in e for e in ecs_cluster.k8s_events("big"))


def test_launch_types_place_tasks_on_container_instances_or_the_fargate_pool(ecs_cluster: Cluster) -> None:
    onec2, serverless = ecs_cluster.family("onec2"), ecs_cluster.family("serverless")
    fargate = task_definition(
        serverless, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512"
    )
    ecs_cluster.apply(
        task_definition(onec2),
        fargate,
        run_task("onec2", onec2, launchType="EC2"),
        run_task("serverless", serverless, launchType="FARGATE"),
    )
    ecs_cluster.wait_condition("ecstask", "onec2", "Ready")
    ecs_cluster.wait_condition("ecstask", "serverless", "Ready")
    ec2_node = ecs_cluster.get("pod", "onec2-0")["spec"]["nodeName"]  # type: ignore[index]
    fargate_node = ecs_cluster.get("pod", "serverless-0")["spec"]["nodeName"]  # type: ignore[index]
    node_labels = lambda name: ecs_cluster.get("node", name, namespaced=False)["metadata"]["labels"]  # type: ignore[index]  # noqa: E731
    assert node_labels(ec2_node)["ecs.operator.dev/cluster"] == ecs_cluster.name
    assert node_labels(fargate_node)["ecs.operator.dev/capacity"] == "fargate"


def test_a_task_whose_essential_container_exits_zero_is_completed(ecs_cluster: Cluster) -> None:
    once = ecs_cluster.family("once")
    taskdef = task_definition(once)
    taskdef["spec"]["containerDefinitions"][0]["dockerLabels"] = {FAIL_EXIT_CODE: "0"}
    ecs_cluster.apply(taskdef, run_task("once", once))
    wait_for(
        lambda: ecs_cluster.condition("ecstask", "once", "Ready").get("reason") == "Completed",
        timeout=90,
        message="task Completed",
    )
    entry = tasks(ecs_cluster, "once")[0]
    assert (entry["lastStatus"], entry["stopCode"]) == ("STOPPED", "EssentialContainerExited")
    assert entry["containers"][0]["exitCode"] == 0
    assert not ecs_cluster.is_true("ecstask", "once", "Degraded")
