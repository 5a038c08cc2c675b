"""EcsCluster -> its Namespace; status as ECS's Cluster; deletion refused while services or tasks exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from ecs_operator import children, kube, labels, metrics
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
from ecs_operator.handlers._sync import Coalescer, now
from ecs_operator.status import DEGRADED, PROGRESSING, READY, condition, merge_conditions, pod_phase

KIND = "EcsCluster"
PLURAL = "ecsclusters"
REFUSED_MESSAGE = "The cluster cannot be deleted while services are active."
COUNTS_INTERVAL = 10.0

_sync = Coalescer()
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


def sync_cluster(name: str) -> None:
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
        write_status(body, _status(body, namespace_ready, _counts(name, cluster_namespace(body)), False))


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.on.resume(GROUP, VERSION, PLURAL)
def reconcile_cluster(name: str, **_: Any) -> None:
    clusters.invalidate()
    _sync.run(name, lambda: sync_cluster(name))


@kopf.timer(GROUP, VERSION, PLURAL, interval=COUNTS_INTERVAL, initial_delay=COUNTS_INTERVAL, idle=None)
def refresh_cluster_counts(name: str, body: kopf.Body, **_: Any) -> None:
    """Counts follow Nodes, Pods and services; recomputed periodically, written only when they change."""
    if body.meta.get("deletionTimestamp"):
        return
    _sync.run(name, lambda: sync_cluster(name))


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
