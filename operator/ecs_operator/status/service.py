"""EcsService status as ECS's Service: counts, deployments with rolloutState, ECS events, conditions.

Pure: the same inputs (and `now`) always give the same status, which keeps the operator quiet at rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.plans.plan import Event
from ecs_operator.status.clock import seconds_between
from ecs_operator.status.conditions import READY, condition_status, merge_conditions, triple
from ecs_operator.status.deployments import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    RevisionView,
    WorkloadView,
    failed,
    failure_threshold,
    last_completed,
)
from ecs_operator.status.pods import newly_failed, pod_is_pending, pod_is_running, pod_phase, pod_restarts
from ecs_operator.status.task import stopped_service_task

EVENTS_LIMIT = 50
# What ECS keeps of stopped tasks (DescribeTasks, ListTasks --desired-status STOPPED): at least an hour.
STOPPED_TASKS = "stoppedTasks"
STOPPED_LIMIT = 100
STOPPED_SECONDS = 3600.0
# Not ECS: the digest of the deployment's pod template, so the ECS API can tell whether a new spec starts a
# new deployment before the operator has acted (plans/deployment.py).
DEPLOYMENT_KEY = "templateKey"
# Not ECS: the service's live tasks when the status was written, so started/stopped events survive restarts.
TASK_NAMES = "taskNames"


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


def live_tasks(pods: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """The names of the tasks that are PENDING or RUNNING (ECS's started/stopped events follow them)."""
    return frozenset(
        p["metadata"]["name"]
        for p in pods
        if not p["metadata"].get("deletionTimestamp") and pod_phase(p) in ("Pending", "Running")
    )


def known_tasks(previous: Mapping[str, Any]) -> frozenset[str] | None:
    """The tasks the last status recorded: none for a new service (every task is news), None for a status
    written before tasks were recorded (record them without events)."""
    if TASK_NAMES in previous:
        return frozenset(str(t) for t in previous.get(TASK_NAMES) or ())
    return None if previous.get("deployments") else frozenset()


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
    selector: str = ""
    gone: tuple[Mapping[str, Any], ...] = ()  # the last state of the service's Pods deleted lately
    essential: frozenset[str] = frozenset()
    task_arn: Callable[[Mapping[str, Any]], str] = lambda pod: ""


@dataclass(frozen=True)
class ServiceOutcome:
    status: dict[str, Any]
    events: list[Event]  # Kubernetes Events to post
    rollback_to: str | None  # a task definition to restore (circuit breaker rollback)
    failed_pods: tuple[str, ...]  # Failed tasks counted in this status, to remove


def _deployment_entry(
    view: RevisionView, previous: Mapping[str, Any] | None, inputs: ServiceInputs, workload: WorkloadView
) -> dict[str, Any]:
    running = sum(1 for p in view.pods if pod_is_running(p))
    pending = sum(1 for p in view.pods if pod_is_pending(p))
    counted = int((previous or {}).get("failedTasks") or 0) + sum(1 for p in view.pods if newly_failed(p))
    failures = max(counted, sum(pod_restarts(p) for p in view.pods))
    old_state = (previous or {}).get("rolloutState")
    old_reason = (previous or {}).get("rolloutStateReason")
    # Outcomes stick to a deployment: a rolled-back-to deployment stays COMPLETED, a failed one FAILED.
    if old_state in (COMPLETED, FAILED):
        state, reason = old_state, old_reason
    elif not view.primary:
        state, reason = COMPLETED, f"ECS deployment {view.id} completed."
    elif inputs.circuit_breaker and failures >= failure_threshold(inputs.desired_count):
        state, reason = FAILED, "ECS deployment circuit breaker: tasks failed to start."
    elif inputs.circuit_breaker and workload.deadline_exceeded:
        state, reason = FAILED, "ECS deployment circuit breaker: the deployment did not complete in time."
    elif workload.settled and running == view.desired:
        state, reason = COMPLETED, f"ECS deployment {view.id} completed."
    else:
        state, reason = IN_PROGRESS, f"ECS deployment {view.id} in progress."
    entry = {
        "id": view.id,
        "status": "PRIMARY" if view.primary else "ACTIVE",
        "taskDefinition": view.task_definition,
        "desiredCount": view.desired,
        "pendingCount": pending,
        "runningCount": running,
        "failedTasks": failures,
        "rolloutState": state,
        "rolloutStateReason": reason,
        "createdAt": view.created_at,
    }
    if view.key:
        entry[DEPLOYMENT_KEY] = view.key
    return entry


def _with_updated_at(entry: dict[str, Any], previous: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    if previous is not None:
        same = {k: v for k, v in previous.items() if k != "updatedAt"} == entry
        entry["updatedAt"] = previous.get("updatedAt", now) if same else now
    else:
        entry["updatedAt"] = now
    return entry


def _deployments(inputs: ServiceInputs, now: str) -> list[dict[str, Any]]:
    old_deployments = {d.get("id"): d for d in inputs.previous.get("deployments") or ()}
    deployments = []
    workload = inputs.workload
    if workload is not None:
        for view in workload.revisions:
            old = old_deployments.get(view.id)
            deployments.append(_with_updated_at(_deployment_entry(view, old, inputs, workload), old, now))
    current_ids = {d["id"] for d in deployments}
    # A failed rollout stays on record while the service still asks for its task definition, so a
    # rollback is not undone by the next reconcile, nor forgotten across operator restarts.
    for old in inputs.previous.get("deployments") or ():
        if old.get("id") in current_ids:
            continue
        if old.get("rolloutState") == FAILED and old.get("taskDefinition") == inputs.target_task_definition:
            deployments.append({**old, "status": "INACTIVE", "runningCount": 0, "pendingCount": 0})
    deployments.sort(key=lambda d: ({"PRIMARY": 0, "ACTIVE": 1}.get(d["status"], 2), d["id"]))
    return deployments


def _conditions(
    name: str, primary: Mapping[str, Any] | None, running: int, desired: int, generation: int | None
) -> list[dict[str, Any]]:
    if primary is None:
        message = f"Waiting for the workload of service {name}."
        return triple(
            ready=False,
            progressing=True,
            degraded=False,
            reason="Pending",
            message=message,
            generation=generation,
        )
    state = primary["rolloutState"]
    if state == FAILED:
        message = f"Deployment {primary['id']} failed: {primary['rolloutStateReason']}"
        return triple(
            ready=False,
            progressing=False,
            degraded=True,
            reason="RolloutFailed",
            message=message,
            generation=generation,
        )
    counts = f"{running}/{desired} tasks running"
    if state == COMPLETED and running == desired:
        return triple(
            ready=True,
            progressing=False,
            degraded=False,
            reason="SteadyState",
            message=counts,
            generation=generation,
            reasons={"Progressing": "RolloutCompleted"},
            messages={
                "Ready": f"Service {name} has reached a steady state ({counts}).",
                "Progressing": f"Deployment {primary['id']} completed.",
            },
        )
    reason = "RolloutInProgress" if state == IN_PROGRESS else "TasksStarting"
    return triple(
        ready=False,
        progressing=True,
        degraded=False,
        reason=reason,
        message=f"Deployment {primary['id']} in progress ({counts}).",
        generation=generation,
    )


def service_status(inputs: ServiceInputs, now: str) -> ServiceOutcome:
    """The ECS-shaped status of a service, the Events to post and a rollback decision."""
    previous = inputs.previous
    name = inputs.name
    old_deployments = {d.get("id"): d for d in previous.get("deployments") or ()}
    deployments = _deployments(inputs, now)
    workload = inputs.workload
    pods = [p for view in workload.revisions for p in view.pods] if workload is not None else []
    primary = next((d for d in deployments if d["status"] == "PRIMARY"), None)
    running = sum(1 for p in pods if pod_is_running(p))
    pending = sum(1 for p in pods if pod_is_pending(p))
    desired = workload.desired if workload is not None else inputs.desired_count

    messages: list[str] = []
    events: list[Event] = []
    tasks = live_tasks(pods)
    known = known_tasks(previous)
    if known is not None:
        stopped = sorted(known - tasks)
        started = sorted(tasks - known)
        if stopped:
            messages.append(stopped_message(name, stopped))
        if started:
            messages.append(started_message(name, started))

    rollback_to = None
    if (
        inputs.rollback
        and inputs.target_task_definition
        and failed(deployments, inputs.target_task_definition)
    ):
        rollback_to = last_completed([*deployments, *(previous.get("deployments") or ())])
    old_primary = old_deployments.get(primary["id"]) if primary else None
    if primary and primary["rolloutState"] == FAILED and (old_primary or {}).get("rolloutState") != FAILED:
        text = f"(deployment {primary['id']}) deployment failed: {primary['rolloutStateReason']}"
        if rollback_to:
            text += f" rolling back to taskDefinition {rollback_to}."
        messages.append(service_message(name, text))
        events.append(Event("Warning", "DeploymentFailed", service_message(name, text)))
    completed = bool(
        primary
        and primary["rolloutState"] == COMPLETED
        and (old_primary or {}).get("rolloutState") != COMPLETED
    )
    if completed:
        assert primary is not None
        messages.append(service_message(name, f"(deployment {primary['id']}) deployment completed."))

    conditions = _conditions(name, primary, running, desired, inputs.generation)
    # ECS posts the steady state after every deployment, also one so quick that Ready never dropped.
    if condition_status(conditions, READY) == "True" and (
        completed or condition_status(previous.get("conditions"), READY) != "True"
    ):
        messages.append(steady_message(name))

    status: dict[str, Any] = {
        "observedGeneration": inputs.generation,
        "status": "ACTIVE",
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": pending,
        "deployments": deployments,
        "events": add_events(previous.get("events"), messages, now),
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
        TASK_NAMES: sorted(tasks),
    }
    records = stopped_tasks(previous, inputs.gone, inputs.essential, inputs.task_arn, now)
    if records:
        status[STOPPED_TASKS] = records
    task_definition = primary["taskDefinition"] if primary else previous.get("taskDefinition")
    if task_definition:
        status["taskDefinition"] = task_definition
    if inputs.selector:
        status["selector"] = inputs.selector
    failed_pods = tuple(p["metadata"]["name"] for p in pods if newly_failed(p))
    return ServiceOutcome(status=status, events=events, rollback_to=rollback_to, failed_pods=failed_pods)


def stopped_tasks(
    previous: Mapping[str, Any],
    gone: Sequence[Mapping[str, Any]],
    essential: frozenset[str],
    task_arn: Callable[[Mapping[str, Any]], str],
    now: str,
) -> list[dict[str, Any]]:
    """The records of the service's stopped tasks, newest first: those kept, and one per Pod gone since
    (from its last state). Old records are dropped only when a new one comes, so a status at rest stays
    as it is."""
    kept = [dict(r) for r in previous.get(STOPPED_TASKS) or ()]
    known = {r.get("taskArn") for r in kept}
    fresh = []
    for pod in gone:
        arn = task_arn(pod)
        if arn and arn not in known:
            known.add(arn)
            fresh.append(stopped_service_task(pod, essential, arn, now))
    if not fresh:
        return kept
    recent = [r for r in kept if seconds_between(str(r.get("stoppedAt") or now), now) <= STOPPED_SECONDS]
    return (sorted(fresh, key=lambda r: str(r.get("podName"))) + recent)[:STOPPED_LIMIT]


def draining_status(
    name: str,
    previous: Mapping[str, Any],
    generation: int | None,
    pods: Sequence[Mapping[str, Any]],
    now: str,
    gone: Sequence[Mapping[str, Any]] = (),
    task_arn: Callable[[Mapping[str, Any]], str] = lambda pod: "",
) -> dict[str, Any]:
    """Status of a service being deleted: DRAINING, counts of the tasks still stopping, the records of
    those stopped."""
    tasks = live_tasks(pods)
    running = sum(1 for p in pods if pod_phase(p) == "Running")
    pending = sum(1 for p in pods if pod_phase(p) == "Pending")
    stopped = sorted((known_tasks(previous) or frozenset()) - tasks)
    messages = [stopped_message(name, stopped)] if stopped else []
    message = f"Service {name} is draining: {len(pods)} tasks still stopping."
    status = dict(previous)
    status.update(
        {
            "observedGeneration": generation,
            "status": "DRAINING",
            "desiredCount": 0,
            "runningCount": running,
            "pendingCount": pending,
            "events": add_events(previous.get("events"), messages, now),
            "conditions": merge_conditions(
                previous.get("conditions"),
                triple(
                    ready=False,
                    progressing=True,
                    degraded=False,
                    reason="Draining",
                    message=message,
                    generation=generation,
                ),
                now,
            ),
            TASK_NAMES: sorted(tasks),
        }
    )
    records = stopped_tasks(previous, gone, frozenset(), task_arn, now)
    if records:
        status[STOPPED_TASKS] = records
    return status


EXTERNAL_MESSAGE = (
    "deploymentController EXTERNAL: task sets (CreateTaskSet) run this service's tasks, and this operator "
    "does not run task sets; the service has no tasks of its own."
)


def external_controller(service: Mapping[str, Any]) -> bool:
    return str((service.get("deploymentController") or {}).get("type") or "ECS") == "EXTERNAL"


def external_status(
    name: str, previous: Mapping[str, Any], generation: int | None, service: Mapping[str, Any], now: str
) -> dict[str, Any]:
    """A service with the EXTERNAL deployment controller and no task definition: ACTIVE with no deployment
    and no task, as ECS shows one before a task set is created (task sets are not supported here)."""
    return {
        "observedGeneration": generation,
        "status": "ACTIVE",
        "desiredCount": int(service.get("desiredCount") or 0),
        "runningCount": 0,
        "pendingCount": 0,
        "deployments": [],
        "events": list(previous.get("events") or ()),
        "conditions": merge_conditions(
            previous.get("conditions"),
            triple(
                ready=True,
                progressing=False,
                degraded=False,
                reason="ExternalDeploymentController",
                message=f"Service {name}: {EXTERNAL_MESSAGE}",
                generation=generation,
            ),
            now,
        ),
        "notMapped": [f"deploymentController.type: {EXTERNAL_MESSAGE}"],
    }
