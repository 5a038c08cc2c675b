"""EcsCluster status as ECS's Cluster: its counts, ACTIVE or DEPROVISIONING, and conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecs_operator.runtime.plan import Event
from ecs_operator.status.conditions import merge_conditions, triple

REFUSED_MESSAGE = "The cluster cannot be deleted while services are active."


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


def cluster_status(
    previous: Mapping[str, Any],
    generation: int | None,
    namespace: str,
    namespace_ready: bool,
    counts: ClusterCounts,
    refused: bool,
    now: str,
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
    return {
        "observedGeneration": generation,
        "status": "DEPROVISIONING" if refused else "ACTIVE",
        "registeredContainerInstancesCount": counts.container_instances,
        "runningTasksCount": counts.running_tasks,
        "pendingTasksCount": counts.pending_tasks,
        "activeServicesCount": counts.active_services,
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
    }
