"""Container instances: the Nodes labelled `ecs.operator.dev/cluster=<cluster>`. An instance's id is its
Node's uid without dashes; its ECS status is DRAINING when the Node is cordoned or carries the desired
status `labels.INSTANCE_DESIRED_STATUS=DRAINING`, which UpdateContainerInstancesState writes and the
operator reconciles (cordon, replace the service tasks elsewhere, let standalone tasks finish)."""

from __future__ import annotations

from typing import Any, cast

from ecs_operator import identifiers, labels
from ecs_operator.awsmodel.ecs import (
    DescribeContainerInstancesRequest,
    DescribeContainerInstancesResponse,
    ListContainerInstancesRequest,
    ListContainerInstancesResponse,
    UpdateContainerInstancesStateRequest,
    UpdateContainerInstancesStateResponse,
)
from ecs_operator.ecsapi import cluster_query, describe, store
from ecs_operator.ecsapi.accountsettings import effective
from ecs_operator.ecsapi.clusterref import ClusterRef, find_cluster
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.ecsapi.paging import page, paged
from ecs_operator.naming import label_value

DESCRIBE_LIMIT = 100


def instance_id(node: dict[str, Any]) -> str:
    return identifiers.id_of_uid(str(node["metadata"].get("uid") or ""))


def long_instance_arns(ctx: Context) -> bool:
    """Container instances register with the account's format (the account default of
    containerInstanceLongArnFormat, not a caller's: the agent registers them)."""
    return effective(ctx, "containerInstanceLongArnFormat", ctx.partition.root()) != "disabled"


def find_instance(ctx: Context, cluster: ClusterRef, reference: str) -> dict[str, Any] | None:
    """A Node of the cluster by container instance ARN, id, or name (ECS's ec2InstanceId)."""
    wanted = identifiers.name_in(reference, "container-instance")
    for node in ctx.store.find(store.NODE, label_value(cluster.name)):
        if wanted in (instance_id(node), node["metadata"]["name"]):
            return node
    return None


def _description(ctx: Context, cluster: ClusterRef, node: dict[str, Any]) -> dict[str, Any]:
    name = node["metadata"]["name"]
    pods = [
        p
        for p in ctx.store.in_namespace(store.POD, cluster.namespace)
        if (p.get("spec") or {}).get("nodeName") == name
    ]
    return describe.container_instance(
        node, cluster.name, ctx.partition, pods, instance_id(node), long_instance_arns(ctx)
    )


def list_container_instances(
    ctx: Context, request: ListContainerInstancesRequest
) -> ListContainerInstancesResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    ctx.authorizer.check("get", store.CLUSTER, "", str(cluster.obj["metadata"]["name"]))
    status = request.get("status")
    nodes = [
        n
        for n in ctx.store.find(store.NODE, label_value(cluster.name))
        if not status or describe.instance_status(n) == status
    ]
    if request.get("filter"):
        matches = cluster_query.matcher(request["filter"])
        nodes = [n for n in nodes if matches(_description(ctx, cluster, n))]
    long = long_instance_arns(ctx)
    found = [ctx.partition.container_instance(cluster.name, instance_id(n), long) for n in nodes]
    chunk, token = page(found, str, request.get("nextToken"), request.get("maxResults"), 100)
    return cast(ListContainerInstancesResponse, paged("containerInstanceArns", chunk, token))


def describe_container_instances(
    ctx: Context, request: DescribeContainerInstancesRequest
) -> DescribeContainerInstancesResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    ctx.authorizer.check("get", store.CLUSTER, "", str(cluster.obj["metadata"]["name"]))
    references = list(request["containerInstances"])
    if len(references) > DESCRIBE_LIMIT:
        raise InvalidParameterException(f"containerInstances: at most {DESCRIBE_LIMIT} per call")
    found = []
    failures = []
    for reference in references:
        node = find_instance(ctx, cluster, reference)
        if node is None:
            arn = ctx.partition.container_instance(
                cluster.name, identifiers.name_in(reference, "container-instance")
            )
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(_description(ctx, cluster, node))
    return cast(DescribeContainerInstancesResponse, {"containerInstances": found, "failures": failures})


def update_container_instances_state(
    ctx: Context, request: UpdateContainerInstancesStateRequest
) -> UpdateContainerInstancesStateResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    status = request["status"]
    if status not in ("ACTIVE", "DRAINING"):
        raise InvalidParameterException(f"status: {status!r} is not one of ACTIVE, DRAINING")
    found = []
    failures = []
    for reference in request["containerInstances"]:
        node = find_instance(ctx, cluster, reference)
        if node is None:
            arn = ctx.partition.container_instance(
                cluster.name, identifiers.name_in(reference, "container-instance")
            )
            failures.append({"arn": arn, "reason": "MISSING"})
            continue
        name = str(node["metadata"]["name"])
        patch = {"metadata": {"annotations": {labels.INSTANCE_DESIRED_STATUS: status}}}
        with kube_errors(f"container instance {name}"):
            written = ctx.kube.merge_patch(store.NODE, name, None, patch) or node
        described = _description(ctx, cluster, written)
        if status == "DRAINING":
            described["status"] = "DRAINING"
        found.append(described)
    return cast(UpdateContainerInstancesStateResponse, {"containerInstances": found, "failures": failures})
