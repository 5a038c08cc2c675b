from typing import Any

import pytest
from ecs_operator.runtime.execute import status_patch
from ecs_operator.status.conditions import condition, condition_status, merge_conditions
from ecs_operator.status.deployments import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    RevisionView,
    WorkloadView,
    failure_threshold,
)
from ecs_operator.status.problems import spec_error
from ecs_operator.status.service import ServiceInputs, add_events, draining_status, service_status
from ecs_operator.status.task import should_stop, task_conditions, task_entry

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:05:00Z"


def pod(name: str, phase: str = "Running", restarts: int = 0, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": f"uid-{name}", "creationTimestamp": NOW},
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": "app", "restartCount": restarts}],
            **status,
        },
    }


def workload(pods: list[dict[str, Any]], desired: int, settled: bool = True, **kw: Any) -> WorkloadView:
    view = RevisionView("ecs-svc/abc", "web:1", desired, tuple(pods), NOW, primary=True)
    return WorkloadView(
        (view,), settled=settled, deadline_exceeded=kw.get("deadline", False), desired=desired
    )


def inputs(**kw: Any) -> ServiceInputs:
    base: dict[str, Any] = {
        "name": "web",
        "generation": 1,
        "desired_count": 3,
        "target_task_definition": "web:1",
    }
    base.update(kw)
    return ServiceInputs(**base)


@pytest.mark.parametrize(("desired", "threshold"), [(0, 3), (1, 3), (6, 3), (7, 4), (10, 5), (1000, 200)])
def test_circuit_breaker_threshold_is_half_desired_at_least_3_at_most_200(
    desired: int, threshold: int
) -> None:
    assert failure_threshold(desired) == threshold


def test_transition_time_kept_when_the_status_value_is_unchanged() -> None:
    first = merge_conditions(None, [condition("Ready", True, "A", "m", 1)], NOW)
    again = merge_conditions(first, [condition("Ready", True, "B", "other", 2)], LATER)
    assert again[0]["lastTransitionTime"] == NOW
    flipped = merge_conditions(first, [condition("Ready", False, "A", "m", 2)], LATER)
    assert flipped[0]["lastTransitionTime"] == LATER


def test_status_patch_is_empty_when_nothing_changed_and_nulls_removed_keys() -> None:
    assert status_patch({"a": 1, "b": [1]}, {"a": 1, "b": [1]}) == {}
    assert status_patch({"a": 1, "gone": 2}, {"a": 3}) == {"a": 3, "gone": None}


def test_events_are_newest_first_and_bounded() -> None:
    events = add_events(None, ["first", "second"], NOW)
    assert [e["message"] for e in events] == ["second", "first"]
    many = add_events(events, [f"m{i}" for i in range(60)], LATER, limit=50)
    assert len(many) == 50 and many[0]["message"] == "m59"


def test_steady_service_is_ready_with_ecs_counts_and_steady_state_event() -> None:
    outcome = service_status(
        inputs(workload=workload([pod("a"), pod("b"), pod("c")], 3), previous={"taskNames": []}), NOW
    )
    status = outcome.status
    assert (status["desiredCount"], status["runningCount"], status["pendingCount"]) == (3, 3, 0)
    assert status["status"] == "ACTIVE" and status["taskDefinition"] == "web:1"
    assert status["deployments"][0]["status"] == "PRIMARY"
    assert status["deployments"][0]["rolloutState"] == COMPLETED
    assert condition_status(status["conditions"], "Ready") == "True"
    assert condition_status(status["conditions"], "Progressing") == "False"
    messages = [e["message"] for e in status["events"]]
    assert messages[0] == "(service web) has reached a steady state."
    assert "(service web) has started 3 tasks: (task a) (task b) (task c)." in messages


def test_a_deployment_that_completes_at_once_posts_the_steady_state_again() -> None:
    first = service_status(inputs(workload=workload([pod("a")], 1), desired_count=1, previous={}), NOW)
    rolled = WorkloadView(
        (RevisionView("ecs-svc/def", "web:2", 1, (pod("b"),), LATER, primary=True),),
        settled=True,
        deadline_exceeded=False,
        desired=1,
    )
    second = service_status(
        inputs(workload=rolled, desired_count=1, target_task_definition="web:2", previous=first.status), LATER
    )
    messages = [e["message"] for e in second.status["events"] if e["createdAt"] == LATER]
    assert messages[:2] == [
        "(service web) has reached a steady state.",
        "(service web) (deployment ecs-svc/def) deployment completed.",
    ]


