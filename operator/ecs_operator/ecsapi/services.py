"""Services: an ECS service is an EcsService in its cluster's namespace; its deployments, counts and
events are the status the operator writes. CreateService and UpdateService write the spec (with the task
definition resolved to `family:N`, as ECS does) and, when the write starts a new deployment, pin the id they
answer with on the EcsService, so the operator gives that deployment the same id (`plans/deployment.py`).
DeleteService deletes the EcsService (DRAINING while its tasks stop, then INACTIVE)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION, identifiers, labels
from ecs_operator.awsmodel.ecs import (
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
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.accountsettings import short_arns
from ecs_operator.ecsapi.clusterref import ClusterRef, check_strategy_of, cluster_for_write, find_cluster
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import (
    AccessDeniedException,
    ClientException,
    InvalidParameterException,
    ServiceNotActiveException,
    ServiceNotFoundException,
    check_name,
    refusal,
)
from ecs_operator.ecsapi.families import resolve_revision
from ecs_operator.ecsapi.listing import ServiceRow
from ecs_operator.ecsapi.paging import page, page_from, paged
from ecs_operator.ecsapi.patching import merge_patch
from ecs_operator.ecsapi.tags import check_tagging
from ecs_operator.naming import service_name, service_object_name
from ecs_operator.plans.deployment import (
    Pin,
    derived_id,
    pin_of,
    service_objects,
    template_annotations,
    template_key,
    workload_of,
)
from ecs_operator.resources import (
    SpecError,
    check_service_against_task_definition,
    check_service_request,
    parse_service,
)
from ecs_operator.resources.service import parse_service_members
from ecs_operator.revisions import Revision
from ecs_operator.status.service import DEPLOYMENT_KEY
from ecs_operator.translate.workload import cluster_placement

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


# ECS's default quota of services per cluster (Service Quotas, "Services per cluster").
SERVICES_PER_CLUSTER = 5000


def _deployments(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((obj.get("status") or {}).get("deployments") or ())


def _template_key(
    cluster: ClusterRef, obj: Mapping[str, Any], service: Mapping[str, Any], revision: Revision
) -> str | None:
    """The digest of the pod template the operator will give this service (its spec as ECS JSON, checked;
    None when it cannot translate it)."""
    try:
        translation = service_objects(
            service,
            revision.data,
            template_annotations(obj),
            revision=revision.number,
            namespace=cluster.namespace,
            name=str(obj["metadata"]["name"]),
            **cluster_placement(cluster.name, cluster.obj.get("spec") or {}),
        )
    except SpecError:
        return None
    workload = workload_of(translation.objects)
    return template_key(workload) if workload is not None else None


def readable_revision(ctx: Context, reference: str) -> Revision | None:
    """The revision a service runs, or None when the caller may not read the account's task definitions
    (`kubectl ecs` reads with the user's own rights): DescribeServices, and an UpdateService that names no
    new task definition, need no task definition rights in ECS."""
    try:
        return resolve_revision(ctx, reference)
    except AccessDeniedException:
        return None


def expected_deployment(
    ctx: Context, cluster: ClusterRef, obj: Mapping[str, Any]
) -> describe.Expected | None:
    """The deployment a spec the operator has not rolled out yet asks for (ECS shows it at once), with the
    id the operator will give it; None when the status already shows it."""
    metadata, status = obj.get("metadata") or {}, obj.get("status") or {}
    if metadata.get("deletionTimestamp"):
        return None
    reference = str((obj.get("spec") or {}).get("taskDefinition") or "")
    revision = readable_revision(ctx, reference) if reference else None
    primary = next((d for d in _deployments(obj) if d.get("status") == "PRIMARY"), None)
    if revision is None or (
        primary is not None and status.get("observedGeneration") == metadata.get("generation")
    ):
        return None
    try:
        service = parse_service(obj.get("spec") or {})
    except SpecError:
        return None
    key = _template_key(cluster, obj, service, revision)
    if key is None or (primary is not None and primary.get(DEPLOYMENT_KEY) == key):
        return None
    pin = pin_of(obj)
    known = next((d for d in _deployments(obj) if d.get(DEPLOYMENT_KEY) == key), None)
    if pin is not None and pin.key == key:
        deployment = pin.id
    elif known is not None:
        deployment = str(known["id"])
    else:
        deployment = derived_id(obj, key)
    return describe.Expected(deployment, revision.task_definition)


def description(
    ctx: Context, cluster: ClusterRef, obj: Mapping[str, Any], include_tags: bool = False
) -> dict[str, Any]:
    return describe.service(
        obj, cluster.name, ctx.partition, expected_deployment(ctx, cluster, obj), include_tags
    )


def find_service(ctx: Context, cluster: ClusterRef, reference: str) -> dict[str, Any] | None:
    name = identifiers.name_in(reference, "service")
    found = ctx.store.find(KIND, (cluster.namespace, name))
    live = [o for o in found if not o["metadata"].get("deletionTimestamp")]
    chosen = live or found
    return chosen[0] if chosen else None


def inactive_record(cluster: ClusterRef, name: str) -> Mapping[str, Any] | None:
    """The latest record the cluster keeps of a deleted service of that name (ECS: INACTIVE)."""
    records = (cluster.obj.get("status") or {}).get("inactiveServices") or ()
    found = [r for r in records if service_name(r) == name]
    return max(found, key=lambda r: str(r.get("deletedAt") or "")) if found else None


def _resolved(ctx: Context, reference: str, running: str | None = None) -> Revision:
    """The revision a CreateService/UpdateService names, as ECS refuses the ones it cannot use: unknown, or
    no longer ACTIVE, but for `running`, the one the service runs already (ECS lets a service on a
    deregistered revision go on and scale)."""
    revision = resolve_revision(ctx, reference)
    if revision is None:
        raise ClientException("TaskDefinition not found.")
    current = readable_revision(ctx, running) if running else None
    if not revision.active and (current is None or current.task_definition != revision.task_definition):
        raise ClientException("TaskDefinition is inactive.")
    return revision


def _validated(spec: Mapping[str, Any], revision: Revision | None) -> dict[str, Any]:
    """The service a request makes (its members checked) through ECS's rules, then its load balancers
    against its revision: the service as ECS JSON."""
    try:
        service = check_service_request(spec)
        if revision is not None:
            check_service_against_task_definition(service, revision.data)
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None
    return service


def _external(spec: Mapping[str, Any]) -> bool:
    return str((spec.get("deploymentController") or {}).get("type") or "ECS") == "EXTERNAL"


def _new_pin(key: str | None) -> dict[str, str]:
    if key is None:
        return {}
    return Pin(key, identifiers.deployment_id(uuid.uuid4().hex)).annotation()


def _free_name(ctx: Context, namespace: str, name: str) -> str:
    """The service's EcsService name (derived from its ECS name, with a suffix when an EcsService of
    another ECS name, written with kubectl, has it)."""
    candidate, suffix = service_object_name(name), 2
    while (taken := ctx.store.get(KIND, namespace, candidate)) is not None and service_name(taken) != name:
        candidate = service_object_name(f"{name}-{suffix}")
        suffix += 1
    return candidate


def services_per_cluster() -> int:
    """ECS's quota "Services per cluster" (Service Quotas, adjustable): $ECS_OPERATOR_SERVICES_PER_CLUSTER,
    else ECS's default."""
    value = os.environ.get("ECS_OPERATOR_SERVICES_PER_CLUSTER", "")
    return int(value) if value.isdigit() and int(value) > 0 else SERVICES_PER_CLUSTER


