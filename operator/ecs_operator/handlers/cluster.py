"""EcsCluster -> its Namespace; status as ECS's Cluster; deletion refused while services or tasks exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from ecs_operator import children, kube, labels, metrics
from ecs_operator.handlers import cluster_counts
from ecs_operator.handlers._common import (
    GROUP,
    MANAGED,
    VERSION,
    apply_children,
    clusters,
    report_spec_error,
    spec_error_message,
    write_status,
)
from ecs_operator.handlers._scheduler import Scheduler
from ecs_operator.handlers._sync import now
from ecs_operator.handlers.cluster_counts import ClusterCounts
from ecs_operator.status import DEGRADED, PROGRESSING, READY, condition, merge_conditions, pod_phase

KIND = "EcsCluster"
PLURAL = "ecsclusters"
REFUSED_MESSAGE = "The cluster cannot be deleted while services are active."
# Task and service counts follow their watch events after this delay (bursts fold into one write).
COUNTS_DELAY_SECONDS = 1.0
NODES_INTERVAL = 10.0
CLUSTER_SYNC_WORKERS = 2

_managed = metrics.ManagedSet(KIND)


def cluster_namespace(body: Mapping[str, Any]) -> str:
    return str((body.get("spec") or {}).get("namespace") or body["metadata"]["name"])


def _counts(name: str, namespace: str) -> dict[str, int]:
    client = kube.shared()
    nodes = client.list("Node", labels={labels.CLUSTER: name})
    pods = [p for p in client.list("Pod", namespace, MANAGED) if not p["metadata"].get("deletionTimestamp")]
    services = [s for s in client.list("EcsService", namespace) if not s["metadata"].get("deletionTimestamp")]
    tasks = [t for t in client.list("EcsTask", namespace) if not t["metadata"].get("deletionTimestamp")]
    return {
        "registeredContainerInstancesCount": len(nodes),
        "runningTasksCount": sum(1 for p in pods if pod_phase(p) == "Running"),
        "pendingTasksCount": sum(1 for p in pods if pod_phase(p) == "Pending"),
        "activeServicesCount": len(services),
        "standaloneTasks": len(tasks),
    }


def _status(
    body: Mapping[str, Any], namespace_ready: bool, counts: dict[str, int], refused: bool
) -> dict[str, Any]:
    previous = body.get("status") or {}
    generation = body["metadata"].get("generation")
    namespace = cluster_namespace(body)
    if refused:
        conditions = [
            condition(READY, namespace_ready, "DeletionRefused", REFUSED_MESSAGE, generation),
            condition(PROGRESSING, True, "DeletionRefused", REFUSED_MESSAGE, generation),
            condition(DEGRADED, False, "DeletionRefused", REFUSED_MESSAGE, generation),
        ]
    elif namespace_ready:
        message = f"Namespace {namespace} is active."
        conditions = [
            condition(READY, True, "NamespaceActive", message, generation),
            condition(PROGRESSING, False, "NamespaceActive", message, generation),
            condition(DEGRADED, False, "NamespaceActive", message, generation),
        ]
    else:
        message = f"Waiting for namespace {namespace}."
        conditions = [
            condition(READY, False, "NamespacePending", message, generation),
            condition(PROGRESSING, True, "NamespacePending", message, generation),
            condition(DEGRADED, False, "NamespacePending", message, generation),
        ]
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "status": "DEPROVISIONING" if refused else "ACTIVE",
        "registeredContainerInstancesCount": counts["registeredContainerInstancesCount"],
        "runningTasksCount": counts["runningTasksCount"],
        "pendingTasksCount": counts["pendingTasksCount"],
        "activeServicesCount": counts["activeServicesCount"],
        "conditions": merge_conditions(previous.get("conditions"), conditions, now()),
    }
    return status


def _counted(name: str, known: ClusterCounts | None, namespace: str) -> dict[str, int]:
    if known is None:  # not indexed yet (just created): count with the API
        return _counts(name, namespace)
    nodes = kube.shared().list("Node", labels={labels.CLUSTER: name})
    return {
        "registeredContainerInstancesCount": len(nodes),
        "runningTasksCount": known.running_tasks,
        "pendingTasksCount": known.pending_tasks,
        "activeServicesCount": known.active_services,
        "standaloneTasks": known.standalone_tasks,
    }


def sync_cluster(name: str, known: ClusterCounts | None = None) -> None:
    body = kube.shared().get(KIND, name)
    if body is None:
        _managed.discard(None, name)
        return
    _managed.add(None, name)
    if body["metadata"].get("deletionTimestamp"):
        return
    from ecs_operator.api import SpecError, parse_cluster
    from ecs_operator.translate import translate_cluster

    with metrics.observe(KIND):
        try:
            spec = parse_cluster(body.get("spec") or {})
        except SpecError as error:
            report_spec_error(body, "InvalidSpec", spec_error_message(error), now())
            return
        translation = translate_cluster(spec.to_ecs(), name=name, owner=children.owner_reference(body))
        live, _ = apply_children(translation.objects)
        namespace_obj = next((o for o in live if o.get("kind") == "Namespace"), None)
        namespace_ready = (namespace_obj or {}).get("status", {}).get("phase", "Active") == "Active"
        counts = _counted(name, known, cluster_namespace(body))
        write_status(body, _status(body, namespace_ready, counts, False))


scheduler: Scheduler[str] = Scheduler(
    "ecs-cluster-sync",
    lambda name, known: sync_cluster(name, known),
    cluster_counts.counts,
    workers=CLUSTER_SYNC_WORKERS,
    delay=COUNTS_DELAY_SECONDS,
)


@kopf.on.startup()
async def start_cluster_syncs(**_: Any) -> None:
    scheduler.start()


@kopf.on.cleanup()
async def stop_cluster_syncs(**_: Any) -> None:
    await scheduler.stop()


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.on.resume(GROUP, VERSION, PLURAL)
def reconcile_cluster(name: str, **kwargs: Any) -> None:
    cluster_counts.capture(kwargs)
    clusters.invalidate()
    scheduler.touch(name, 0.0)


@kopf.timer(GROUP, VERSION, PLURAL, interval=NODES_INTERVAL, initial_delay=NODES_INTERVAL, idle=None)
def refresh_cluster_nodes(name: str, body: kopf.Body, **kwargs: Any) -> None:
    """Nodes are not watched: their count is rechecked periodically (written only when it changes)."""
    cluster_counts.capture(kwargs)
    if not body.meta.get("deletionTimestamp"):
        scheduler.touch(name)


def counts_changed(namespace: str) -> None:
    """Something counted in `namespace` changed (called on the loop): its cluster recounts in a second."""
    if scheduler.started:
        for name in cluster_counts.clusters_of_namespace(namespace):
            scheduler.touch(name)


async def _counted_object_changed(namespace: str | None, **kwargs: Any) -> None:
    """A task Pod, an EcsService or an EcsTask changed: its cluster's counts follow within a second."""
    cluster_counts.capture(kwargs)
    if namespace:
        counts_changed(namespace)