def test_recomputing_the_same_state_gives_the_same_status() -> None:
    first = service_status(
        inputs(workload=workload([pod("a")], 1), desired_count=1, previous={"taskNames": []}), NOW
    )
    second = service_status(
        inputs(workload=workload([pod("a")], 1), desired_count=1, previous=first.status), LATER
    )
    assert status_patch(first.status, second.status) == {}
    assert second.events == []


def test_a_status_from_before_tasks_were_recorded_records_them_without_started_events() -> None:
    written_before = {"deployments": [{"id": "ecs-svc/abc", "status": "PRIMARY", "rolloutState": COMPLETED}]}
    outcome = service_status(
        inputs(workload=workload([pod("a")], 1), desired_count=1, previous=written_before), NOW
    )
    assert not any("has started" in e["message"] for e in outcome.status["events"])
    assert outcome.status["taskNames"] == ["a"]


def test_a_new_service_reports_every_task_it_started() -> None:
    outcome = service_status(inputs(workload=workload([pod("a")], 1), desired_count=1), NOW)
    assert "(service web) has started 1 tasks: (task a)." in [e["message"] for e in outcome.status["events"]]


def test_a_replaced_task_gives_stopped_and_started_events() -> None:
    outcome = service_status(
        inputs(
            workload=workload([pod("b")], 1, settled=False), desired_count=1, previous={"taskNames": ["a"]}
        ),
        NOW,
    )
    messages = [e["message"] for e in outcome.status["events"]]
    assert "(service web) has stopped 1 running tasks: (task a)." in messages
    assert "(service web) has started 1 tasks: (task b)." in messages


def test_rollout_in_progress_is_progressing() -> None:
    outcome = service_status(
        inputs(workload=workload([pod("a"), pod("b", "Pending")], 3, settled=False)), NOW
    )
    status = outcome.status
    assert status["deployments"][0]["rolloutState"] == IN_PROGRESS
    assert status["pendingCount"] == 1
    assert condition_status(status["conditions"], "Progressing") == "True"
    assert condition_status(status["conditions"], "Ready") == "False"


def test_circuit_breaker_fails_the_rollout_at_the_threshold_and_asks_for_rollback() -> None:
    previous = {
        "deployments": [
            {"id": "ecs-svc/old", "status": "ACTIVE", "taskDefinition": "web:1", "rolloutState": COMPLETED}
        ]
    }
    failing = RevisionView("ecs-svc/new", "web:2", 3, (pod("x", restarts=2), pod("y", restarts=1)), NOW, True)
    view = WorkloadView((failing,), settled=False, deadline_exceeded=False, desired=3)
    outcome = service_status(
        inputs(
            target_task_definition="web:2",
            circuit_breaker=True,
            rollback=True,
            workload=view,
            previous=previous,
        ),
        NOW,
    )
    primary = outcome.status["deployments"][0]
    assert primary["rolloutState"] == FAILED and primary["failedTasks"] == 3
    assert outcome.rollback_to == "web:1"
    assert condition_status(outcome.status["conditions"], "Degraded") == "True"
    assert any(
        "deployment failed" in e["message"] and "rolling back" in e["message"]
        for e in outcome.status["events"]
    )
    assert (outcome.events[0].type, outcome.events[0].reason) == ("Warning", "DeploymentFailed")


def test_below_the_threshold_the_rollout_keeps_going() -> None:
    failing = RevisionView("ecs-svc/new", "web:2", 3, (pod("x", restarts=2),), NOW, True)
    view = WorkloadView((failing,), settled=False, deadline_exceeded=False, desired=3)
    outcome = service_status(inputs(target_task_definition="web:2", circuit_breaker=True, workload=view), NOW)
    assert outcome.status["deployments"][0]["rolloutState"] == IN_PROGRESS
    assert outcome.rollback_to is None


