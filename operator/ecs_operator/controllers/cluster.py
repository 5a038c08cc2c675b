"""EcsCluster -> its Namespace; status as ECS's Cluster with its counts; deletion refused while services or
tasks remain (the protection finalizer stays, status DEPROVISIONING), as ECS's DeleteCluster refuses it.

Counts come from the caches' indexes without decoding anything: container instances are the Nodes labelled
for the cluster, tasks are the namespace's task Pods by phase, services and tasks those not being deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.api import SpecError, parse_cluster
from ecs_operator.controllers.gather import now, spec_of
from ecs_operator.controllers.sources import cluster_label, labelled, namespace_of
from ecs_operator.naming import cluster_name, cluster_namespace
from ecs_operator.plans.plan import finalizers, to_apply
from ecs_operator.runtime import Controller, Key, Plan, View, Watch, register, via_index
from ecs_operator.status.cluster import ClusterCounts, cluster_status, refusal_events
from ecs_operator.status.pods import PENDING, RUNNING, task_state
from ecs_operator.status.problems import not_mapped, spec_error, spec_error_message, with_not_mapped
from ecs_operator.translate import translate_cluster
from ecs_operator.translate.metadata import owner_identity

KIND = "EcsCluster"
PROTECTED = [labels.CLUSTER_PROTECTION_FINALIZER]
LEGACY = [labels.LEGACY_FINALIZER]


@dataclass(frozen=True)
class ClusterSnapshot:
    now: str
    body: dict[str, Any] | None
    namespace: str = ""
    children: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    counts: ClusterCounts = field(default_factory=lambda: ClusterCounts(0, 0, 0, 0, 0))
    deleted_services: list[dict[str, Any]] = field(default_factory=list)  # their last state
    older_twin: str | None = None  # an older EcsCluster of the same ECS name, which has it


def gather_cluster(key: Key, view: View) -> ClusterSnapshot:
    body = view.custom_resource(KIND, key)
    if body is None:
        return ClusterSnapshot(now(), None)
    namespace = cluster_namespace(body)
    [label] = cluster_label(body)
    counts = ClusterCounts(
        container_instances=view.count("Node", "cluster", label),
        running_tasks=view.count("Pod", "state", (namespace, RUNNING)),
        pending_tasks=view.count("Pod", "state", (namespace, PENDING)),
        active_services=view.count("EcsService", "active", namespace),
        standalone_tasks=view.count("EcsTask", "active", namespace),
    )
    children = view.children(["Namespace"], "cluster", label)
    deleted = view.gone("EcsService", "namespace", namespace)
    return ClusterSnapshot(now(), body, namespace, children, counts, deleted, _older_twin(view, body))


def _older_twin(view: View, body: Mapping[str, Any]) -> str | None:
    mine = (str(body["metadata"].get("creationTimestamp") or ""), str(body["metadata"]["name"]))
    twins = [
        (str(o["metadata"].get("creationTimestamp") or ""), str(o["metadata"]["name"]))
        for o in view.by_index(KIND, "name", cluster_name(body))
    ]
    older = [t for t in twins if t < mine]
    return min(older)[1] if older else None


def reconcile_cluster(key: Key, snapshot: ClusterSnapshot) -> Plan | None:
    body = snapshot.body
    if body is None:
        return None
    previous = body.get("status") or {}
    generation = body["metadata"].get("generation")
    namespace = snapshot.namespace
    live_namespace = snapshot.children.get(("Namespace", namespace))
    namespace_ready = live_namespace is not None and live_namespace.get("status", {}).get("phase") == "Active"
    counts = snapshot.counts
    if body["metadata"].get("deletionTimestamp"):
        if counts.active_services or counts.standalone_tasks:
            status = cluster_status(
                previous,
                generation,
                namespace,
                namespace_ready,
                counts,
                True,
                snapshot.now,
                snapshot.deleted_services,
            )
            return Plan(body, status=status, events=tuple(refusal_events(previous, namespace, counts)))
        return Plan(body, finalizers=finalizers(body, remove=[*PROTECTED, *LEGACY]))
    wanted_finalizers = finalizers(body, add=PROTECTED, remove=LEGACY)
    try:
        spec = parse_cluster(spec_of(body))
    except SpecError as error:
        status, events = spec_error(
            previous, generation, "InvalidSpec", spec_error_message(error), snapshot.now
        )
        return Plan(body, status=status, events=tuple(events), finalizers=wanted_finalizers)
    if snapshot.older_twin is not None:
        message = (
            f"spec.clusterName: cluster {cluster_name(body)!r} is already EcsCluster {snapshot.older_twin}; "
            "an ECS cluster name names one cluster"
        )
        status, events = spec_error(previous, generation, "DuplicateClusterName", message, snapshot.now)
        return Plan(body, status=status, events=tuple(events), finalizers=wanted_finalizers)
    translation = translate_cluster(
        spec.to_ecs(), name=cluster_name(body), namespace=namespace, owner=owner_identity(body)
    )
    apply = to_apply(translation.objects, snapshot.children)
    if apply:
        return Plan(body, apply=apply, finalizers=wanted_finalizers, requeue_after=1.0)
    lines, events = not_mapped(previous, translation.warnings)
    status = cluster_status(
        previous,
        generation,
        namespace,
        namespace_ready,
        counts,
        False,
        snapshot.now,
        snapshot.deleted_services,
    )
    return Plan(
        body, status=with_not_mapped(status, lines), events=tuple(events), finalizers=wanted_finalizers
    )


def _clusters_of(obj: Mapping[str, Any]) -> list[str]:
    return [namespace_of(obj)]


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def _phase(pod: Mapping[str, Any]) -> str:
    """What a cluster counts of a task Pod."""
    return task_state(pod)


CONTROLLER = register(
    Controller(
        kind=KIND,
        gather=gather_cluster,
        reconcile=reconcile_cluster,
        watches=(
            Watch("Namespace", via_index(KIND, "label", labelled(labels.CLUSTER))),
            Watch("Node", via_index(KIND, "label", labelled(labels.CLUSTER))),
            Watch("Pod", via_index(KIND, "namespace", _clusters_of), reads=_phase),
            # A service or task counts from its creation to its deletion; a deleted service is recorded.
            Watch("EcsService", via_index(KIND, "namespace", _clusters_of), reads=_deleting),
            Watch("EcsTask", via_index(KIND, "namespace", _clusters_of), reads=_deleting),
        ),
        applies=("Namespace",),
        finalizers=(*PROTECTED, *LEGACY),
        workers=2,
        # Counts are written once their Pods and services have been quiet for a quarter second, every
        # two seconds during a burst: a burst folds into few status writes, and its end shows at once.
        debounce=2.0,
        settle=0.25,
    )
)
