"""Capacity providers: FARGATE and FARGATE_SPOT are built in (the serverless pool); an EC2 capacity provider
is an EcsCapacityProvider (cluster-scoped), a pool of Nodes labelled `ecs.operator.dev/capacity-provider=
<name>`. Its Auto Scaling group is kept as given (what makes those Nodes is the cluster's business: a node
group, Karpenter, the cluster autoscaler); managed scaling and termination protection have no equivalent
here and are answered as given. docs/mapping.md says how placement uses them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.awsmodel.ecs import (
    CreateCapacityProviderRequest,
    CreateCapacityProviderResponse,
    DeleteCapacityProviderRequest,
    DeleteCapacityProviderResponse,
    DescribeCapacityProvidersRequest,
    DescribeCapacityProvidersResponse,
    UpdateCapacityProviderRequest,
    UpdateCapacityProviderResponse,
)
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import ClientException, InvalidParameterException, refusal
from ecs_operator.ecsapi.paging import page
from ecs_operator.ecsapi.patching import merge_patch
from ecs_operator.identifiers import name_in
from ecs_operator.naming import object_name
from ecs_operator.resources import SpecError
from ecs_operator.resources.capacityprovider import BUILT_IN, check_capacity_provider_request

KIND = store.CAPACITY_PROVIDER
MANAGED_SCALING = {
    "status": "DISABLED",
    "targetCapacity": 100,
    "minimumScalingStepSize": 1,
    "maximumScalingStepSize": 10000,
    "instanceWarmupPeriod": 300,
}
IN_USE = "The specified capacity provider is in use and cannot be removed."


def provider_object(ctx: Context, name: str) -> Mapping[str, Any] | None:
    found = [o for o in ctx.store.find(KIND, name) if not o["metadata"].get("deletionTimestamp")]
    return found[0] if found else None


def exists(ctx: Context, name: str) -> bool:
    return name in BUILT_IN or provider_object(ctx, name) is not None


def _built_in(ctx: Context, name: str) -> dict[str, Any]:
    arn = ctx.partition.capacity_provider(name)
    return {"capacityProviderArn": arn, "name": name, "status": "ACTIVE", "type": name, "tags": []}


def describe_provider(ctx: Context, obj: Mapping[str, Any], include_tags: bool = True) -> dict[str, Any]:
    spec = dict(obj.get("spec") or {})
    name = str(spec.get("name"))
    result: dict[str, Any] = {
        "capacityProviderArn": ctx.partition.capacity_provider(name),
        "name": name,
        "status": "INACTIVE" if obj["metadata"].get("deletionTimestamp") else "ACTIVE",
        "updateStatus": "UPDATE_COMPLETE"
        if int(obj["metadata"].get("generation") or 1) > 1
        else "CREATE_COMPLETE",
    }
    provider = spec.get("autoScalingGroupProvider")
    if provider is not None:
        result["type"] = "EC2_AUTOSCALING"
        result["autoScalingGroupProvider"] = {
            "managedTerminationProtection": "DISABLED",
            "managedDraining": "ENABLED",
            **provider,
            "managedScaling": {**MANAGED_SCALING, **(provider.get("managedScaling") or {})},
        }
    if spec.get("managedInstancesProvider") is not None:
        result["type"] = "MANAGED_INSTANCES"
        result["managedInstancesProvider"] = spec["managedInstancesProvider"]
    if spec.get("cluster"):
        result["cluster"] = spec["cluster"]
    if include_tags:
        result["tags"] = [dict(t) for t in spec.get("tags") or ()]
    return result


def create_capacity_provider(
    ctx: Context, request: CreateCapacityProviderRequest
) -> CreateCapacityProviderResponse:
    spec = {k: v for k, v in request.items() if v is not None}
    try:
        check_capacity_provider_request(spec)
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None
    name = request["name"]
    if exists(ctx, name):
        raise ClientException(f"A capacity provider with the name {name} already exists.")
    from ecs_operator.ecsapi.tags import check_tagging

    check_tagging(ctx, KIND, "", spec.get("tags"))
    metadata = {"name": object_name(name)}
    body = {"apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": KIND, "metadata": metadata, "spec": spec}
    with kube_errors(f"capacity provider {name}"):
        created = ctx.kube.create(body)
    await_cached(ctx, KIND, "", metadata["name"], created)
    return cast(CreateCapacityProviderResponse, {"capacityProvider": describe_provider(ctx, created)})


def describe_capacity_providers(
    ctx: Context, request: DescribeCapacityProvidersRequest
) -> DescribeCapacityProvidersResponse:
    ctx.authorizer.check("list", KIND)
    include_tags = "TAGS" in (request.get("include") or ())
    wanted = [name_in(str(r), "capacity-provider") for r in request.get("capacityProviders") or ()]
    custom = {store.KEYS[KIND](o): o for o in ctx.store.in_namespace(KIND, "")}
    names = wanted or [*BUILT_IN, *sorted(str(n) for n in custom)]
    found: list[dict[str, Any]] = []
    failures = []
    for name in names:
        if name in BUILT_IN:
            found.append(_built_in(ctx, name))
        elif name in custom:
            found.append(describe_provider(ctx, custom[name], include_tags))
        else:
            failures.append({"arn": ctx.partition.capacity_provider(name), "reason": "MISSING"})
    chunk, token = page(
        found, lambda p: str(p["name"]), request.get("nextToken"), request.get("maxResults"), 10, 10
    )
    response: dict[str, Any] = {"capacityProviders": chunk, "failures": failures}
    if token:
        response["nextToken"] = token
    return cast(DescribeCapacityProvidersResponse, response)


def _custom(ctx: Context, reference: str) -> Mapping[str, Any]:
    name = name_in(reference, "capacity-provider")
    if name in BUILT_IN:
        raise InvalidParameterException(f"capacityProvider: {name} is built in and cannot be changed")
    obj = provider_object(ctx, name)
    if obj is None:
        raise ClientException("The specified capacity provider does not exist.")
    return obj


def update_capacity_provider(
    ctx: Context, request: UpdateCapacityProviderRequest
) -> UpdateCapacityProviderResponse:
    obj = _custom(ctx, request["name"])
    spec = dict(obj.get("spec") or {})
    changes = dict(request.get("autoScalingGroupProvider") or {})
    if changes:
        if spec.get("autoScalingGroupProvider") is None:
            raise InvalidParameterException(
                "autoScalingGroupProvider: the capacity provider has no Auto Scaling group"
            )
        spec["autoScalingGroupProvider"] = {**spec["autoScalingGroupProvider"], **changes}
    if request.get("managedInstancesProvider") is not None:
        spec["managedInstancesProvider"] = {
            **(spec.get("managedInstancesProvider") or {}),
            **request["managedInstancesProvider"],
        }
    name = str(obj["metadata"]["name"])
    patch = merge_patch(obj.get("spec") or {}, spec)
    written = obj
    if patch:
        with kube_errors(f"capacity provider {request['name']}"):
            written = ctx.kube.merge_patch(KIND, name, None, {"spec": patch}) or obj
        await_cached(ctx, KIND, "", name, written)
    return cast(UpdateCapacityProviderResponse, {"capacityProvider": describe_provider(ctx, written)})


def clusters_using(ctx: Context, name: str) -> list[str]:
    """The ECS clusters a capacity provider is associated with."""
    from ecs_operator.naming import cluster_name

    return sorted(
        cluster_name(o)
        for o in ctx.store.in_namespace(store.CLUSTER, "")
        if name in ((o.get("spec") or {}).get("capacityProviders") or ())
    )


def delete_capacity_provider(
    ctx: Context, request: DeleteCapacityProviderRequest
) -> DeleteCapacityProviderResponse:
    obj = _custom(ctx, request["capacityProvider"])
    name = str((obj.get("spec") or {}).get("name"))
    if clusters_using(ctx, name):
        raise ClientException(IN_USE + f" (associated with cluster {', '.join(clusters_using(ctx, name))})")
    with kube_errors(f"capacity provider {name}"):
        ctx.kube.delete(KIND, str(obj["metadata"]["name"]))
    await_cached(ctx, KIND, "", str(obj["metadata"]["name"]), None)
    described = {**describe_provider(ctx, obj), "status": "INACTIVE", "updateStatus": "DELETE_COMPLETE"}
    return cast(DeleteCapacityProviderResponse, {"capacityProvider": described})
