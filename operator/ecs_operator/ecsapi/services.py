"""Services: an ECS service is an EcsService in its cluster's namespace; its deployments, counts and
events are the status the operator writes. CreateService and UpdateService write the spec (with the task
definition resolved to `family:N`, as ECS does), DeleteService deletes the EcsService (DRAINING while its
tasks stop, then INACTIVE)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION, arns, labels
from ecs_operator.api import SpecError, check_service_against_task_definition, parse_service
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.common import (
    ClusterRef,
    await_cached,
    check_name,
    find_cluster,
    object_name,
    page,
    paged,
    refusal,
    resolve_revision,
)
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import (
    ClientException,
    InvalidParameterException,
    ServiceNotActiveException,
    ServiceNotFoundException,
)
from ecs_operator.ecsapi.model import (
    CreateServiceRequest,
    CreateServiceResponse,
    DeleteServiceRequest,
    DeleteServiceResponse,
    DescribeServiceDeploymentsRequest,
    DescribeServiceDeploymentsResponse,
    DescribeServicesRequest,
    DescribeServicesResponse,
    ListServiceDeploymentsRequest,
    ListServiceDeploymentsResponse,
    ListServicesRequest,
    ListServicesResponse,
    UpdateServiceRequest,
    UpdateServiceResponse,
)
from ecs_operator.ecsapi.patching import merge_patch
from ecs_operator.revisions import parse_reference

KIND = store.SERVICE
DESCRIBE_LIMIT = 10
# UpdateService members that are written to the spec as given (forceNewDeployment is not spec).
UPDATABLE = (
    "desiredCount",
    "capacityProviderStrategy",
    "deploymentConfiguration",
    "availabilityZoneRebalancing",
    "networkConfiguration",
    "placementConstraints",
    "placementStrategy",
    "platformVersion",
    "healthCheckGracePeriodSeconds",
    "deploymentController",
    "enableExecuteCommand",
    "enableECSManagedTags",
    "loadBalancers",
    "propagateTags",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
    "vpcLatticeConfigurations",
    "monitoring",
)


def target_of(ctx: Context, namespace: str, obj: dict[str, Any]) -> str | None:
    reference = str((obj.get("spec") or {}).get("taskDefinition") or "")
    revision = resolve_revision(ctx, namespace, reference) if reference else None
    return revision.task_definition if revision is not None else None


def description(
    ctx: Context, cluster: ClusterRef, obj: dict[str, Any], include_tags: bool = False
) -> dict[str, Any]:
    return describe.service(
        obj, cluster.name, ctx.partition, target_of(ctx, cluster.namespace, obj), include_tags
    )


def find_service(ctx: Context, cluster: ClusterRef, reference: str) -> dict[str, Any] | None:
    name = arns.last_part(reference, "service")
    found = ctx.store.find(KIND, (cluster.namespace, name))
    live = [o for o in found if not o["metadata"].get("deletionTimestamp")]
    chosen = live or found
    return chosen[0] if chosen else None


def _resolved_task_definition(ctx: Context, namespace: str, reference: str) -> str:
    revision = resolve_revision(ctx, namespace, reference)
    if revision is None:
        raise ClientException("TaskDefinition not found.")
    _, number = parse_reference(arns.last_part(reference, "task-definition"))
    if number is None and not revision.active:
        raise ClientException("TaskDefinition is inactive.")
    return revision.task_definition


def _validated(ctx: Context, namespace: str, spec: dict[str, Any]) -> None:
    """The spec as admission and the operator check it, then its load balancers against its revision."""
    try:
        service = parse_service(spec).to_ecs()
        revision = resolve_revision(ctx, namespace, str(spec.get("taskDefinition") or ""))
        if revision is not None:
            check_service_against_task_definition(service, revision.data)
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None


def create_service(ctx: Context, request: CreateServiceRequest) -> CreateServiceResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    name = request["serviceName"]
    check_name("serviceName", name)
    spec = {k: v for k, v in request.items() if k not in ("cluster", "clientToken") and v is not None}
    if spec.get("schedulingStrategy") != "DAEMON" and "taskDefinition" not in spec:
        raise InvalidParameterException("taskDefinition: required member is missing")
    if "taskDefinition" in spec:
        spec["taskDefinition"] = _resolved_task_definition(
            ctx, cluster.namespace, str(spec["taskDefinition"])
        )
    _validated(ctx, cluster.namespace, spec)
    existing = find_service(ctx, cluster, name)
    if existing is not None and not existing["metadata"].get("deletionTimestamp"):
        if existing.get("spec") == spec:
            return cast(CreateServiceResponse, {"service": description(ctx, cluster, existing)})
        raise InvalidParameterException("Creation of service was not idempotent.")
    object_name_ = object_name(name)
    body = {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": KIND,
        "metadata": {"name": object_name_, "namespace": cluster.namespace},
        "spec": spec,
    }
    with kube_errors(f"service {name}"):
        created = ctx.kube.create(body)
    await_cached(ctx, KIND, cluster.namespace, object_name_, created)
    return cast(CreateServiceResponse, {"service": description(ctx, cluster, created)})


def describe_services(ctx: Context, request: DescribeServicesRequest) -> DescribeServicesResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    references = [str(r) for r in request["services"]]
    if len(references) > DESCRIBE_LIMIT:
        raise InvalidParameterException(f"services: at most {DESCRIBE_LIMIT} services per call")
    ctx.authorizer.check("get", KIND, cluster.namespace)
    include_tags = "TAGS" in (request.get("include") or ())
    services = []
    failures = []
    for reference in references:
        name = arns.last_part(reference, "service")
        obj = find_service(ctx, cluster, name)
        if obj is not None:
            services.append(description(ctx, cluster, obj, include_tags))
            continue
        gone = ctx.store.gone(KIND, (cluster.namespace, name))
        if gone is not None:
            services.append(describe.inactive_service(gone, cluster.name, ctx.partition))
        else:
            failures.append({"arn": ctx.partition.service(cluster.name, name), "reason": "MISSING"})
    return cast(DescribeServicesResponse, {"services": services, "failures": failures})


def list_services(ctx: Context, request: ListServicesRequest) -> ListServicesResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    ctx.authorizer.check("list", KIND, cluster.namespace)
    launch_type = request.get("launchType")
    strategy = request.get("schedulingStrategy")
    arns_found = []
    for obj in ctx.store.in_namespace(KIND, cluster.namespace):
        spec = obj.get("spec") or {}
        if launch_type and (spec.get("launchType") or "EC2") != launch_type:
            continue
        if strategy and (spec.get("schedulingStrategy") or "REPLICA") != strategy:
            continue
        arns_found.append(ctx.partition.service(cluster.name, store.service_name(obj)))
    chunk, token = page(arns_found, str, request.get("nextToken"), request.get("maxResults"), 10)
    return cast(ListServicesResponse, paged("serviceArns", chunk, token))


def _existing(ctx: Context, cluster: ClusterRef, reference: str) -> dict[str, Any]:
    obj = find_service(ctx, cluster, reference)
    if obj is None:
        raise ServiceNotFoundException("Service not found.")
    return obj


def update_service(ctx: Context, request: UpdateServiceRequest) -> UpdateServiceResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    obj = _existing(ctx, cluster, request["service"])
    if obj["metadata"].get("deletionTimestamp"):
        raise ServiceNotActiveException("Service was not ACTIVE.")
    old = dict(obj.get("spec") or {})
    spec = dict(old)
    for member in UPDATABLE:
        if request.get(member) is not None:
            spec[member] = request[member]  # type: ignore[literal-required]
    if request.get("taskDefinition"):
        spec["taskDefinition"] = _resolved_task_definition(ctx, cluster.namespace, request["taskDefinition"])
    _validated(ctx, cluster.namespace, spec)
    patch: dict[str, Any] = {}
    spec_patch = merge_patch(old, spec)
    if spec_patch:
        patch["spec"] = spec_patch
    if request.get("forceNewDeployment"):
        patch["metadata"] = {"annotations": {labels.FORCE_NEW_DEPLOYMENT: uuid.uuid4().hex}}
    name = str(obj["metadata"]["name"])
    written = obj
    if patch:
        with kube_errors(f"service {store.service_name(obj)}"):
            written = ctx.kube.merge_patch(KIND, name, cluster.namespace, patch) or obj
        await_cached(ctx, KIND, cluster.namespace, name, written)
    current = ctx.store.get(KIND, cluster.namespace, name) or written
    return cast(UpdateServiceResponse, {"service": description(ctx, cluster, current)})


def delete_service(ctx: Context, request: DeleteServiceRequest) -> DeleteServiceResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    obj = _existing(ctx, cluster, request["service"])
    spec = obj.get("spec") or {}
    replica = spec.get("schedulingStrategy") != "DAEMON"
    if not request.get("force") and replica and int(spec.get("desiredCount") or 0) > 0:
        raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
    name = str(obj["metadata"]["name"])
    with kube_errors(f"service {store.service_name(obj)}"):
        ctx.kube.delete(KIND, name, cluster.namespace)
    result = description(ctx, cluster, obj)
    result.update(status="DRAINING", desiredCount=0)
    return cast(DeleteServiceResponse, {"service": result})


# --- service deployments (ECS's newer deployment history API) ---------------------------------------

DEPLOYMENT_STATUS = {"IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "SUCCESSFUL", "FAILED": "ROLLBACK_SUCCESSFUL"}


def _deployment_briefs(ctx: Context, cluster: ClusterRef, obj: dict[str, Any]) -> list[dict[str, Any]]:
    service = description(ctx, cluster, obj)
    name = service["serviceName"]
    briefs = []
    for deployment in service.get("deployments") or ():
        deployment_id = str(deployment["id"]).removeprefix("ecs-svc/")
        status = DEPLOYMENT_STATUS.get(str(deployment.get("rolloutState")), "PENDING")
        brief = {
            "serviceDeploymentArn": ctx.partition.service_deployment(cluster.name, name, deployment_id),
            "serviceArn": service["serviceArn"],
            "clusterArn": service["clusterArn"],
            "startedAt": deployment.get("createdAt"),
            "createdAt": deployment.get("createdAt"),
            "targetServiceRevisionArn": ctx.partition.arn(
                "service-revision", cluster.name, name, deployment_id
            ),
            "status": status,
            "statusReason": deployment.get("rolloutStateReason"),
        }
        if status != "IN_PROGRESS":
            brief["finishedAt"] = deployment.get("updatedAt")
        briefs.append({k: v for k, v in brief.items() if v is not None})
    return briefs


def list_service_deployments(
    ctx: Context, request: ListServiceDeploymentsRequest
) -> ListServiceDeploymentsResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    ctx.authorizer.check("get", KIND, cluster.namespace)
    obj = _existing(ctx, cluster, request["service"])
    wanted = set(request.get("status") or ())
    briefs = [b for b in _deployment_briefs(ctx, cluster, obj) if not wanted or b["status"] in wanted]
    chunk, token = page(
        briefs,
        lambda b: str(b["serviceDeploymentArn"]),
        request.get("nextToken"),
        request.get("maxResults"),
        20,
    )
    return cast(ListServiceDeploymentsResponse, paged("serviceDeployments", chunk, token))


def describe_service_deployments(
    ctx: Context, request: DescribeServiceDeploymentsRequest
) -> DescribeServiceDeploymentsResponse:
    found = []
    failures = []
    for arn in request["serviceDeploymentArns"]:
        parsed = arns.parse(arn)
        if parsed is None or parsed.kind != "service-deployment" or len(parsed.parts) != 3:
            failures.append({"arn": arn, "reason": "MISSING", "detail": "not a service deployment ARN"})
            continue
        cluster = find_cluster(ctx, parsed.parts[0])
        ctx.authorizer.check("get", KIND, cluster.namespace)
        obj = find_service(ctx, cluster, parsed.parts[1])
        brief = (
            next((b for b in _deployment_briefs(ctx, cluster, obj) if b["serviceDeploymentArn"] == arn), None)
            if obj is not None
            else None
        )
        if brief is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(brief)
    return cast(DescribeServiceDeploymentsResponse, {"serviceDeployments": found, "failures": failures})
