"""Pure status helpers: Kubernetes conditions, ECS service events, and ECS deployment bookkeeping.

Nothing here does I/O or reads the clock: callers pass `now` (an RFC 3339 string) so the same inputs
always give the same status, which is what keeps the operator quiet when nothing changed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
CONDITION_TYPES = (READY, PROGRESSING, DEGRADED)

EVENTS_LIMIT = 50

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"


def condition(
    condition_type: str, status: bool | None, reason: str, message: str, generation: int | None
) -> dict[str, Any]:
    value = "Unknown" if status is None else ("True" if status else "False")
    result: dict[str, Any] = {"type": condition_type, "status": value, "reason": reason, "message": message}
    if generation is not None:
        result["observedGeneration"] = generation
    return result


def merge_conditions(
    previous: Sequence[Mapping[str, Any]] | None, current: Iterable[Mapping[str, Any]], now: str
) -> list[dict[str, Any]]:
    """`current` with lastTransitionTime kept from `previous` where the status value did not change."""
    before = {c.get("type"): c for c in previous or ()}
    merged = []
    for cond in current:
        item = dict(cond)
        old = before.get(item["type"])
        if old is not None and old.get("status") == item["status"] and old.get("lastTransitionTime"):
            item["lastTransitionTime"] = old["lastTransitionTime"]
        else:
            item["lastTransitionTime"] = now
        merged.append(item)
    return merged


def condition_status(conditions: Sequence[Mapping[str, Any]] | None, condition_type: str) -> str | None:
    for cond in conditions or ():
        if cond.get("type") == condition_type:
            value = cond.get("status")
            return str(value) if value is not None else None
    return None


def status_patch(previous: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch turning `previous` into `desired` at the top level ({} when they are equal)."""
    before = dict(previous or {})
    patch: dict[str, Any] = {key: value for key, value in desired.items() if before.get(key) != value}
    for key in before:
        if key not in desired:
            patch[key] = None
    return patch


def event_id(message: str, now: str, index: int = 0) -> str:
    digest = hashlib.sha256(f"{now}|{index}|{message}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def add_events(
    previous: Sequence[Mapping[str, Any]] | None, messages: Sequence[str], now: str, limit: int = EVENTS_LIMIT
) -> list[dict[str, Any]]:
    """ECS service events: newest first, bounded to `limit`."""
    fresh = [
        {"id": event_id(message, now, index), "createdAt": now, "message": message}
        for index, message in enumerate(reversed(messages))
    ]
    return (fresh + [dict(e) for e in previous or ()])[:limit]


def service_message(service: str, text: str) -> str:
    return f"(service {service}) {text}"


def started_message(service: str, tasks: Sequence[str]) -> str:
    names = " ".join(f"(task {t})" for t in tasks)
    return service_message(service, f"has started {len(tasks)} tasks: {names}.")


def stopped_message(service: str, tasks: Sequence[str]) -> str:
    names = " ".join(f"(task {t})" for t in tasks)
    return service_message(service, f"has stopped {len(tasks)} running tasks: {names}.")


def steady_message(service: str) -> str:
    return service_message(service, "has reached a steady state.")


def failure_threshold(desired_count: int) -> int:
    """ECS's deployment circuit breaker threshold: half the desired count, at least 3, at most 200."""
    return min(200, max(3, math.ceil(desired_count / 2)))


# ---------------------------------------------------------------------------------------------------------
# Tasks (Pods) as ECS sees them


def pod_is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str(pod.get("status", {}).get("phase") or "Pending")


def pod_is_running(pod: Mapping[str, Any]) -> bool:
    return pod_phase(pod) == "Running" and not pod_is_terminating(pod)


def pod_is_pending(pod: Mapping[str, Any]) -> bool:
    return pod_phase(pod) == "Pending" and not pod_is_terminating(pod)


def pod_restarts(pod: Mapping[str, Any]) -> int:
    status = pod.get("status", {})
    return sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or ())


