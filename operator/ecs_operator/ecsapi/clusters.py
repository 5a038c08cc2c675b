"""Clusters: an ECS cluster is an EcsCluster (cluster-scoped), which owns the Namespace its services,
tasks and task definitions live in; its container instances are the Nodes labelled with its name."""

from __future__ import annotations

from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.api import SpecError, parse_cluster
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.common import (
    await_cached,
    check_name,
    cluster_name,
    find_cluster,
    object_name,
    page,
    paged,
    refusal,
)
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import (
    ClusterContainsServicesException,
    ClusterContainsTasksException,
    InvalidParameterException,
)
from ecs_operator.ecsapi.model import (
    CreateClusterRequest,
    CreateClusterResponse,
    DeleteClusterRequest,
    DeleteClusterResponse,
    DescribeClustersRequest,
    DescribeClustersResponse,
    ListClustersRequest,
    ListClustersResponse,
)
from ecs_operator.kube import KubeError

KIND = store.CLUSTER


def _description(
    ctx: Context, obj: dict[str, Any], include: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    name = str(obj["metadata"]["name"])
    instances = len(ctx.store.find(store.NODE, name))
    return describe.cluster(obj, ctx.partition, include, instances)


def create_cluster(ctx: Context, request: CreateClusterRequest) -> CreateClusterResponse:
    name = request.get("clusterName") or "default"
    check_name("clusterName", name)
    if object_name(name) != name:
        raise InvalidParameterException(
            f"clusterName: {name!r} cannot name a Kubernetes namespace (the cluster's): use lowercase "
            "letters, digits and hyphens, at most 63, starting and ending with a letter or digit"
        )
    spec = {k: v for k, v in request.items() if v is not None}
    spec["clusterName"] = name
    try:
        parse_cluster(spec)
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None
    existing = ctx.store.get(KIND, "", name)
    if existing is not None and not existing["metadata"].get("deletionTimestamp"):
        return {"cluster": _description(ctx, existing)}  # ECS's CreateCluster is idempotent
    obj = {"apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": KIND, "metadata": {"name": name}, "spec": spec}
    with kube_errors(f"EcsCluster {name}"):
        try:
            created = ctx.kube.create(obj)
        except KubeError as error:
            if error.status != 409:
                raise
            created = None
    await_cached(ctx, KIND, "", name, created)
    current = ctx.store.get(KIND, "", name) or created or obj
    return {"cluster": _description(ctx, current)}


def describe_clusters(ctx: Context, request: DescribeClustersRequest) -> DescribeClustersResponse:
    include = [str(i) for i in request.get("include") or ()]
    clusters = []
    failures = []
    for reference in request.get("clusters") or ["default"]:
        name = cluster_name(reference)
        ctx.authorizer.check("get", KIND, "", name)
        obj = ctx.store.get(KIND, "", name)
        if obj is not None:
            clusters.append(_description(ctx, obj, include))
        elif ctx.store.gone(KIND, name) is not None:
            clusters.append(describe.inactive_cluster(name, ctx.partition))
        else:
            failures.append({"arn": ctx.partition.cluster(name), "reason": "MISSING"})
    return cast(DescribeClustersResponse, {"clusters": clusters, "failures": failures})


def list_clusters(ctx: Context, request: ListClustersRequest) -> ListClustersResponse:
    ctx.authorizer.check("list", KIND)
    arns = [ctx.partition.cluster(str(o["metadata"]["name"])) for o in ctx.store.in_namespace(KIND, "")]
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
        ctx.kube.delete(KIND, cluster.name)
    description = _description(ctx, dict(cluster.obj))
    description.update(status="INACTIVE", activeServicesCount=0, runningTasksCount=0, pendingTasksCount=0)
    return cast(DeleteClusterResponse, {"cluster": description})


def _has_live_tasks(task: dict[str, Any]) -> bool:
    entries = (task.get("status") or {}).get("tasks")
    if not entries:
        return not task["metadata"].get("deletionTimestamp")
    return any(e.get("lastStatus") != "STOPPED" for e in entries)
