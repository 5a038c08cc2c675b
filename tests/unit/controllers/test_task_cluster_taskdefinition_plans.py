"""One pass of a task, a cluster and a task definition, planned in pure code."""

from dataclasses import replace
from typing import Any

import pytest
from ecs_operator import labels
from ecs_operator.account import account_namespace, account_namespace_object
from ecs_operator.controllers.cluster import ClusterSnapshot, reconcile_cluster
from ecs_operator.controllers.gather import ClusterInfo
from ecs_operator.controllers.task import TaskSnapshot, reconcile_task
from ecs_operator.controllers.taskdefinition import TaskDefinitionSnapshot, reconcile_task_definition
from ecs_operator.status.cluster import ClusterCounts

from tests.unit.controllers.helpers import NOW, TASK_DEFINITION, after, body, kinds, live, revision

# --- EcsTask ------------------------------------------------------------------------------------------


def task(**spec: Any) -> dict[str, Any]:
    return body("EcsTask", "job", {"taskDefinition": "web", "count": 2, **spec})


def task_snapshot(resource: dict[str, Any] | None, **changes: Any) -> TaskSnapshot:
    return replace(TaskSnapshot(NOW, resource, ClusterInfo("demo", None), [revision(1)]), **changes)


def with_container(
    pods: dict[tuple[str, str], dict[str, Any]], name: str, state: dict[str, Any], phase: str
) -> None:
    pod = pods[("Pod", name)]
    pod["status"] = {"phase": phase, "containerStatuses": [{"name": "app", "state": state}], "startTime": NOW}


def test_a_task_creates_its_pods_once_and_reports_them_on_the_next_pass() -> None:
    plan = reconcile_task(("demo", "job"), task_snapshot(task()))
    assert plan is not None and kinds(plan.apply) == ["Pod", "Pod"] and plan.status is None
    pods = live(plan.apply)
    for name in ("job-0", "job-1"):
        with_container(pods, name, {"running": {}}, "Running")
    running = reconcile_task(("demo", "job"), task_snapshot(task(), children=pods))
    assert running is not None and not running.apply and running.status is not None
    assert [t["lastStatus"] for t in running.status["tasks"]] == ["RUNNING", "RUNNING"]
    assert running.status["taskDefinition"] == "web:1"
    assert running.events == (), "a task starting is routine: its status says it, no Event"
    pod = plan.apply[0]
    assert pod["metadata"]["annotations"][labels.TASK_DEFINITION_ANNOTATION] == "web:1"
    assert pod["spec"]["restartPolicy"] == "Never"