def newly_failed(pod: Mapping[str, Any]) -> bool:
    """A Failed task not yet removed: counted once, then the operator deletes it (as ECS drops stopped
    tasks), so a ReplicaSet replacing failed tasks cannot pile them up."""
    return pod_phase(pod) == "Failed" and not pod_is_terminating(pod)


def unschedulable_message(pod: Mapping[str, Any]) -> str | None:
    for cond in pod.get("status", {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            if cond.get("reason") == "Unschedulable":
                return str(cond.get("message") or "no node matches the task's placement")
    return None


# ---------------------------------------------------------------------------------------------------------
# Service deployments (one per revision of the pod template)


@dataclass(frozen=True)
class RevisionView:
    """One rollout generation of a service's workload: a ReplicaSet, or the DaemonSet's current revision."""

    id: str
    task_definition: str
    desired: int
    pods: tuple[Mapping[str, Any], ...]
    created_at: str
    primary: bool


@dataclass(frozen=True)
class WorkloadView:
    revisions: tuple[RevisionView, ...]
    settled: bool  # the controller observed the latest spec and every replica is updated and available
    deadline_exceeded: bool
    desired: int


@dataclass(frozen=True)
class ServiceInputs:
    name: str
    generation: int | None
    desired_count: int
    target_task_definition: str | None
    circuit_breaker: bool = False
    rollback: bool = False
    workload: WorkloadView | None = None
    previous: Mapping[str, Any] = field(default_factory=dict)
    known_tasks: frozenset[str] | None = None  # None: first look since start, record without events


@dataclass(frozen=True)
class ServiceOutcome:
    status: dict[str, Any]
    events: list[tuple[str, str, str]]  # Kubernetes Events to post: (type, reason, message)
    tasks: frozenset[str]
    rollback_to: str | None  # a task definition to restore (circuit breaker rollback)


def _deployment_entry(
    view: RevisionView, previous: Mapping[str, Any] | None, inputs: ServiceInputs, workload: WorkloadView
) -> dict[str, Any]:
    running = sum(1 for p in view.pods if pod_is_running(p))
    pending = sum(1 for p in view.pods if pod_is_pending(p))
    counted = int((previous or {}).get("failedTasks") or 0) + sum(1 for p in view.pods if newly_failed(p))
    failed = max(counted, sum(pod_restarts(p) for p in view.pods))
    old_state = (previous or {}).get("rolloutState")
    old_reason = (previous or {}).get("rolloutStateReason")
    # Outcomes stick to a deployment: a rolled-back-to deployment stays COMPLETED, a failed one FAILED.
    if old_state in (COMPLETED, FAILED):
        state, reason = old_state, old_reason
    elif not view.primary:
        state, reason = COMPLETED, f"ECS deployment {view.id} completed."
    elif inputs.circuit_breaker and failed >= failure_threshold(inputs.desired_count):
        state, reason = FAILED, "ECS deployment circuit breaker: tasks failed to start."
    elif inputs.circuit_breaker and workload.deadline_exceeded:
        state, reason = FAILED, "ECS deployment circuit breaker: the deployment did not complete in time."
    elif workload.settled and running == view.desired:
        state, reason = COMPLETED, f"ECS deployment {view.id} completed."
    else:
        state, reason = IN_PROGRESS, f"ECS deployment {view.id} in progress."
    entry: dict[str, Any] = {
        "id": view.id,
        "status": "PRIMARY" if view.primary else "ACTIVE",
        "taskDefinition": view.task_definition,
        "desiredCount": view.desired,
        "pendingCount": pending,
        "runningCount": running,
        "failedTasks": failed,
        "rolloutState": state,
        "rolloutStateReason": reason,
        "createdAt": view.created_at,
    }
    return entry


def _with_updated_at(entry: dict[str, Any], previous: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    if previous is not None:
        same = {k: v for k, v in previous.items() if k != "updatedAt"} == entry
        entry["updatedAt"] = previous.get("updatedAt", now) if same else now
    else:
        entry["updatedAt"] = now
    return entry


def service_status(inputs: ServiceInputs, now: str) -> ServiceOutcome:
    """The ECS-shaped status of a service, the Events to post and a rollback decision."""
    previous = inputs.previous
    name = inputs.name
    old_deployments = {d.get("id"): d for d in previous.get("deployments") or ()}
    messages: list[str] = []
    events: list[tuple[str, str, str]] = []
    deployments: list[dict[str, Any]] = []
    pods: list[Mapping[str, Any]] = []
    workload = inputs.workload
    if workload is not None:
        for view in workload.revisions:
            pods.extend(view.pods)
            old = old_deployments.get(view.id)
            entry = _deployment_entry(view, old, inputs, workload)
            deployments.append(_with_updated_at(entry, old, now))
    current_ids = {d["id"] for d in deployments}
    # A failed rollout stays on record while the service still asks for its task definition, so a
    # rollback is not undone by the next reconcile, nor forgotten across operator restarts.
    for old in previous.get("deployments") or ():
        if old.get("id") in current_ids:
            continue
        if old.get("rolloutState") == FAILED and old.get("taskDefinition") == inputs.target_task_definition:
            deployments.append({**old, "status": "INACTIVE", "runningCount": 0, "pendingCount": 0})
    deployments.sort(key=lambda d: ({"PRIMARY": 0, "ACTIVE": 1}.get(d["status"], 2), d["id"]))

    primary = next((d for d in deployments if d["status"] == "PRIMARY"), None)
    running = sum(1 for p in pods if pod_is_running(p))
    pending = sum(1 for p in pods if pod_is_pending(p))
    desired = workload.desired if workload is not None else inputs.desired_count

    # ECS service events from task churn: started / stopped tasks.
    live_tasks = frozenset(
        p["metadata"]["name"]
        for p in pods
        if not pod_is_terminating(p) and pod_phase(p) in ("Pending", "Running")
    )
    if inputs.known_tasks is not None:
        started = sorted(live_tasks - inputs.known_tasks)
        stopped = sorted(inputs.known_tasks - live_tasks)
        if stopped:
            messages.append(stopped_message(name, stopped))
        if started:
            messages.append(started_message(name, started))

    rollback_to = None
    old_primary = old_deployments.get(primary["id"]) if primary else None
    if primary and primary["rolloutState"] == FAILED and (old_primary or {}).get("rolloutState") != FAILED:
        text = f"(deployment {primary['id']}) deployment failed: {primary['rolloutStateReason']}"
        if inputs.rollback:
            completed = _last_completed(deployments, previous)
            if completed:
                text += f" rolling back to taskDefinition {completed}."
        messages.append(service_message(name, text))
        events.append(("Warning", "DeploymentFailed", service_message(name, text)))
    if (
        primary
        and primary["rolloutState"] == COMPLETED
        and (old_primary or {}).get("rolloutState") != COMPLETED
    ):
        messages.append(service_message(name, f"(deployment {primary['id']}) deployment completed."))
    if inputs.rollback and inputs.target_task_definition:
        failed_target = any(
            d.get("rolloutState") == FAILED and d.get("taskDefinition") == inputs.target_task_definition
            for d in deployments
        )
        if failed_target:
            rollback_to = _last_completed(deployments, previous)

    generation = inputs.generation
    conditions = _service_conditions(name, primary, running, desired, generation)
    was_ready = condition_status(previous.get("conditions"), READY) == "True"
    now_ready = condition_status(conditions, READY) == "True"
    if now_ready and not was_ready:
        messages.append(steady_message(name))

    status: dict[str, Any] = {
        "observedGeneration": generation,
        "status": "ACTIVE",
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": pending,
        "deployments": deployments,
        "events": add_events(previous.get("events"), messages, now),
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
    }
    task_definition = primary["taskDefinition"] if primary else previous.get("taskDefinition")
    if task_definition:
        status["taskDefinition"] = task_definition
    if previous.get("selector"):
        status["selector"] = previous["selector"]
    return ServiceOutcome(status=status, events=events, tasks=live_tasks, rollback_to=rollback_to)


def _last_completed(deployments: Sequence[Mapping[str, Any]], previous: Mapping[str, Any]) -> str | None:
    for entry in [*deployments, *(previous.get("deployments") or ())]:
        if entry.get("rolloutState") == COMPLETED and entry.get("status") != "PRIMARY":
            return str(entry["taskDefinition"])
    for entry in previous.get("deployments") or ():
        if entry.get("rolloutState") == COMPLETED:
            return str(entry["taskDefinition"])
    return None


def _service_conditions(
    name: str, primary: Mapping[str, Any] | None, running: int, desired: int, generation: int | None
) -> list[dict[str, Any]]:
    if primary is None:
        message = f"Waiting for the workload of service {name}."
        return [
            condition(READY, False, "Pending", message, generation),
            condition(PROGRESSING, True, "Pending", message, generation),
            condition(DEGRADED, False, "Pending", message, generation),
        ]
    state = primary["rolloutState"]
    if state == FAILED:
        message = f"Deployment {primary['id']} failed: {primary['rolloutStateReason']}"
        return [
            condition(READY, False, "RolloutFailed", message, generation),
            condition(PROGRESSING, False, "RolloutFailed", message, generation),
            condition(DEGRADED, True, "RolloutFailed", message, generation),
        ]
    counts = f"{running}/{desired} tasks running"
    if state == COMPLETED and running == desired:
        return [
            condition(
                READY,
                True,
                "SteadyState",
                f"Service {name} has reached a steady state ({counts}).",
                generation,
            ),
            condition(
                PROGRESSING, False, "RolloutCompleted", f"Deployment {primary['id']} completed.", generation
            ),
            condition(DEGRADED, False, "SteadyState", counts, generation),
        ]
    reason = "RolloutInProgress" if state == IN_PROGRESS else "TasksStarting"
    message = f"Deployment {primary['id']} in progress ({counts})."
    return [
        condition(READY, False, reason, message, generation),
        condition(PROGRESSING, True, reason, message, generation),
        condition(DEGRADED, False, reason, message, generation),
    ]


def spec_error_status(
    previous: Mapping[str, Any], generation: int | None, reason: str, message: str, now: str
) -> dict[str, Any]:
    """Status of a resource whose spec cannot be honoured: everything else kept, Degraded=True."""
    conditions = [
        condition(READY, False, reason, message, generation),
        condition(PROGRESSING, False, reason, message, generation),
        condition(DEGRADED, True, reason, message, generation),
    ]
    status = dict(previous)
    status["observedGeneration"] = generation
    status["conditions"] = merge_conditions(previous.get("conditions"), conditions, now)
    return status


def draining_status(
    name: str,
    previous: Mapping[str, Any],
    generation: int | None,
    pods: Sequence[Mapping[str, Any]],
    known_tasks: frozenset[str] | None,
    now: str,
) -> tuple[dict[str, Any], frozenset[str]]:
    """Status of a service being deleted: DRAINING, counts of the tasks still stopping."""
    live = frozenset(p["metadata"]["name"] for p in pods if pod_phase(p) in ("Pending", "Running"))
    running = sum(1 for p in pods if pod_phase(p) == "Running")
    pending = sum(1 for p in pods if pod_phase(p) == "Pending")
    messages = []
    stopped = sorted((known_tasks or frozenset()) - live)
    if stopped:
        messages.append(stopped_message(name, stopped))
    message = f"Service {name} is draining: {len(pods)} tasks still stopping."
    conditions = [
        condition(READY, False, "Draining", message, generation),
        condition(PROGRESSING, True, "Draining", message, generation),
        condition(DEGRADED, False, "Draining", message, generation),
    ]
    status = dict(previous)
    status.update(
        {
            "observedGeneration": generation,
            "status": "DRAINING",
            "desiredCount": 0,
            "runningCount": running,
            "pendingCount": pending,
            "events": add_events(previous.get("events"), messages, now),
            "conditions": merge_conditions(previous.get("conditions"), conditions, now),
        }
    )
    return status, live


# ---------------------------------------------------------------------------------------------------------
# Standalone tasks (RunTask): one Pod per task

USER_STOPPED_REASON = "Task stopped by user"
ESSENTIAL_EXITED_REASON = "Essential container in task exited"
FAILED_TO_START_REASON = "Task failed to start"
POD_GONE_REASON = "Task stopped: its pod was deleted"


def _container_entries(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status", {})
    entries = []
    for container in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]:
        state = container.get("state") or {}
        entry: dict[str, Any] = {"name": container.get("name")}
        if "terminated" in state:
            terminated = state["terminated"] or {}
            entry["lastStatus"] = "STOPPED"
            entry["exitCode"] = int(terminated.get("exitCode", 0))
            if terminated.get("reason"):
                entry["reason"] = str(terminated["reason"])
        elif "running" in state:
            entry["lastStatus"] = "RUNNING"
        else:
            entry["lastStatus"] = "PENDING"
            waiting = state.get("waiting") or {}
            if waiting.get("reason"):
                entry["reason"] = str(waiting["reason"])
        entries.append(entry)
    return entries


def essential_exited(pod: Mapping[str, Any], essential: frozenset[str]) -> bool:
    """An essential container has terminated: ECS stops the whole task."""
    return any(
        c["name"] in essential and c["lastStatus"] == "STOPPED"
        for c in _container_entries(pod)
        if c["name"] in essential
    )


def task_entry(
    pod: Mapping[str, Any] | None,
    essential: frozenset[str],
    user_stopped: bool,
    previous: Mapping[str, Any] | None,
    task_arn: str,
    pod_name: str,
    now: str,
) -> dict[str, Any]:
    """One task as ECS's DescribeTasks shows it, from its Pod (None when the Pod is gone)."""
    before = dict(previous or {})
    if pod is None:
        if before.get("lastStatus") == "STOPPED":
            return before
        entry = {
            **before,
            "taskArn": task_arn,
            "podName": pod_name,
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
        }
        if user_stopped:
            entry.update(stopCode="UserInitiated", stoppedReason=USER_STOPPED_REASON)
        else:
            entry.setdefault("stopCode", "UserInitiated")
            entry.setdefault("stoppedReason", POD_GONE_REASON)
        entry.setdefault("stoppedAt", now)
        return entry
    if before.get("lastStatus") == "STOPPED":
        return before
    phase = pod_phase(pod)
    containers = _container_entries(pod)
    exited = essential_exited(pod, essential)
    entry = {
        "taskArn": task_arn,
        "podName": pod_name,
        "containers": containers,
        "createdAt": str(pod["metadata"].get("creationTimestamp") or before.get("createdAt") or now),
    }
    started_at = (pod.get("status") or {}).get("startTime")
    if phase in ("Succeeded", "Failed") or (exited and phase != "Pending"):
        entry["lastStatus"] = "STOPPED" if phase in ("Succeeded", "Failed") else "DEPROVISIONING"
        entry["desiredStatus"] = "STOPPED"
        ever_started = any(c["lastStatus"] != "PENDING" for c in containers)
        if user_stopped:
            entry.update(stopCode="UserInitiated", stoppedReason=USER_STOPPED_REASON)
        elif phase == "Failed" and not ever_started:
            entry.update(stopCode="TaskFailedToStart", stoppedReason=FAILED_TO_START_REASON)
        else:
            entry.update(stopCode="EssentialContainerExited", stoppedReason=ESSENTIAL_EXITED_REASON)
        if entry["lastStatus"] == "STOPPED":
            entry["stoppedAt"] = before.get("stoppedAt") or now
    elif pod_is_terminating(pod):
        entry["lastStatus"] = "DEPROVISIONING"
        entry["desiredStatus"] = "STOPPED"
        if user_stopped:
            entry.update(stopCode="UserInitiated", stoppedReason=USER_STOPPED_REASON)
    elif phase == "Running":
        entry["lastStatus"] = "RUNNING"
        entry["desiredStatus"] = "STOPPED" if user_stopped else "RUNNING"
    else:
        scheduled = any(
            c.get("type") == "PodScheduled" for c in (pod.get("status") or {}).get("conditions") or ()
        )
        entry["lastStatus"] = "PENDING" if scheduled else "PROVISIONING"
        entry["desiredStatus"] = "STOPPED" if user_stopped else "RUNNING"
        reason = unschedulable_message(pod)
        if reason:
            entry["pendingReason"] = f"Unschedulable: {reason}"
    if started_at and entry["lastStatus"] != "PROVISIONING":
        entry["startedAt"] = str(started_at)
    return entry


def task_failed(entry: Mapping[str, Any], essential: frozenset[str]) -> bool:
    if entry.get("lastStatus") not in ("STOPPED", "DEPROVISIONING"):
        return False
    if entry.get("stopCode") == "TaskFailedToStart":
        return True
    if entry.get("stopCode") != "EssentialContainerExited":
        return False
    return any(
        c.get("name") in essential and int(c.get("exitCode") or 0) != 0 for c in entry.get("containers") or ()
    )


def task_conditions(
    entries: Sequence[Mapping[str, Any]], essential: frozenset[str], generation: int | None, cluster: str
) -> list[dict[str, Any]]:
    unplaceable = [e for e in entries if e.get("pendingReason")]
    failed = [e for e in entries if task_failed(e, essential)]
    states = [e.get("lastStatus") for e in entries]
    if unplaceable:
        message = (
            f"Task {unplaceable[0]['podName']} cannot be placed: no container instance in cluster {cluster} "
            f"meets all of its requirements ({unplaceable[0]['pendingReason']})."
        )
        return [
            condition(READY, False, "Unschedulable", message, generation),
            condition(PROGRESSING, True, "Unschedulable", message, generation),
            condition(DEGRADED, True, "Unschedulable", message, generation),
        ]
    if failed:
        first = failed[0]
        codes = ", ".join(
            f"{c.get('name')} exited with code {c.get('exitCode')}"
            for c in first.get("containers") or ()
            if c.get("exitCode") not in (None, 0)
        )
        message = f"Task {first['podName']} stopped: {first.get('stoppedReason')}" + (
            f" ({codes})." if codes else "."
        )
        return [
            condition(READY, False, "TaskFailed", message, generation),
            condition(PROGRESSING, False, "TaskFailed", message, generation),
            condition(DEGRADED, True, "TaskFailed", message, generation),
        ]
    if entries and all(s == "RUNNING" for s in states):
        message = f"{len(entries)} tasks RUNNING."
        return [
            condition(READY, True, "Running", message, generation),
            condition(PROGRESSING, False, "Running", message, generation),
            condition(DEGRADED, False, "Running", message, generation),
        ]
    if entries and all(s == "STOPPED" for s in states):
        user = all(e.get("stopCode") == "UserInitiated" for e in entries)
        reason = "Stopped" if user else "Completed"
        message = f"{len(entries)} tasks STOPPED" + (
            " by the user." if user else ", essential containers exited 0."
        )
        return [
            condition(READY, True, reason, message, generation),
            condition(PROGRESSING, False, reason, message, generation),
            condition(DEGRADED, False, reason, message, generation),
        ]
    pending = sum(1 for s in states if s != "RUNNING")
    message = f"{pending} of {len(entries)} tasks not RUNNING yet." if entries else "Starting tasks."
    return [
        condition(READY, False, "Starting", message, generation),
        condition(PROGRESSING, True, "Starting", message, generation),
        condition(DEGRADED, False, "Starting", message, generation),
    ]
