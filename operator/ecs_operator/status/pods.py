"""Pods as ECS sees its tasks: phase, running or pending, restarts, placement failures, containers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RUNNING = "RUNNING"
PENDING = "PENDING"
STOPPING = "STOPPING"
STOPPED = "STOPPED"


def pod_is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str(pod.get("status", {}).get("phase") or "Pending")


def task_state(pod: Mapping[str, Any]) -> str:
    """The one rule of what a task Pod counts as: STOPPED once it has ended, STOPPING while it is deleted,
    RUNNING while it runs, PENDING before (every count of running and pending tasks uses it: statuses,
    the cluster's counts, drains, DescribeContainerInstances, the cluster statistics)."""
    phase = pod_phase(pod)
    if phase in ("Succeeded", "Failed"):
        return STOPPED
    if pod_is_terminating(pod):
        return STOPPING
    return RUNNING if phase == "Running" else PENDING


def pod_is_running(pod: Mapping[str, Any]) -> bool:
    return task_state(pod) == RUNNING


def pod_is_pending(pod: Mapping[str, Any]) -> bool:
    return task_state(pod) == PENDING


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


def container_entries(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The task's containers as DescribeTasks shows them: lastStatus, exitCode, reason."""
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
    return any(c["name"] in essential and c["lastStatus"] == "STOPPED" for c in container_entries(pod))
