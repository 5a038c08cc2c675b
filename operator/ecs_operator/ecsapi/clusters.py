"""Clusters: an ECS cluster is an EcsCluster (cluster-scoped) named by its `spec.clusterName`, which owns
the Namespace its services and tasks live in; its container instances are the Nodes labelled with its
name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.awsmodel.ecs import (
    CreateClusterRequest,
    CreateClusterResponse,
    DeleteClusterRequest,
    DeleteClusterResponse,
    DescribeClustersRequest,
    DescribeClustersResponse,
    ListClustersRequest,
    ListClustersResponse,
    PutClusterCapacityProvidersRequest,
    PutClusterCapacityProvidersResponse,
    UpdateClusterRequest,
    UpdateClusterResponse,
    UpdateClusterSettingsRequest,
    UpdateClusterSettingsResponse,
)
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.accountsettings import effective
from ecs_operator.ecsapi.capacityproviders import clusters_using, exists
from ecs_operator.ecsapi.clusterref import NEW_CLUSTER_SECONDS, cluster_name, cluster_object, find_cluster
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import (
    ClientException,
    ClusterContainsServicesException,
    ClusterContainsTasksException,
    InvalidParameterException,
    ResourceInUseException,
    check_name,
    refusal,
)
from ecs_operator.ecsapi.paging import page, paged
from ecs_operator.ecsapi.patching import merge_patch
from ecs_operator.ecsapi.tags import check_tagging
from ecs_operator.kube import KubeError
from ecs_operator.naming import cluster_name as ecs_name
from ecs_operator.naming import cluster_namespace, cluster_object_name, label_value, service_name
from ecs_operator.resources import SpecError, check_cluster_request
from ecs_operator.resources.capacityprovider import BUILT_IN
from ecs_operator.status.pods import PENDING, RUNNING

KIND = store.CLUSTER


def _description(
    ctx: Context, obj: Mapping[str, Any], include: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    nodes = {str(n["metadata"]["name"]) for n in ctx.store.find(store.NODE, label_value(ecs_name(obj)))}
    counted = _statistics(ctx, obj, nodes) if "STATISTICS" in include else ()
    return describe.cluster(obj, ctx.partition, include, len(nodes), counted)


def _statistics(ctx: Context, obj: Mapping[str, Any], instances: set[str]) -> list[dict[str, str]]:
    """ECS's cluster statistics: tasks and services per launch type (a task not on one of the cluster's
    container instances runs on the Fargate pool)."""
    tally = ctx.store.tally(cluster_namespace(obj))
    counts: dict[str, int] = {}

    def add(name: str, count: int) -> None:
        counts[name] = counts.get(name, 0) + count

    for (state, node), count in tally.tasks.items():
        launch = "EC2" if not node or node in instances else "Fargate"
        if state in (RUNNING, PENDING):
            add(f"{state.lower()}{launch}TasksCount", count)
    for (fargate, draining), count in tally.services.items():
        add(f"{'draining' if draining else 'active'}{'Fargate' if fargate else 'EC2'}ServiceCount", count)
    names = [
        f"{state}{launch}{what}"
        for state, what in (("running", "TasksCount"), ("pending", "TasksCount"))
        for launch in ("EC2", "Fargate")
    ] + [f"{state}{launch}ServiceCount" for state in ("active", "draining") for launch in ("EC2", "Fargate")]
    return [{"name": name, "value": str(counts.get(name, 0))} for name in names]


def create_cluster(ctx: Context, request: CreateClusterRequest) -> CreateClusterResponse:
    name = request.get("clusterName") or "default"
    check_name("clusterName", name)
    spec: dict[str, Any] = {k: v for k, v in request.items() if v is not None}
    spec["clusterName"] = name
    settings = list(spec.get("settings") or ())
    if not any(s.get("name") == "containerInsights" for s in settings):
        insights = effective(ctx, "containerInsights")
        if insights != "disabled":  # the account's default for new clusters (PutAccountSettingDefault)
            spec["settings"] = [*settings, {"name": "containerInsights", "value": insights}]
    _validated(ctx, spec)
    check_tagging(ctx, KIND, "", spec.get("tags"))
    existing = _live_or_gone(ctx, name)
    if existing is not None:
        return {"cluster": _description(ctx, existing)}  # ECS's CreateCluster is idempotent
    object_name = _free_name(ctx, name)
    obj = {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": KIND,
        "metadata": {"name": object_name},
        "spec": spec,
    }
    with kube_errors(f"EcsCluster {object_name} (cluster {name})"):
        try:
            created = ctx.kube.create(obj)
        except KubeError as error:
            if error.status != 409:
                raise
            created = None
    await_cached(ctx, KIND, "", object_name, created)
    current = created if created is not None else _live_or_gone(ctx, name)
    if current is None:  # another EcsCluster took the name meanwhile
        raise ClientException(f"clusterName: EcsCluster {object_name} was created meanwhile; try again.")
    return {"cluster": _description(ctx, current)}


def _live_or_gone(ctx: Context, name: str) -> Mapping[str, Any] | None:
    """The live EcsCluster of an ECS name, if any. ECS reuses a deleted cluster's name at once; here the
    EcsCluster of a deleted cluster goes once the operator let it go (its services and tasks gone), so
    a CreateCluster of its name waits for that, and says so if it does not come."""
    found = cluster_object(ctx, name)
    if found is None or not found["metadata"].get("deletionTimestamp"):
        return found
    ctx.store.wait(lambda: cluster_object(ctx, name) is None, NEW_CLUSTER_SECONDS)
    if cluster_object(ctx, name) is not None:
        raise ClientException(
            f"clusterName: cluster {name} is still being deleted; create it again once DescribeClusters no "
            "longer answers it."
        )
    return None


def _free_name(ctx: Context, name: str) -> str:
    """The cluster's EcsCluster (and Namespace) name: derived from its ECS name, with a suffix when an
    EcsCluster of another ECS name (written with kubectl) has it."""
    candidate, suffix = cluster_object_name(name), 2
    while (taken := ctx.store.get(KIND, "", candidate)) is not None and ecs_name(taken) != name:
        candidate = cluster_object_name(f"{name}-{suffix}")
        suffix += 1
    return candidate


def _validated(ctx: Context, spec: Mapping[str, Any]) -> None:
    """The spec as admission checks it, and its capacity providers as ECS does."""
    try:
        check_cluster_request(spec)
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None
    check_strategy(
        ctx, spec.get("capacityProviders") or (), spec.get("defaultCapacityProviderStrategy") or ()
    )


def check_strategy(ctx: Context, providers: Sequence[str], strategy: Sequence[Mapping[str, Any]]) -> None:
    """Every provider exists, and a strategy names only the cluster's providers."""
    for index, name in enumerate(providers):
        if not exists(ctx, str(name)):
            raise InvalidParameterException(
                f"capacityProviders[{index}]: the capacity provider {name} does not exist"
            )
    for index, item in enumerate(strategy):
        if item.get("capacityProvider") not in providers:
            raise InvalidParameterException(
                f"defaultCapacityProviderStrategy[{index}].capacityProvider: {item.get('capacityProvider')} "
                "is not associated with the cluster (list it in capacityProviders)"
            )


