"""Reads every controller makes the same way: a namespace's ECS cluster, a family's revisions."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.controllers.sources import cluster_of_namespace_index
from ecs_operator.identifiers import task_definition_reference
from ecs_operator.naming import cluster_name, cluster_namespace, label_value
from ecs_operator.revisions import Revision, from_controller_revision
from ecs_operator.runtime import Key, View, Watch, via_index
from ecs_operator.translate.workload import cluster_placement

TASK_DEFINITION_NOT_FOUND = "TaskDefinitionNotFound"


def now() -> str:
    """The time stamps the operator writes (RFC 3339, seconds). Only gather functions read the clock: the
    pure layers (status, plans, translate) are given it."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ClusterInfo:
    name: str  # the ECS cluster a namespace belongs to (the namespace's name when no EcsCluster owns it)
    default_strategy: list[dict[str, Any]] | None = None  # its defaultCapacityProviderStrategy
    capacity_providers: tuple[str, ...] = ()

    def placement(self) -> dict[str, Any]:
        """What translation needs of the cluster (`translate.workload.Placement`)."""
        return {
            "cluster": self.name,
            "default_capacity_provider_strategy": self.default_strategy,
            "capacity_providers": self.capacity_providers,
        }


def cluster_of(view: View, namespace: str) -> ClusterInfo:
    for cluster in view.by_index("EcsCluster", "namespace", namespace):
        if cluster_namespace(cluster) == namespace:
            placement = cluster_placement(cluster_name(cluster), cluster.get("spec") or {})
            return ClusterInfo(
                placement["cluster"],
                placement["default_capacity_provider_strategy"],
                placement["capacity_providers"],
            )
    return ClusterInfo(namespace)


def cluster_settings(cluster: Mapping[str, Any]) -> tuple[str, Any]:
    """What cluster_of reads from an EcsCluster: its name and spec, not its status."""
    return str(cluster["metadata"]["name"]), cluster.get("spec")


def cluster_watch(kind: str) -> Watch:
    """The EcsCluster of a namespace, for the controller of `kind` whose keys live there: a new cluster or
    new settings wake them, the cluster's counts (patched about once a second in a burst) do not."""
    return Watch("EcsCluster", via_index(kind, "active", cluster_of_namespace_index), reads=cluster_settings)


def revisions_of(view: View, family: str) -> list[Revision]:
    """A family's revisions, oldest first (a just-registered one stands in until watched). Task definitions
    are regional: every cluster's services and tasks resolve the same revisions."""
    found = view.children(["ControllerRevision"], "family", family)
    revisions = [from_controller_revision(obj) for obj in found.values()]
    return sorted((r for r in revisions if r.family == family), key=lambda r: r.number)


def not_found_message(reference: str) -> str:
    return (
        f"taskDefinition: task definition {reference!r} not found "
        "(no EcsTaskDefinition registered it, or its revisions are INACTIVE)"
    )


def spec_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    return body.get("spec") or {}


@dataclass(frozen=True)
class WorkloadSnapshot:
    """What a service or task pass reads: its resource, its cluster, its family's revisions, its children."""

    now: str
    body: dict[str, Any] | None
    cluster: ClusterInfo = field(default_factory=lambda: ClusterInfo(""))
    revisions: list[Revision] = field(default_factory=list)
    children: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (kind, name) -> live
    registering: bool = False  # an EcsTaskDefinition of the family has a spec not registered yet


def gather_workload(
    kind: str, key: Key, view: View, reference: Any, child_kinds: Iterable[str], index: str
) -> WorkloadSnapshot:
    """`reference(body)` names the task definition; children are found by `index` = the owner's label."""
    body = view.custom_resource(kind, key)
    if body is None:
        return WorkloadSnapshot(now(), None)
    family = task_definition_reference(reference(body))[0]
    return WorkloadSnapshot(
        now=now(),
        body=body,
        cluster=cluster_of(view, key[0]),
        revisions=revisions_of(view, family),
        children=view.children(child_kinds, index, owner_label_key(key)),
        registering=registering(view, family),
    )


def registering(view: View, family: str) -> bool:
    """Whether an EcsTaskDefinition of `family` has a spec the operator has not registered yet: a service
    or task applied together with its task definition waits for it instead of reporting it missing."""
    return any(
        (td.get("status") or {}).get("observedGeneration") != td["metadata"].get("generation")
        for td in view.by_index("EcsTaskDefinition", "family", family)
    )


def owner_label_key(key: Key) -> Key:
    """The key children carry in their owner label (`label_value` of the name, at most 63 characters)."""
    return key[0], label_value(key[1])
