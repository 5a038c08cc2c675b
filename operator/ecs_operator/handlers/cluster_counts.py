"""What an EcsCluster counts (its tasks by state, its services and standalone tasks), kept by watches.

The counts follow every Pod, EcsService and EcsTask event without listing them: kopf indexes map a
namespace to the phases of its standalone task Pods and to its live services and tasks; the phases of the
service tasks come from the services' Pod informer. `counts` is read on kopf's event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from ecs_operator import API_GROUP, API_VERSION, labels

TASK_PODS: dict[str, Any] = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.TASK: kopf.PRESENT}

_indexes: dict[str, Any] = {}
INDEX_IDS = ("namespace_task_phases", "namespace_services", "namespace_tasks", "cluster_namespaces")


def _live(body: Mapping[str, Any]) -> bool:
    return not (body.get("metadata") or {}).get("deletionTimestamp")


@kopf.index("", "v1", "pods", labels=TASK_PODS, id="namespace_task_phases")
async def namespace_task_phases(namespace: str | None, body: kopf.Body, **_: Any) -> dict[str, str]:
    if not namespace or not _live(body):
        return {}
    return {namespace: str((body.get("status") or {}).get("phase") or "Pending")}


@kopf.index(API_GROUP, API_VERSION, "ecsservices", id="namespace_services")
async def namespace_services(
    namespace: str | None, name: str | None, body: kopf.Body, **_: Any
) -> dict[str, str]:
    return {namespace: str(name)} if namespace and _live(body) else {}


@kopf.index(API_GROUP, API_VERSION, "ecstasks", id="namespace_tasks")
async def namespace_tasks(
    namespace: str | None, name: str | None, body: kopf.Body, **_: Any
) -> dict[str, str]:
    return {namespace: str(name)} if namespace and _live(body) else {}


@kopf.index(API_GROUP, API_VERSION, "ecsclusters", id="cluster_namespaces")
async def cluster_namespaces(name: str | None, body: kopf.Body, **_: Any) -> dict[str, str]:
    namespace = (body.get("spec") or {}).get("namespace") or name
    return {str(name): str(namespace)} if name else {}


def capture(handler_kwargs: Mapping[str, Any]) -> None:
    """kopf passes its indexes to handlers only; keep them for `counts` (called on the loop)."""
    if len(_indexes) < len(INDEX_IDS):
        for index_id in INDEX_IDS:
            if index_id in handler_kwargs:
                _indexes[index_id] = handler_kwargs[index_id]


def _values(index_id: str, key: str) -> list[str]:
    index = _indexes.get(index_id)
    store = index.get(key) if index is not None else None
    return list(store) if store else []


def clusters_of_namespace(namespace: str) -> list[str]:
    index = _indexes.get("cluster_namespaces")
    if index is None:
        return []
    return [name for name, store in index.items() if namespace in store]


@dataclass(frozen=True)
class ClusterCounts:
    namespace: str
    running_tasks: int
    pending_tasks: int
    active_services: int
    standalone_tasks: int


def service_pod_phases(namespace: str) -> list[str]:
    from ecs_operator.handlers import service_cache  # the service tasks are watched by its informers

    return service_cache.pod_phases_in(namespace)


def counts(cluster: str) -> ClusterCounts | None:
    """The counts of a cluster's namespace; None while the cluster is not indexed."""
    namespaces = _values("cluster_namespaces", cluster)
    if not namespaces:
        return None
    namespace = namespaces[0]
    phases = _values("namespace_task_phases", namespace) + service_pod_phases(namespace)
    return ClusterCounts(
        namespace=namespace,
        running_tasks=phases.count("Running"),
        pending_tasks=phases.count("Pending"),
        active_services=len(_values("namespace_services", namespace)),
        standalone_tasks=len(_values("namespace_tasks", namespace)),
    )