kopf.on.event("", "v1", "pods", labels=cluster_counts.TASK_PODS, id="cluster-counts-pods")(
    _counted_object_changed
)
kopf.on.event(GROUP, VERSION, "ecsservices", id="cluster-counts-services")(_counted_object_changed)
kopf.on.event(GROUP, VERSION, "ecstasks", id="cluster-counts-tasks")(_counted_object_changed)


@kopf.on.delete(GROUP, VERSION, PLURAL)
def delete_cluster(name: str, **_: Any) -> None:
    """Refuse (keep the finalizer, retry) while services or tasks remain, as ECS's DeleteCluster does."""
    client = kube.shared()
    body = client.get(KIND, name)
    if body is None:
        return
    namespace = cluster_namespace(body)
    counts = _counts(name, namespace)
    if counts["activeServicesCount"] or counts["standaloneTasks"]:
        previous = body.get("status") or {}
        if previous.get("status") != "DEPROVISIONING":
            detail = (
                f"{REFUSED_MESSAGE} Namespace {namespace} still has {counts['activeServicesCount']} services "
                f"and {counts['standaloneTasks']} tasks."
            )
            client.post_event(body, "DeletionRefused", detail, "Warning")
        write_status(body, _status(body, True, counts, True))
        raise kopf.TemporaryError(REFUSED_MESSAGE, delay=5)
    _managed.discard(None, name)