def test_failed_rollout_stays_on_record_after_rollback_so_it_is_not_retried() -> None:
    previous = {
        "deployments": [
            {"id": "ecs-svc/new", "status": "PRIMARY", "taskDefinition": "web:2", "rolloutState": FAILED},
            {"id": "ecs-svc/old", "status": "ACTIVE", "taskDefinition": "web:1", "rolloutState": COMPLETED},
        ]
    }
    restored = RevisionView("ecs-svc/old", "web:1", 3, (pod("a"), pod("b"), pod("c")), NOW, True)
    view = WorkloadView((restored,), settled=True, deadline_exceeded=False, desired=3)
    outcome = service_status(
        inputs(
            target_task_definition="web:2",
            circuit_breaker=True,
            rollback=True,
            workload=view,
            previous=previous,
        ),
        LATER,
    )
    states = {d["id"]: (d["status"], d["rolloutState"]) for d in outcome.status["deployments"]}
    assert states == {"ecs-svc/old": ("PRIMARY", COMPLETED), "ecs-svc/new": ("INACTIVE", FAILED)}
    assert outcome.rollback_to == "web:1"
    assert outcome.status["taskDefinition"] == "web:1"
    assert condition_status(outcome.status["conditions"], "Ready") == "True"


def test_spec_error_is_degraded_with_the_message_and_keeps_the_rest_of_the_status() -> None:
    previous = {"runningCount": 3, "conditions": [condition("Ready", True, "SteadyState", "ok", 1)]}
    previous["conditions"] = merge_conditions(None, previous["conditions"], NOW)
    status, events = spec_error(previous, 2, "TaskDefinitionNotFound", "taskDefinition: 'x' not found", LATER)
    assert [(e.type, e.reason) for e in events] == [("Warning", "TaskDefinitionNotFound")]
    assert spec_error(status, 2, "TaskDefinitionNotFound", "taskDefinition: 'x' not found", LATER)[1] == []
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "TaskDefinitionNotFound"
    assert degraded["message"] == "taskDefinition: 'x' not found" and degraded["observedGeneration"] == 2
    assert status["runningCount"] == 3 and status["observedGeneration"] == 2


def test_draining_counts_tasks_still_stopping() -> None:
    status = draining_status("web", {"taskNames": ["a", "b", "c"]}, 2, [pod("a"), pod("b", "Pending")], NOW)
    assert status["status"] == "DRAINING"
    assert (status["runningCount"], status["pendingCount"]) == (1, 1)
    assert status["taskNames"] == ["a", "b"]
    assert status["events"][0]["message"] == "(service web) has stopped 1 running tasks: (task c)."


ESSENTIAL = frozenset({"app"})


def terminated(exit_code: int, name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": exit_code, "reason": "Error"}},
    }


def test_task_lifecycle_running_then_essential_exit() -> None:
    running = pod("t-0")
    running["status"]["containerStatuses"] = [{"name": "app", "state": {"running": {}}}]
    entry = task_entry(running, ESSENTIAL, False, None, "arn:t", "t-0", NOW)
    assert (entry["lastStatus"], entry["desiredStatus"]) == ("RUNNING", "RUNNING")
    assert task_conditions([entry], ESSENTIAL, 1, "demo")[0]["reason"] == "Running"

    failed = pod("t-0", "Failed")
    failed["status"]["containerStatuses"] = [terminated(3)]
    stopped = task_entry(failed, ESSENTIAL, False, entry, "arn:t", "t-0", LATER)
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["containers"] == [
        {"name": "app", "lastStatus": "STOPPED", "exitCode": 3, "reason": "Error"}
    ]
    conditions = task_conditions([stopped], ESSENTIAL, 1, "demo")
    assert conditions[2]["status"] == "True" and conditions[2]["reason"] == "TaskFailed"
    assert "exited with code 3" in conditions[2]["message"]


def test_a_task_is_stopped_when_its_essential_container_exits_and_a_sidecar_still_runs() -> None:
    sidecar_runs = pod("t-0")
    sidecar_runs["status"]["containerStatuses"] = [terminated(1), {"name": "log", "state": {"running": {}}}]

    assert should_stop(sidecar_runs, ESSENTIAL, user_stopped=False)


