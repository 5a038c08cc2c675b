"""The desired state the ECS API writes, reconciled: one task of a multi-task EcsTask or of a service
stopped with its reason, a forced new deployment, a container instance drained and activated again."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ecs_operator import labels
from ecs_operator.controllers.container_instance import InstanceSnapshot, reconcile_container_instance
from ecs_operator.controllers.gather import ClusterInfo
from ecs_operator.controllers.service import ServiceSnapshot, reconcile_service
from ecs_operator.controllers.task import TaskSnapshot, reconcile_task
from ecs_operator.plans.container_instance import ServiceView
from ecs_operator.runtime import Deletion, Patch

from tests.unit.controllers.helpers import NOW, body, live, revision


def running(pods: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    for (kind, _), pod in pods.items():
        if kind == "Pod":
            pod["status"] = {
                "phase": "Running",
                "containerStatuses": [{"name": "app", "state": {"running": {}}}],
                "startTime": NOW,
            }
    return pods


def stop_request(obj: dict[str, Any], **reasons: str) -> dict[str, Any]:
    obj["metadata"]["annotations"] = {labels.STOP_TASKS: json.dumps(reasons)}
    return obj


def test_one_task_of_a_multi_task_ecstask_stops_with_the_callers_reason() -> None:
    task = body("EcsTask", "job", {"taskDefinition": "web", "count": 2})
    first = reconcile_task(("demo", "job"), TaskSnapshot(NOW, task, ClusterInfo("demo", None), [revision(1)]))
    assert first is not None
    pods = running(live(first.apply))
    stopped_id = pods[("Pod", "job-1")]["metadata"]["uid"].replace("-", "")
    asked = stop_request(task, **{stopped_id: "scale in"})
    plan = reconcile_task(
        ("demo", "job"), TaskSnapshot(NOW, asked, ClusterInfo("demo", None), [revision(1)], children=pods)
    )
    assert plan is not None
    assert plan.delete == (Deletion("Pod", "demo", "job-1"),)
    assert plan.patches == (
        Patch(
            "Pod",
            "demo",
            "job-1",
            {
                "metadata": {
                    "annotations": {labels.STOP_CODE: "UserInitiated", labels.STOPPED_REASON: "scale in"}
                }
            },
        ),
    )
    assert plan.status is not None
    entries = {t["podName"]: t for t in plan.status["tasks"]}
    assert (entries["job-0"]["lastStatus"], entries["job-0"]["desiredStatus"]) == ("RUNNING", "RUNNING")
    assert entries["job-1"]["desiredStatus"] == "STOPPED"

    gone = dict(pods)
    del gone[("Pod", "job-1")]
    done = reconcile_task(
        ("demo", "job"),
        TaskSnapshot(
            NOW, {**asked, "status": plan.status}, ClusterInfo("demo", None), [revision(1)], children=gone
        ),
    )
    assert done is not None and done.status is not None
    stopped = {t["podName"]: t for t in done.status["tasks"]}["job-1"]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "scale in",
    )


def service_snapshot(service: dict[str, Any], **changes: Any) -> ServiceSnapshot:
    return replace(ServiceSnapshot(NOW, service, ClusterInfo("demo", None), [revision(1)]), **changes)


def test_a_service_task_asked_to_stop_is_marked_then_deleted() -> None:
    service = body("EcsService", "web", {"taskDefinition": "web", "desiredCount": 1})
    service["metadata"]["finalizers"] = [labels.DRAIN_FINALIZER]
    first = reconcile_service(("demo", "web"), service_snapshot(service))
    assert first is not None
    children = live(first.apply)
    pod = {
        "kind": "Pod",
        "metadata": {"name": "web-abc", "uid": "u-1", "labels": {}},
        "status": {"phase": "Running"},
    }
    asked = stop_request(service, **{"u1": "replaced by hand"})
    plan = reconcile_service(("demo", "web"), service_snapshot(asked, children=children, pods=[pod]))
    assert plan is not None and not plan.apply
    assert Deletion("Pod", "demo", "web-abc") in plan.delete
    assert [p.patch["metadata"]["annotations"][labels.STOPPED_REASON] for p in plan.patches] == [
        "replaced by hand"
    ]


def test_force_new_deployment_changes_the_pod_template() -> None:
    service = body("EcsService", "web", {"taskDefinition": "web", "desiredCount": 1})
    first = reconcile_service(("demo", "web"), service_snapshot(service))
    assert first is not None
    forced = body("EcsService", "web", {"taskDefinition": "web", "desiredCount": 1})
    forced["metadata"]["annotations"] = {labels.FORCE_NEW_DEPLOYMENT: "token-1"}
    plan = reconcile_service(("demo", "web"), service_snapshot(forced, children=live(first.apply)))
    assert plan is not None
    (deployment,) = [o for o in plan.apply if o["kind"] == "Deployment"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations[labels.FORCE_NEW_DEPLOYMENT] == "token-1"


def node(status: str | None, cordoned: bool = False) -> dict[str, Any]:
    annotations = {labels.INSTANCE_DESIRED_STATUS: status} if status else {}
    return {
        "kind": "Node",
        "metadata": {"name": "n1", "annotations": annotations},
        "spec": {"unschedulable": cordoned},
    }


def task_pod(name: str, service: str | None) -> dict[str, Any]:
    owner = {labels.SERVICE: service} if service else {labels.TASK: "job"}
    return {"metadata": {"name": name, "namespace": "demo", "labels": owner}, "status": {"phase": "Running"}}


def test_draining_cordons_and_stops_service_tasks_within_the_budget() -> None:
    pods = [task_pod("web-a", "web"), task_pod("web-b", "web"), task_pod("job-0", None)]
    snapshot = InstanceSnapshot(node("DRAINING"), pods, {"web": ServiceView(2, 100, 200, 2, 0)})
    plan = reconcile_container_instance(("", "n1"), snapshot)
    assert plan is not None
    assert plan.patches[0] == Patch("Node", "", "n1", {"spec": {"unschedulable": True}})
    assert plan.delete == (Deletion("Pod", "demo", "web-a"),)
    assert plan.requeue_after is not None


def test_a_drained_instance_keeps_its_daemon_and_standalone_tasks_without_polling() -> None:
    pods = [task_pod("agent-a", "agent"), task_pod("job-0", None)]  # gather leaves DAEMON services out
    plan = reconcile_container_instance(
        ("", "n1"), InstanceSnapshot(node("DRAINING", cordoned=True), pods, {})
    )
    assert plan is not None and plan.writes_nothing and plan.requeue_after is None


def test_activating_uncordons_and_a_plain_node_is_left_alone() -> None:
    plan = reconcile_container_instance(("", "n1"), InstanceSnapshot(node("ACTIVE", cordoned=True)))
    assert plan is not None and plan.patches == (Patch("Node", "", "n1", {"spec": {"unschedulable": False}}),)
    untouched = reconcile_container_instance(("", "n1"), InstanceSnapshot(node(None, cordoned=True)))
    assert untouched is not None and untouched.writes_nothing
