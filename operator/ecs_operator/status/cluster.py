"""EcsCluster status as ECS's Cluster: its counts, ACTIVE or DEPROVISIONING, and conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator.plans.plan import Event
from ecs_operator.status.clock import seconds_between
from ecs_operator.status.conditions import merge_conditions, triple

REFUSED_MESSAGE = "The cluster cannot be deleted while services are active."
# What ECS keeps of deleted services (DescribeServices answers them INACTIVE): at least an hour here, at
# most this many per cluster, each with its last stopped tasks.
INACTIVE_SERVICES = "inactiveServices"
INACTIVE_LIMIT = 20
INACTIVE_SECONDS = 3600.0
INACTIVE_TASKS = 20


@dataclass(frozen=True)
class ClusterCounts:
    container_instances: int
    running_tasks: int
    pending_tasks: int
    active_services: int
    standalone_tasks: int


def refusal_events(previous: Mapping[str, Any], namespace: str, counts: ClusterCounts) -> list[Event]:
    """The DeletionRefused Warning, once: when the status is not DEPROVISIONING yet."""
    if previous.get("status") == "DEPROVISIONING":
        return []
    detail = (
        f"{REFUSED_MESSAGE} Namespace {namespace} still has {counts.active_services} services "
        f"and {counts.standalone_tasks} tasks."
    )
    return [Event("Warning", "DeletionRefused", detail)]


def inactive_record(service: Mapping[str, Any], now: str) -> dict[str, Any]:
    """What DescribeServices and DescribeTasks read of a deleted service: its spec and the end of its
    status."""
    metadata = service.get("metadata") or {}
    status = service.get("status") or {}
    kept_status = {
        "taskDefinition": status.get("taskDefinition"),
        "events": list(status.get("events") or ())[:10],
        "stoppedTasks": list(status.get("stoppedTasks") or ())[:INACTIVE_TASKS],
    }
    return {
        "metadata": {k: metadata[k] for k in ("name", "uid", "creationTimestamp") if k in metadata},
        "spec": dict(service.get("spec") or {}),
        "status": {k: v for k, v in kept_status.items() if v},
        "deletedAt": now,
    }


def inactive_services(
    previous: Mapping[str, Any], deleted: Sequence[Mapping[str, Any]], now: str
) -> list[dict[str, Any]]:
    """The records of the cluster's deleted services, newest first; old ones go only when a new one comes,
    so a status at rest stays as it is."""
    kept = [dict(r) for r in previous.get(INACTIVE_SERVICES) or ()]
    known = {(r.get("metadata") or {}).get("uid") for r in kept}
    fresh = [inactive_record(s, now) for s in deleted if (s.get("metadata") or {}).get("uid") not in known]
    if not fresh:
        return kept
    recent = [r for r in kept if seconds_between(str(r.get("deletedAt") or now), now) <= INACTIVE_SECONDS]
    return (fresh + recent)[:INACTIVE_LIMIT]


def cluster_status(
    previous: Mapping[str, Any],
    generation: int | None,
    namespace: str,
    namespace_ready: bool,
    counts: ClusterCounts,
    refused: bool,
    now: str,
    deleted_services: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    if refused:
        conditions = triple(
            ready=namespace_ready,
            progressing=True,
            degraded=False,
            reason="DeletionRefused",
            message=REFUSED_MESSAGE,
            generation=generation,
        )
    elif namespace_ready:
        conditions = triple(
            ready=True,
            progressing=False,
            degraded=False,
            reason="NamespaceActive",
            message=f"Namespace {namespace} is active.",
            generation=generation,
        )
    else:
        conditions = triple(
            ready=False,
            progressing=True,
            degraded=False,
            reason="NamespacePending",
            message=f"Waiting for namespace {namespace}.",
            generation=generation,
        )
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "status": "DEPROVISIONING" if refused else "ACTIVE",
        "registeredContainerInstancesCount": counts.container_instances,
        "runningTasksCount": counts.running_tasks,
        "pendingTasksCount": counts.pending_tasks,
        "activeServicesCount": counts.active_services,
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
    }
    inactive = inactive_services(previous, deleted_services, now)
    if inactive:
        status[INACTIVE_SERVICES] = inactive
    return status