def check_quota(ctx: Context, cluster: ClusterRef) -> None:
    """A cluster holds at most `services_per_cluster()` services that are not being deleted."""
    quota = services_per_cluster()
    active = sum(
        n for (_, draining), n in ctx.store.tally(cluster.namespace).services.items() if not draining
    )
    if active >= quota:
        raise InvalidParameterException(
            f"{active} services exist in the cluster. Unable to create new service since this exceeds the "
            f"maximum limit of {quota} services per cluster."
        )


def create_service(ctx: Context, request: CreateServiceRequest) -> CreateServiceResponse:
    cluster = cluster_for_write(ctx, request.get("cluster"))
    name = request["serviceName"]
    check_name("serviceName", name)
    spec = {k: v for k, v in request.items() if k not in ("cluster", "clientToken") and v is not None}
    check_strategy_of(cluster, spec)
    revision = None
    if "taskDefinition" in spec:
        revision = _resolved(ctx, str(spec["taskDefinition"]))
        spec["taskDefinition"] = revision.task_definition
    elif not _external(spec):
        raise InvalidParameterException(
            "taskDefinition: required member is missing (only EXTERNAL deployments omit it)"
        )
    service = _validated(spec, revision)
    check_tagging(ctx, KIND, cluster.namespace, spec.get("tags"))
    existing = find_service(ctx, cluster, name)
    if existing is not None and not existing["metadata"].get("deletionTimestamp"):
        if existing.get("spec") == spec:
            return cast(CreateServiceResponse, {"service": description(ctx, cluster, existing)})
        raise InvalidParameterException("Creation of service was not idempotent.")
    check_quota(ctx, cluster)
    metadata: dict[str, Any] = {
        "name": _free_name(ctx, cluster.namespace, name),
        "namespace": cluster.namespace,
    }
    body = {"apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": KIND, "metadata": metadata, "spec": spec}
    marks = short_arns(ctx, "serviceLongArnFormat")
    if revision is not None:
        marks.update(_new_pin(_template_key(cluster, body, service, revision)))
    if marks:
        metadata["annotations"] = marks
    with kube_errors(f"service {name}"):
        created = ctx.kube.create(body)
    await_cached(ctx, KIND, cluster.namespace, str(metadata["name"]), created)
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
        name = identifiers.name_in(reference, "service")
        obj = find_service(ctx, cluster, name)
        if obj is not None:
            services.append(description(ctx, cluster, obj, include_tags))
            continue
        # The deleted service's last state, until the cluster's record of it is written.
        record = ctx.store.gone(KIND, (cluster.namespace, name)) or inactive_record(cluster, name)
        if record is not None:
            services.append(describe.inactive_service(record, cluster.name, ctx.partition))
        else:
            failures.append({"arn": ctx.partition.service(cluster.name, name), "reason": "MISSING"})
    return cast(DescribeServicesResponse, {"services": services, "failures": failures})