def describe_clusters(ctx: Context, request: DescribeClustersRequest) -> DescribeClustersResponse:
    include = [str(i) for i in request.get("include") or ()]
    clusters = []
    failures = []
    for reference in request.get("clusters") or ["default"]:
        name = cluster_name(reference)
        obj = cluster_object(ctx, name)
        ctx.authorizer.check(
            "get", KIND, "", str(obj["metadata"]["name"]) if obj else cluster_object_name(name)
        )
        if obj is not None:
            clusters.append(_description(ctx, obj, include))
        elif (gone := ctx.store.gone(KIND, name)) is not None:
            clusters.append(_inactive(ctx, gone, include))
        else:
            failures.append({"arn": ctx.partition.cluster(name), "reason": "MISSING"})
    return cast(DescribeClustersResponse, {"clusters": clusters, "failures": failures})


def list_clusters(ctx: Context, request: ListClustersRequest) -> ListClustersResponse:
    ctx.authorizer.check("list", KIND)
    arns = sorted({ctx.partition.cluster(ecs_name(o)) for o in ctx.store.in_namespace(KIND, "")})
    chunk, token = page(arns, str, request.get("nextToken"), request.get("maxResults"), 100)
    return cast(ListClustersResponse, paged("clusterArns", chunk, token))


def delete_cluster(ctx: Context, request: DeleteClusterRequest) -> DeleteClusterResponse:
    cluster = find_cluster(ctx, request["cluster"])
    ctx.authorizer.check("list", store.SERVICE, cluster.namespace)
    ctx.authorizer.check("list", store.TASK, cluster.namespace)
    services = [
        s
        for s in ctx.store.in_namespace(store.SERVICE, cluster.namespace)
        if not s["metadata"].get("deletionTimestamp")
    ]
    if services:
        raise ClusterContainsServicesException("The Cluster cannot be deleted while Services are active.")
    tasks = ctx.store.in_namespace(store.TASK, cluster.namespace)
    if any(_has_live_tasks(t) for t in tasks):
        raise ClusterContainsTasksException("The Cluster cannot be deleted while Tasks are active.")
    with kube_errors(f"cluster {cluster.name}"):
        # What is left of stopped tasks are records (ECS forgets them too); the operator refuses to
        # delete a cluster while any EcsTask remains.
        for task in tasks:
            ctx.kube.delete(store.TASK, task["metadata"]["name"], cluster.namespace)
        ctx.kube.delete(KIND, str(cluster.obj["metadata"]["name"]))
    await_cached(ctx, KIND, "", str(cluster.obj["metadata"]["name"]), None)
    return cast(DeleteClusterResponse, {"cluster": _inactive(ctx, cluster.obj, [])})


