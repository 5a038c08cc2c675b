"""EcsTask status as ECS's DescribeTasks: one entry per task with ECS's lifecycle, plus conditions.

A task is one Pod. Its record stays in status after the Pod is gone, as a stopped task stays visible in ECS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.identifiers import Partition, id_of_uid
from ecs_operator.plans.plan import Event
from ecs_operator.status.conditions import DEGRADED, condition_of, merge_conditions, triple
from ecs_operator.status.pods import (
    container_entries,
    essential_exited,
    pod_is_terminating,
    pod_phase,
    unschedulable_message,
)

USER_STOPPED_REASON = "Task stopped by user"
ESSENTIAL_EXITED_REASON = "Essential container in task exited"
FAILED_TO_START_REASON = "Task failed to start"
POD_GONE_REASON = "Task stopped: its pod was deleted"


def essential_containers(taskdef: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(
        str(c["name"])
        for c in taskdef.get("containerDefinitions") or ()
        if c.get("essential", True) is not False
    )


def task_arn(
    cluster: str,
    pod: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
    name: str,
    partition: Partition,
    long: bool = True,
) -> str:
    if previous and previous.get("taskArn"):
        return str(previous["taskArn"])
    uid = str((pod or {}).get("metadata", {}).get("uid") or name)
    return partition.task(cluster, id_of_uid(uid), long)


def _stopped_entry(
    before: Mapping[str, Any], task_arn: str, pod_name: str, user_stopped: bool, now: str, reason: str
) -> dict[str, Any]:
    """A task whose Pod is gone."""
    if before.get("lastStatus") == "STOPPED":
        return dict(before)
    entry = {
        **before,
        "taskArn": task_arn,
        "podName": pod_name,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
    }
    if user_stopped:
        entry.update(stopCode="UserInitiated", stoppedReason=reason)
    else:
        entry.setdefault("stopCode", "UserInitiated")
        entry.setdefault("stoppedReason", POD_GONE_REASON)
    entry.setdefault("stoppedAt", now)
    return entry


def task_entry(
    pod: Mapping[str, Any] | None,
    essential: frozenset[str],
    user_stopped: bool,
    previous: Mapping[str, Any] | None,
    task_arn: str,
    pod_name: str,
    now: str,
    reason: str = USER_STOPPED_REASON,
) -> dict[str, Any]:
    """One task as ECS's DescribeTasks shows it, from its Pod (None when the Pod is gone); `reason` is the
    user's when `user_stopped` (StopTask's reason)."""
    before = dict(previous or {})
    if pod is None:
        return _stopped_entry(before, task_arn, pod_name, user_stopped, now, reason)
    if before.get("lastStatus") == "STOPPED":
        return before
    phase = pod_phase(pod)
    containers = container_entries(pod)
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
            entry.update(stopCode="UserInitiated", stoppedReason=reason)
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
            entry.update(stopCode="UserInitiated", stoppedReason=reason)
    elif phase == "Running":
        entry["lastStatus"] = "RUNNING"
        entry["desiredStatus"] = "STOPPED" if user_stopped else "RUNNING"
    else:
        scheduled = any(
            c.get("type") == "PodScheduled" for c in (pod.get("status") or {}).get("conditions") or ()
        )
        entry["lastStatus"] = "PENDING" if scheduled else "PROVISIONING"
        entry["desiredStatus"] = "STOPPED" if user_stopped else "RUNNING"
        unschedulable = unschedulable_message(pod)
        if unschedulable:
            entry["pendingReason"] = f"Unschedulable: {unschedulable}"
    if started_at and entry["lastStatus"] != "PROVISIONING":
        entry["startedAt"] = str(started_at)
    return entry


def should_stop(pod: Mapping[str, Any] | None, essential: frozenset[str], user_stopped: bool) -> bool:
    """A live task whose Pod must be deleted: the user stopped it, or an essential container exited
    while others (sidecars) still run.

    Once every container has exited, a kubelet keeps reporting the Pod Running until it has torn the
    Pod down; the Pod then turns Succeeded or Failed by itself, and deleting it would lose its logs."""
    if pod is None or pod_is_terminating(pod) or pod_phase(pod) in ("Succeeded", "Failed"):
        return False
    if user_stopped:
        return True
    still_running = any(c["lastStatus"] != "STOPPED" for c in container_entries(pod))
    return still_running and essential_exited(pod, essential)


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
        return triple(
            ready=False,
            progressing=True,
            degraded=True,
            reason="Unschedulable",
            message=message,
            generation=generation,
        )
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
        return triple(
            ready=False,
            progressing=False,
            degraded=True,
            reason="TaskFailed",
            message=message,
            generation=generation,
        )
    if entries and all(s == "RUNNING" for s in states):
        message = f"{len(entries)} tasks RUNNING."
        return triple(
            ready=True,
            progressing=False,
            degraded=False,
            reason="Running",
            message=message,
            generation=generation,
        )
    if entries and all(s == "STOPPED" for s in states):
        user = all(e.get("stopCode") == "UserInitiated" for e in entries)
        message = f"{len(entries)} tasks STOPPED" + (
            " by the user." if user else ", essential containers exited 0."
        )
        return triple(
            ready=True,
            progressing=False,
            degraded=False,
            reason="Stopped" if user else "Completed",
            message=message,
            generation=generation,
        )
    pending = sum(1 for s in states if s != "RUNNING")
    message = f"{pending} of {len(entries)} tasks not RUNNING yet." if entries else "Starting tasks."
    return triple(
        ready=False,
        progressing=True,
        degraded=False,
        reason="Starting",
        message=message,
        generation=generation,
    )


@dataclass(frozen=True)
class TaskInputs:
    cluster: str
    generation: int | None
    previous: Mapping[str, Any]
    pods: Mapping[str, Mapping[str, Any] | None]  # every task's Pod by name, None when it does not exist
    essential: frozenset[str]
    user_stopped: bool
    task_definition: str | None  # the revision the tasks run (`family:N`)
    stop_reasons: Mapping[str, str] = field(default_factory=dict)  # StopTask's, by Pod name
    partition: Partition = field(default_factory=Partition)  # of the task ARNs (the ECS API's too)
    long_arns: bool = True  # the EcsTask's ARN format (`identifiers.long_format`)


def _transitions(previous: Mapping[str, Any], status: Mapping[str, Any]) -> list[Event]:
    """An Event when a task STOPPED, and when Degraded gets a new reason. Starting is routine: a task's
    RUNNING is in its status (and DescribeTasks), not one Kubernetes Event per task."""
    before = {t.get("podName"): t for t in previous.get("tasks") or ()}
    events = []
    for entry in status["tasks"]:
        if (
            entry.get("lastStatus") == "STOPPED"
            and (before.get(entry["podName"]) or {}).get("lastStatus") != "STOPPED"
        ):
            message = (
                f"Task {entry['podName']} STOPPED: {entry.get('stopCode')}: {entry.get('stoppedReason')}."
            )
            events.append(Event("Normal", "TaskStopped", message))
    degraded = condition_of(status["conditions"], DEGRADED)
    old_degraded = condition_of(previous.get("conditions"), DEGRADED)
    if degraded.get("status") == "True" and old_degraded.get("reason") != degraded.get("reason"):
        events.append(Event("Warning", str(degraded["reason"]), str(degraded["message"])))
    return events


STARTING = frozenset({"PROVISIONING", "PENDING"})
# What a container waits for while its task starts normally.
ROUTINE_WAITS = frozenset({"ContainerCreating", "PodInitializing"})


def _waiting_routinely(container: Mapping[str, Any]) -> bool:
    return (
        container.get("lastStatus") != "PENDING"
        or "reason" not in container
        or container["reason"] in ROUTINE_WAITS
    )


def starting_quietly(status: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:
    """Every task is still starting with nothing to report, and no status says so yet: the first status can
    wait until the tasks run (or a wait runs out), so a task that starts normally gets one status write. A
    pending reason or a container waiting for anything but its own creation (ErrImagePull,
    CreateContainerConfigError, ...) is something to report."""
    entries = status["tasks"]
    return (
        bool(entries)
        and not previous.get("tasks")
        and all(
            e.get("lastStatus") in STARTING
            and not e.get("pendingReason")
            and all(_waiting_routinely(c) for c in e.get("containers") or ())
            for e in entries
        )
    )


def task_status(inputs: TaskInputs, now: str) -> tuple[dict[str, Any], list[Event]]:
    previous = inputs.previous
    known = {str(t.get("podName")): t for t in previous.get("tasks") or ()}
    entries = [
        task_entry(
            pod,
            inputs.essential,
            inputs.user_stopped or name in inputs.stop_reasons,
            known.get(name),
            task_arn(inputs.cluster, pod, known.get(name), name, inputs.partition, inputs.long_arns),
            name,
            now,
            inputs.stop_reasons.get(name, USER_STOPPED_REASON),
        )
        for name, pod in inputs.pods.items()
    ]
    conditions = task_conditions(entries, inputs.essential, inputs.generation, inputs.cluster)
    status: dict[str, Any] = {
        "observedGeneration": inputs.generation,
        "tasks": entries,
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
    }
    if inputs.task_definition is not None:
        status["taskDefinition"] = inputs.task_definition
    return status, _transitions(previous, status)


SCHEDULER_STOPPED_REASON = "Task stopped by the service scheduler"


def stopped_service_task(
    pod: Mapping[str, Any], essential: frozenset[str], task_arn: str, now: str
) -> dict[str, Any]:
    """The record of a service's task whose Pod is gone, from the Pod's last state: what DescribeTasks
    answers for it for an hour (ECS keeps stopped tasks at least that long)."""
    metadata = pod.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    entry = task_entry(pod, essential, False, None, task_arn, str(metadata.get("name")), now)
    entry.update(lastStatus="STOPPED", desiredStatus="STOPPED")
    entry.setdefault("stoppedAt", now)
    if annotations.get(labels.STOP_CODE):
        entry.update(
            stopCode=annotations[labels.STOP_CODE], stoppedReason=annotations.get(labels.STOPPED_REASON)
        )
    elif pod_phase(pod) != "Failed":
        entry.update(stopCode="ServiceSchedulerInitiated", stoppedReason=SCHEDULER_STOPPED_REASON)
    for member, annotation in (
        ("taskDefinition", labels.TASK_DEFINITION_ANNOTATION),
        ("startedBy", labels.DEPLOYMENT_ID),
    ):
        if annotations.get(annotation):
            entry[member] = str(annotations[annotation])
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        entry["node"] = str(node)
    return {k: v for k, v in entry.items() if v is not None}