def list_services(ctx: Context, request: ListServicesRequest) -> ListServicesResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    ctx.authorizer.check("list", KIND, cluster.namespace)
    launch_type = request.get("launchType")
    strategy = request.get("schedulingStrategy")

    def arn(row: ServiceRow) -> str:
        return ctx.partition.service(cluster.name, row.name, row.long_arn)

    def keep(row: ServiceRow) -> bool:
        return (not launch_type or row.launch_type == launch_type) and (
            not strategy or row.scheduling_strategy == strategy
        )

    chunk, token = page_from(
        lambda after, size: ctx.store.services_page(cluster.namespace, arn, after, keep, size),
        arn,
        request.get("nextToken"),
        request.get("maxResults"),
        10,
    )
    return cast(ListServicesResponse, paged("serviceArns", [arn(row) for row in chunk], token))


def _existing(ctx: Context, cluster: ClusterRef, reference: str) -> dict[str, Any]:
    obj = find_service(ctx, cluster, reference)
    if obj is None:
        raise ServiceNotFoundException("Service not found.")
    return obj


def _deployed_key(cluster: ClusterRef, obj: Mapping[str, Any]) -> str | None:
    """The digest of the template the service runs now: its PRIMARY deployment's, else its spec's."""
    primary = next((d for d in _deployments(obj) if d.get("status") == "PRIMARY"), None)
    if primary is not None and primary.get(DEPLOYMENT_KEY):
        return str(primary[DEPLOYMENT_KEY])
    pin = pin_of(obj)
    return pin.key if pin is not None else None