def _inactive(ctx: Context, obj: Mapping[str, Any], include: list[str]) -> dict[str, Any]:
    """A deleted cluster, as ECS describes it for a while after DeleteCluster (here: while the caches
    remember its last state, minutes)."""
    description = _description(ctx, dict(obj), include)
    description.update(status="INACTIVE", activeServicesCount=0, runningTasksCount=0, pendingTasksCount=0)
    return description


def _has_live_tasks(task: dict[str, Any]) -> bool:
    entries = (task.get("status") or {}).get("tasks")
    if not entries:
        return not task["metadata"].get("deletionTimestamp")
    return any(e.get("lastStatus") != "STOPPED" for e in entries)


# --- changes to a cluster (UpdateCluster, UpdateClusterSettings, PutClusterCapacityProviders) ------


def _update(ctx: Context, reference: str | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Write `changes` (members of the cluster's spec, None removing one) and answer the cluster."""
    cluster = find_cluster(ctx, reference)
    old = dict(cluster.obj.get("spec") or {})
    spec = {k: v for k, v in {**old, **changes}.items() if v is not None}
    _validated(ctx, spec)
    name = str(cluster.obj["metadata"]["name"])
    patch = merge_patch(old, spec)
    written: Mapping[str, Any] = cluster.obj
    if patch:
        with kube_errors(f"cluster {cluster.name}"):
            written = ctx.kube.merge_patch(KIND, name, None, {"spec": patch}) or cluster.obj
        await_cached(ctx, KIND, "", name, written)
    current = ctx.store.get(KIND, "", name) or written
    return _description(ctx, current, ("SETTINGS", "CONFIGURATIONS", "TAGS"))


def update_cluster(ctx: Context, request: UpdateClusterRequest) -> UpdateClusterResponse:
    given: Mapping[str, Any] = request
    changes = {
        member: given[member]
        for member in ("settings", "configuration", "serviceConnectDefaults")
        if given.get(member) is not None
    }
    return cast(UpdateClusterResponse, {"cluster": _update(ctx, request["cluster"], changes)})


def update_cluster_settings(
    ctx: Context, request: UpdateClusterSettingsRequest
) -> UpdateClusterSettingsResponse:
    return cast(
        UpdateClusterSettingsResponse,
        {"cluster": _update(ctx, request["cluster"], {"settings": request["settings"]})},
    )


def put_cluster_capacity_providers(
    ctx: Context, request: PutClusterCapacityProvidersRequest
) -> PutClusterCapacityProvidersResponse:
    """ECS's rules: a provider of the Auto Scaling kind serves one cluster only, and one a service's
    strategy names cannot be removed."""
    cluster = find_cluster(ctx, request["cluster"])
    providers = list(request["capacityProviders"])
    for index, name in enumerate(providers):
        others = [c for c in clusters_using(ctx, name) if c != cluster.name]
        if name not in BUILT_IN and others:
            raise ResourceInUseException(
                f"capacityProviders[{index}]: The specified capacity provider {name} is already associated "
                f"with cluster {others[0]}."
            )
    removed = set((cluster.obj.get("spec") or {}).get("capacityProviders") or ()) - set(providers)
    for service in ctx.store.in_namespace(store.SERVICE, cluster.namespace):
        used = {
            s.get("capacityProvider")
            for s in (service.get("spec") or {}).get("capacityProviderStrategy") or ()
        }
        if used & removed:
            raise ResourceInUseException(
                f"capacityProviders: {', '.join(sorted(str(p) for p in used & removed))} is used by service "
                f"{service_name(service)} and cannot be removed."
            )
    changes = {
        "capacityProviders": providers or None,
        "defaultCapacityProviderStrategy": list(request["defaultCapacityProviderStrategy"]) or None,
    }
    return cast(PutClusterCapacityProvidersResponse, {"cluster": _update(ctx, request["cluster"], changes)})