def test_a_task_whose_containers_all_exited_is_not_deleted_while_the_kubelet_still_says_running() -> None:
    """A real kubelet reports Running with every container terminated until it has torn the Pod down
    (seen on the local cluster's real node); the Pod turns Succeeded by itself and keeps its logs."""
    all_exited = pod("t-0")
    all_exited["status"]["containerStatuses"] = [terminated(0), terminated(0, "log")]

    assert not should_stop(all_exited, ESSENTIAL, user_stopped=False)
    assert should_stop(all_exited, ESSENTIAL, user_stopped=True)


def test_task_completed_when_essential_exits_zero() -> None:
    done = pod("t-0", "Succeeded")
    done["status"]["containerStatuses"] = [terminated(0)]
    entry = task_entry(done, ESSENTIAL, False, None, "arn:t", "t-0", NOW)
    conditions = task_conditions([entry], ESSENTIAL, 1, "demo")
    assert conditions[0]["status"] == "True" and conditions[0]["reason"] == "Completed"


def test_stopped_task_is_kept_when_its_pod_is_gone_and_user_stop_is_user_initiated() -> None:
    entry = task_entry(
        None, ESSENTIAL, True, {"podName": "t-0", "lastStatus": "RUNNING"}, "arn:t", "t-0", NOW
    )
    assert (entry["lastStatus"], entry["stopCode"], entry["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "Task stopped by user",
    )
    assert task_entry(None, ESSENTIAL, False, entry, "arn:t", "t-0", LATER) == entry


def test_unplaceable_task_is_pending_with_a_reason_and_degraded() -> None:
    pending = pod("t-0", "Pending")
    pending["status"]["conditions"] = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/3 nodes are available",
        }
    ]
    entry = task_entry(pending, ESSENTIAL, False, None, "arn:t", "t-0", NOW)
    assert entry["lastStatus"] == "PENDING"
    assert "0/3 nodes are available" in entry["pendingReason"]
    conditions = task_conditions([entry], ESSENTIAL, 1, "demo")
    assert conditions[2]["reason"] == "Unschedulable" and conditions[2]["status"] == "True"
    assert "cannot be placed" in conditions[2]["message"] and "cluster demo" in conditions[2]["message"]


def test_failed_tasks_accumulate_over_replaced_pods_and_each_failed_pod_counts_once() -> None:
    failed_pod = pod("x", "Failed")
    view = WorkloadView((RevisionView("ecs-svc/new", "web:2", 3, (failed_pod,), NOW, True),), False, False, 3)
    previous = {
        "deployments": [
            {"id": "ecs-svc/new", "status": "PRIMARY", "failedTasks": 2, "rolloutState": IN_PROGRESS}
        ]
    }
    outcome = service_status(
        inputs(target_task_definition="web:2", circuit_breaker=True, workload=view, previous=previous), NOW
    )
    assert outcome.status["deployments"][0]["failedTasks"] == 3
    assert outcome.status["deployments"][0]["rolloutState"] == FAILED
    terminating = pod("x", "Failed")
    terminating["metadata"]["deletionTimestamp"] = NOW
    view = WorkloadView(
        (RevisionView("ecs-svc/new", "web:2", 3, (terminating,), NOW, True),), False, False, 3
    )
    again = service_status(
        inputs(
            target_task_definition="web:2",
            workload=view,
            previous={"deployments": [{**previous["deployments"][0], "failedTasks": 3}]},
        ),
        LATER,
    )
    assert again.status["deployments"][0]["failedTasks"] == 3


def test_progress_deadline_fails_the_rollout_only_with_the_circuit_breaker() -> None:
    view = WorkloadView(
        (RevisionView("ecs-svc/new", "web:2", 2, (pod("a", "Pending"),), NOW, True),), False, True, 2
    )
    with_breaker = service_status(
        inputs(target_task_definition="web:2", circuit_breaker=True, workload=view), NOW
    )
    assert with_breaker.status["deployments"][0]["rolloutState"] == FAILED
    without = service_status(inputs(target_task_definition="web:2", workload=view), NOW)
    assert without.status["deployments"][0]["rolloutState"] == IN_PROGRESS
