"""The cluster a request names: a name, an ARN or nothing (the default cluster), resolved through the
caches; a write into a cluster created moments ago waits for its namespace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecs_operator import identifiers
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.errors import ClusterNotFoundException, InvalidParameterException
from ecs_operator.ecsapi.store import oldest_live
from ecs_operator.naming import cluster_namespace
from ecs_operator.status.conditions import READY, condition_status

DEFAULT_CLUSTER = "default"
# A cluster's namespace is made by the operator within a second or two of CreateCluster; a write into a
# cluster younger than this waits for it, so any call right after CreateCluster works.
NEW_CLUSTER_SECONDS = 30.0
Obj = Mapping[str, Any]


@dataclass(frozen=True)
class ClusterRef:
    name: str  # the ECS name
    namespace: str
    obj: Obj


def cluster_name(reference: str | None) -> str:
    """`cluster` as a request gives it (name, ARN or nothing) -> the name; nothing means `default`."""
    if not reference:
        return DEFAULT_CLUSTER
    return identifiers.name_in(reference, "cluster")


def cluster_object(ctx: Context, name: str) -> Obj | None:
    """The EcsCluster an ECS cluster name names (whatever its metadata.name), deleting or not."""
    return oldest_live(ctx.store.find(store.CLUSTER, name))


def find_cluster(ctx: Context, reference: str | None) -> ClusterRef:
    name = cluster_name(reference)
    obj = cluster_object(ctx, name)
    if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
        raise ClusterNotFoundException("Cluster not found.")
    return ClusterRef(name, cluster_namespace(obj), obj)


def cluster_for_write(ctx: Context, reference: str | None) -> ClusterRef:
    """`find_cluster`, waiting for a cluster created moments ago to have its namespace (the operator makes
    it), so that a write right after CreateCluster lands."""
    cluster = find_cluster(ctx, reference)
    if condition_status((cluster.obj.get("status") or {}).get("conditions"), READY) == "True":
        return cluster
    created = (cluster.obj.get("metadata") or {}).get("creationTimestamp")
    if created and ctx.clock() - _epoch(created) > NEW_CLUSTER_SECONDS:
        return cluster

    def ready() -> bool:
        current = cluster_object(ctx, cluster.name) or {}
        return condition_status((current.get("status") or {}).get("conditions"), READY) == "True"

    ctx.store.wait(ready, NEW_CLUSTER_SECONDS)
    return find_cluster(ctx, reference)


def _epoch(timestamp: object) -> float:
    from ecs_operator.ecsapi.describe import epoch

    return epoch(timestamp) or 0.0


NOT_ASSOCIATED = (
    "The specified capacity provider strategy cannot contain a capacity provider that is not associated "
    "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
    "provider and try again."
)


def check_strategy_of(cluster: ClusterRef, request: Mapping[str, Any]) -> None:
    """A service's or task's capacity provider strategy names only the cluster's providers, as ECS requires
    (PutClusterCapacityProviders associates them)."""
    associated = set((cluster.obj.get("spec") or {}).get("capacityProviders") or ())
    for index, item in enumerate(request.get("capacityProviderStrategy") or ()):
        if item.get("capacityProvider") not in associated:
            raise InvalidParameterException(
                f"capacityProviderStrategy[{index}].capacityProvider: {NOT_ASSOCIATED}"
            )