def test_the_first_status_waits_for_the_tasks_to_run() -> None:
    created = task(count=1)
    created["metadata"]["creationTimestamp"] = "2026-11-30T11:59:58Z"
    first = reconcile_task(("demo", "job"), task_snapshot(created))
    assert first is not None
    pending = live(first.apply)
    pending[("Pod", "job-0")]["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}
    waiting = reconcile_task(("demo", "job"), task_snapshot(created, children=pending))
    assert waiting is not None and waiting.writes_nothing and waiting.requeue_after == 28.0
    running = live(first.apply)
    with_container(running, "job-0", {"running": {}}, "Running")
    at_once = reconcile_task(("demo", "job"), task_snapshot(created, children=running))
    assert at_once is not None and at_once.status is not None
    assert at_once.status["tasks"][0]["lastStatus"] == "RUNNING"
    later = reconcile_task(
        ("demo", "job"), task_snapshot(created, children=pending, now="2026-11-30T12:00:28Z")
    )
    assert later is not None and later.status is not None
    assert later.status["tasks"][0]["lastStatus"] == "PENDING"


@pytest.mark.parametrize(
    ("waiting", "reported"),
    [
        ("ContainerCreating", False),
        ("PodInitializing", False),
        ("ErrImagePull", True),
        ("ImagePullBackOff", True),
    ],
)
def test_a_task_starting_with_a_problem_is_reported_at_once(waiting: str, reported: bool) -> None:
    created = task(count=1)
    created["metadata"]["creationTimestamp"] = "2026-11-30T11:59:58Z"
    first = reconcile_task(("demo", "job"), task_snapshot(created))
    assert first is not None
    pods = live(first.apply)
    with_container(pods, "job-0", {"waiting": {"reason": waiting}}, "Pending")
    plan = reconcile_task(("demo", "job"), task_snapshot(created, children=pods))
    assert plan is not None
    assert (plan.status is not None) is reported
    if reported:
        assert plan.status is not None
        assert plan.status["tasks"][0]["containers"][0]["reason"] == waiting


def test_a_stopped_task_is_never_started_again() -> None:
    stopped = task(count=1)
    stopped["status"] = {
        "tasks": [{"podName": "job-0", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited"}]
    }
    plan = reconcile_task(("demo", "job"), task_snapshot(stopped))
    assert plan is not None and not plan.apply
    assert plan.status is not None and plan.status["tasks"][0]["lastStatus"] == "STOPPED"


def test_desired_status_stopped_stops_every_task_as_the_user() -> None:
    first = reconcile_task(("demo", "job"), task_snapshot(task()))
    assert first is not None
    pods = live(first.apply)
    for name in ("job-0", "job-1"):
        with_container(pods, name, {"running": {}}, "Running")
    plan = reconcile_task(("demo", "job"), task_snapshot(task(desiredStatus="STOPPED"), children=pods))
    assert plan is not None and plan.status is not None
    assert sorted(d.name for d in plan.delete) == ["job-0", "job-1"]
    assert {t["desiredStatus"] for t in plan.status["tasks"]} == {"STOPPED"}


def test_an_essential_container_that_exits_stops_the_task() -> None:
    first = reconcile_task(("demo", "job"), task_snapshot(task(count=1)))
    assert first is not None
    pods = live(first.apply)
    with_container(pods, "job-0", {"terminated": {"exitCode": 3}}, "Running")
    # A sidecar still runs, so stopping the task means deleting its Pod.
    pods[("Pod", "job-0")]["status"]["containerStatuses"].append({"name": "log", "state": {"running": {}}})
    plan = reconcile_task(("demo", "job"), task_snapshot(task(count=1), children=pods))
    assert plan is not None and plan.status is not None
    assert [d.name for d in plan.delete] == ["job-0"]
    entry = plan.status["tasks"][0]
    assert entry["stopCode"] == "EssentialContainerExited" and entry["containers"][0]["exitCode"] == 3


def test_a_task_of_an_unknown_task_definition_is_degraded() -> None:
    plan = reconcile_task(("demo", "job"), task_snapshot(task(taskDefinition="nope")))
    assert plan is not None and not plan.apply and plan.status is not None
    assert plan.status["conditions"][2]["reason"] == "TaskDefinitionNotFound"


def test_task_translation_warnings_are_reported_in_status_and_once_as_an_event() -> None:
    network = {"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}}
    first = reconcile_task(("demo", "job"), task_snapshot(task(count=1, **network)))
    assert first is not None
    pods = live(first.apply)
    with_container(pods, "job-0", {"running": {}}, "Running")
    plan = reconcile_task(("demo", "job"), task_snapshot(task(count=1, **network), children=pods))
    assert plan is not None and plan.status is not None
    assert plan.status["notMapped"] == [
        "networkConfiguration: subnets, security groups and public IPs have no pod equivalent "
        "(use NetworkPolicy); ignored"
    ]
    assert "NotMapped" in [e.reason for e in plan.events]
    again = reconcile_task(("demo", "job"), task_snapshot(after(plan), children=pods))
    assert again is not None and "NotMapped" not in [e.reason for e in again.events]


# --- EcsCluster ---------------------------------------------------------------------------------------


def cluster(**spec: Any) -> dict[str, Any]:
    return body("EcsCluster", "demo", {"clusterName": "demo", **spec}, namespace="")


COUNTS = ClusterCounts(
    container_instances=2, running_tasks=3, pending_tasks=1, active_services=1, standalone_tasks=0
)


def cluster_snapshot(resource: dict[str, Any], **changes: Any) -> ClusterSnapshot:
    return replace(ClusterSnapshot(NOW, resource, "demo", {}, COUNTS), **changes)


def test_a_cluster_gets_its_namespace_then_reports_its_counts() -> None:
    plan = reconcile_cluster(("", "demo"), cluster_snapshot(cluster()))
    assert plan is not None and kinds(plan.apply) == ["Namespace"]
    assert plan.finalizers == (labels.CLUSTER_PROTECTION_FINALIZER,)
    namespaces = live(plan.apply, phase="Active")
    counted = reconcile_cluster(("", "demo"), cluster_snapshot(after(plan), children=namespaces))
    assert counted is not None and not counted.apply and counted.status is not None
    status = counted.status
    assert (status["status"], status["registeredContainerInstancesCount"], status["runningTasksCount"]) == (
        "ACTIVE",
        2,
        3,
    )
    assert (status["pendingTasksCount"], status["activeServicesCount"]) == (1, 1)
    assert status["conditions"][0]["status"] == "True"


def test_deleting_a_cluster_with_services_is_refused_once_then_allowed_when_they_are_gone() -> None:
    deleting = cluster()
    deleting["metadata"].update(deletionTimestamp=NOW, finalizers=[labels.CLUSTER_PROTECTION_FINALIZER])
    refused = reconcile_cluster(("", "demo"), cluster_snapshot(deleting))
    assert refused is not None and refused.status is not None and refused.finalizers is None
    assert refused.status["status"] == "DEPROVISIONING"
    assert [e.reason for e in refused.events] == ["DeletionRefused"]
    again = reconcile_cluster(("", "demo"), cluster_snapshot(after(refused)))
    assert again is not None and again.events == ()
    empty = ClusterCounts(2, 0, 0, 0, 0)
    allowed = reconcile_cluster(("", "demo"), cluster_snapshot(after(refused), counts=empty))
    assert allowed is not None and allowed.finalizers == ()


def test_cluster_translation_warnings_are_not_dropped() -> None:
    insights = cluster(settings=[{"name": "containerInsights", "value": "enabled"}])
    first = reconcile_cluster(("", "demo"), cluster_snapshot(insights))
    assert first is not None
    plan = reconcile_cluster(
        ("", "demo"), cluster_snapshot(after(first), children=live(first.apply, phase="Active"))
    )
    assert plan is not None and plan.status is not None
    assert plan.status["notMapped"][0].startswith("settings[0].value: Container Insights")
    assert [e.reason for e in plan.events] == ["NotMapped"]


# --- EcsTaskDefinition --------------------------------------------------------------------------------


def task_definition(spec: dict[str, Any] = TASK_DEFINITION, **annotations: str) -> dict[str, Any]:
    return body("EcsTaskDefinition", "web", spec, namespace="", annotations=annotations)


ACCOUNT = account_namespace_object(account_namespace())


def td_snapshot(
    obj: dict[str, Any], revisions: dict[tuple[str, str], dict[str, Any]] | None = None
) -> TaskDefinitionSnapshot:
    """A task definition's snapshot, its account namespace present."""
    return TaskDefinitionSnapshot(NOW, obj, revisions or {}, ACCOUNT)


def test_the_first_registration_makes_the_account_namespace_when_it_is_missing() -> None:
    plan = reconcile_task_definition(("", "web"), TaskDefinitionSnapshot(NOW, task_definition()))
    assert plan is not None and kinds(plan.apply) == ["ControllerRevision", "Namespace"]
    assert plan.apply[0]["kind"] == "Namespace"


def test_a_new_number_is_claimed_on_the_task_definition_and_never_reused() -> None:
    claimed = task_definition(**{labels.LATEST_REVISION: "5", labels.DELETE_REVISIONS: "1-5"})
    plan = reconcile_task_definition(("", "web"), td_snapshot(claimed))
    assert plan is not None and [o["revision"] for o in plan.apply] == [6]
    assert [p.patch["metadata"]["annotations"][labels.LATEST_REVISION] for p in plan.patches] == ["6"]


def test_a_claimed_number_whose_record_is_missing_is_written_from_the_spec() -> None:
    plan = reconcile_task_definition(
        ("", "web"), td_snapshot(task_definition(**{labels.LATEST_REVISION: "5"}))
    )
    assert plan is not None and [o["revision"] for o in plan.apply] == [5] and not plan.patches


def test_a_deleted_revision_goes_once_nothing_runs_it() -> None:
    first = reconcile_task_definition(("", "web"), td_snapshot(task_definition()))
    assert first is not None
    deleted = task_definition(**{labels.DEREGISTER: "1", labels.DELETE_REVISIONS: "1"})
    deleted["status"] = after(first)["status"]
    plan = reconcile_task_definition(("", "web"), td_snapshot(deleted, live(first.apply)))
    assert plan is not None and [(d.kind, d.name) for d in plan.delete] == [("ControllerRevision", "web-1")]
    in_use = TaskDefinitionSnapshot(NOW, deleted, live(first.apply), ACCOUNT, frozenset({"web:1"}))
    kept = reconcile_task_definition(("", "web"), in_use)
    assert kept is not None and not kept.delete
    assert kept.apply[0]["metadata"]["labels"][labels.REVISION_STATUS] == "DELETE_IN_PROGRESS"


def test_the_first_spec_registers_revision_one_and_an_equal_spec_registers_nothing() -> None:
    plan = reconcile_task_definition(("", "web"), td_snapshot(task_definition()))
    assert plan is not None and kinds(plan.apply) == ["ControllerRevision"]
    assert plan.apply[0]["metadata"]["name"] == "web-1" and plan.apply[0]["revision"] == 1
    assert [e.reason for e in plan.events] == ["Registered"]
    assert plan.status is not None and plan.status["taskDefinition"] == "web:1"
    again = reconcile_task_definition(("", "web"), td_snapshot(after(plan), live(plan.apply)))
    assert again is not None and again.writes_nothing


def test_a_changed_spec_registers_the_next_revision_even_before_the_cache_shows_the_last() -> None:
    first = reconcile_task_definition(("", "web"), td_snapshot(task_definition()))
    assert first is not None
    changed = {**TASK_DEFINITION, "cpu": "256", "memory": "512"}
    plan = reconcile_task_definition(("", "web"), td_snapshot(task_definition(changed), live(first.apply)))
    assert plan is not None and [o["metadata"]["name"] for o in plan.apply] == ["web-2"]
    assert plan.status is not None and plan.status["activeRevisions"] == [1, 2]


def test_deregistering_relabels_the_revision_inactive() -> None:
    first = reconcile_task_definition(("", "web"), td_snapshot(task_definition()))
    assert first is not None
    plan = reconcile_task_definition(
        ("", "web"), td_snapshot(task_definition(**{labels.DEREGISTER: "1"}), live(first.apply))
    )
    assert plan is not None
    assert plan.apply[0]["metadata"]["labels"][labels.REVISION_STATUS] == "INACTIVE"
    assert [e.reason for e in plan.events] == ["Deregistered"]
    assert plan.status is not None and plan.status["inactiveRevisions"] == [1]


def test_a_bad_deregistration_is_degraded_naming_the_annotation() -> None:
    plan = reconcile_task_definition(("", "web"), td_snapshot(task_definition(**{labels.DEREGISTER: "one"})))
    assert plan is not None and not plan.apply and plan.status is not None
    assert plan.status["conditions"][2]["reason"] == "InvalidDeregistration"
    assert labels.DEREGISTER in plan.status["conditions"][2]["message"]


def test_a_task_applied_with_its_task_definition_waits_for_the_registration_quietly() -> None:
    plan = reconcile_task(("demo", "job"), task_snapshot(task(taskDefinition="api"), registering=True))
    assert plan is not None and plan.writes_nothing