def _updated(old: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The service an update makes, its members checked once: those it keeps from the stored spec as the
    operator reads them, the ones the request changes as the request's check left them."""
    changed = {member: value for member, value in spec.items() if old.get(member) != value}
    try:
        kept = parse_service_members({k: v for k, v in old.items() if k not in changed})
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None
    return {**kept, **changed}


def update_service(ctx: Context, request: UpdateServiceRequest) -> UpdateServiceResponse:
    cluster = cluster_for_write(ctx, request.get("cluster"))
    obj = _existing(ctx, cluster, request["service"])
    if obj["metadata"].get("deletionTimestamp"):
        raise ServiceNotActiveException("Service was not ACTIVE.")
    old = dict(obj.get("spec") or {})
    spec = dict(old)
    for member in UPDATABLE:
        if request.get(member) is not None:
            spec[member] = request[member]  # type: ignore[literal-required]
    check_strategy_of(cluster, spec)
    revision = None
    if request.get("taskDefinition"):
        revision = _resolved(ctx, request["taskDefinition"], old.get("taskDefinition"))
        spec["taskDefinition"] = revision.task_definition
    elif spec.get("taskDefinition"):
        revision = readable_revision(ctx, str(spec["taskDefinition"]))
    service = _validated(_updated(old, spec), revision)
    annotations: dict[str, str] = {}
    if request.get("forceNewDeployment"):
        annotations[labels.FORCE_NEW_DEPLOYMENT] = uuid.uuid4().hex
    if revision is not None:
        updated = {
            **obj,
            "metadata": {
                **obj["metadata"],
                "annotations": {**(obj["metadata"].get("annotations") or {}), **annotations},
            },
        }
        key = _template_key(cluster, updated, service, revision)
        if key is not None and key != _deployed_key(cluster, obj):
            pin = pin_of(obj)
            annotations.update(pin.annotation() if pin is not None and pin.key == key else _new_pin(key))
    patch: dict[str, Any] = {}
    spec_patch = merge_patch(old, spec)
    if spec_patch:
        patch["spec"] = spec_patch
    if annotations:
        patch["metadata"] = {"annotations": annotations}
    name = str(obj["metadata"]["name"])
    written = obj
    if patch:
        with kube_errors(f"service {service_name(obj)}"):
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
    with kube_errors(f"service {service_name(obj)}"):
        ctx.kube.delete(KIND, name, cluster.namespace)
    await_cached(ctx, KIND, cluster.namespace, name, None)
    result = description(ctx, cluster, obj)
    result.update(status="DRAINING", desiredCount=0)
    return cast(DeleteServiceResponse, {"service": result})


# --- service deployments (ECS's newer deployment history API) ---------------------------------------

DEPLOYMENT_STATUS = {"IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "SUCCESSFUL", "FAILED": "ROLLBACK_SUCCESSFUL"}


def _deployment_briefs(ctx: Context, cluster: ClusterRef, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every deployment the service keeps on record: those DescribeServices shows and the ones that
    failed and were rolled back (INACTIVE)."""
    service = description(ctx, cluster, obj)
    name = service["serviceName"]
    shown = {str(d["id"]): d for d in service.get("deployments") or ()}
    for entry in _deployments(obj):
        shown.setdefault(str(entry.get("id")), describe.deployment(entry, ctx.partition, {}))
    briefs = []
    for deployment_id, deployment in shown.items():
        status = DEPLOYMENT_STATUS.get(str(deployment.get("rolloutState")), "PENDING")
        brief = {
            "serviceDeploymentArn": ctx.partition.service_deployment(cluster.name, name, deployment_id),
            "serviceArn": service["serviceArn"],
            "clusterArn": service["clusterArn"],
            "startedAt": deployment.get("createdAt"),
            "createdAt": deployment.get("createdAt"),
            "targetServiceRevisionArn": ctx.partition.service_revision(cluster.name, name, deployment_id),
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
        parsed = identifiers.parse(arn)
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
