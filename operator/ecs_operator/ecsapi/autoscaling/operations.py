"""Application Auto Scaling's operations for ECS services, over HorizontalPodAutoscalers (`hpa.py`).

Every read and write of an HPA or its Events is made as the caller (impersonated), so Kubernetes RBAC on
`horizontalpodautoscalers` (and `events` for DescribeScalingActivities) decides; services are found in the
watch caches, each read authorized as for ECS's calls. Scheduled actions are not mapped (an HPA has no
schedule): PutScheduledAction is refused, naming why; DescribeScheduledActions answers none.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from ecs_operator.awsmodel import autoscaling as model
from ecs_operator.ecsapi import clusterref, store
from ecs_operator.ecsapi.autoscaling import hpa
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import ClusterNotFoundException, EcsError
from ecs_operator.ecsapi.services import find_service
from ecs_operator.ecsapi.validate import check_input
from ecs_operator.naming import cluster_namespace, service_name

# The endpoint's errors under Application Auto Scaling's names.
RENAMED = {
    "InvalidParameterException": "ValidationException",
    "ServerException": "InternalServiceException",
}
HPA = "HorizontalPodAutoscaler"
DEFAULT_PAGE = 50
RESCALE = re.compile(r"New size: (\d+); reason: (.*)", re.DOTALL)


class ObjectNotFoundException(EcsError):
    pass


class ValidationException(EcsError):
    pass


def _arn(ctx: Context, kind: str, rest: str) -> str:
    return f"arn:aws:application-autoscaling:{ctx.partition.region}:{ctx.partition.account}:{kind}/{rest}"


def _check_dimension(request: Mapping[str, Any]) -> None:
    if request.get("ServiceNamespace") != hpa.NAMESPACE:
        raise ValidationException(
            f"Unsupported service namespace {request.get('ServiceNamespace')!r}: only ecs services are "
            "scaled here."
        )
    dimension = request.get("ScalableDimension")
    if dimension is not None and dimension != hpa.DIMENSION:
        raise ValidationException(
            f"Unsupported scalable dimension {dimension!r} for ecs: use {hpa.DIMENSION}."
        )


def _service(ctx: Context, resource_id: str) -> tuple[clusterref.ClusterRef, dict[str, Any]]:
    parsed = hpa.parse_resource_id(resource_id)
    if parsed is None:
        raise ValidationException(
            f"Unsupported resource ID {resource_id[:200]!r}: expected service/<cluster>/<service>."
        )
    try:
        cluster = clusterref.find_cluster(ctx, parsed[0])
    except ClusterNotFoundException:
        raise ValidationException(f"ECS cluster doesn't exist: {parsed[0]}") from None
    ctx.authorizer.check("get", store.SERVICE, cluster.namespace)
    service = find_service(ctx, cluster, parsed[1])
    if service is None or service["metadata"].get("deletionTimestamp"):
        raise ValidationException(f"ECS service doesn't exist: {resource_id}")
    return cluster, service


def _existing(ctx: Context, namespace: str, name: str) -> dict[str, Any] | None:
    with kube_errors(f"HorizontalPodAutoscaler {namespace}/{name}"):
        found = ctx.kube.get(HPA, name, namespace)
    return found if found is not None and hpa.targets_ecs_service(found) else None


def _target_missing(request: Mapping[str, Any]) -> ObjectNotFoundException:
    return ObjectNotFoundException(
        f"No scalable target registered for service namespace: ecs, resource ID: {request['ResourceId']}, "
        f"scalable dimension: {hpa.DIMENSION}"
    )


def _apply(
    ctx: Context,
    cluster: clusterref.ClusterRef,
    service: Mapping[str, Any],
    target: Mapping[str, Any],
    policies: list[dict[str, Any]],
) -> dict[str, Any]:
    name = service["metadata"]["name"]
    desired = hpa.desired(cluster.namespace, name, cluster.name, service_name(service), target, policies)
    with kube_errors(f"HorizontalPodAutoscaler {cluster.namespace}/{name}"):
        return ctx.kube.apply(desired)


def register_scalable_target(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    cluster, service = _service(ctx, request["ResourceId"])
    existing = _existing(ctx, cluster.namespace, service["metadata"]["name"])
    target = hpa.target_of(existing) if existing is not None else {}
    if existing is None and (request.get("MinCapacity") is None or request.get("MaxCapacity") is None):
        raise ValidationException(
            "MinCapacity and MaxCapacity are required to register a new scalable target."
        )
    for member in ("MinCapacity", "MaxCapacity", "RoleARN"):
        if request.get(member) is not None:
            target[member] = request[member]
    if request.get("SuspendedState") is not None:
        target["SuspendedState"] = {**target.get("SuspendedState", {}), **request["SuspendedState"]}
    target.setdefault("RoleARN", hpa.SERVICE_ROLE.format(account=ctx.partition.account))
    if target["MinCapacity"] < 0 or target["MaxCapacity"] < 0:
        raise ValidationException("MinCapacity and MaxCapacity must be at least 0.")
    if target["MinCapacity"] > target["MaxCapacity"]:
        raise ValidationException("Minimum capacity cannot be greater than maximum capacity")
    if target["MaxCapacity"] < 1:
        raise ValidationException(
            "MaxCapacity must be at least 1 here (a HorizontalPodAutoscaler's maxReplicas)."
        )
    policies = hpa.policies_of(existing) if existing is not None else []
    applied = _apply(ctx, cluster, service, target, policies)
    return {"ScalableTargetARN": _arn(ctx, "scalable-target", _id(applied))}


def _id(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid", "")).replace("-", "")


def deregister_scalable_target(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    cluster, service = _service(ctx, request["ResourceId"])
    name = service["metadata"]["name"]
    if _existing(ctx, cluster.namespace, name) is None:
        raise _target_missing(request)
    with kube_errors(f"HorizontalPodAutoscaler {cluster.namespace}/{name}"):
        ctx.kube.delete(HPA, name, cluster.namespace)
    return {}


def _checked_policy(request: Mapping[str, Any]) -> dict[str, Any]:
    policy_type = request.get("PolicyType") or "StepScaling"
    if policy_type != "TargetTrackingScaling":
        raise ValidationException(
            f"PolicyType {policy_type}: only TargetTrackingScaling is served here (step scaling and "
            "predictive "
            "scaling need CloudWatch alarms and forecasts, which a HorizontalPodAutoscaler does not have)."
        )
    config = request.get("TargetTrackingScalingPolicyConfiguration")
    if config is None:
        raise ValidationException(
            "TargetTrackingScalingPolicyConfiguration is required for TargetTrackingScaling."
        )
    if config.get("CustomizedMetricSpecification") is not None:
        raise ValidationException(
            "TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification: CloudWatch metrics are "
            "not available here; use PredefinedMetricSpecification with ECSServiceAverageCPUUtilization or "
            "ECSServiceAverageMemoryUtilization."
        )
    predefined = config.get("PredefinedMetricSpecification") or {}
    metric_type = predefined.get("PredefinedMetricType")
    if metric_type not in hpa.RESOURCES:
        raise ValidationException(
            "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType: "
            f"{metric_type!r} cannot be mapped; ECSServiceAverageCPUUtilization and "
            "ECSServiceAverageMemoryUtilization can."
        )
    if not 1 <= float(config["TargetValue"]) <= 10000:
        raise ValidationException(
            "TargetTrackingScalingPolicyConfiguration.TargetValue: must be a utilization percent from 1 "
            "to 10000 here."
        )
    for member in ("ScaleInCooldown", "ScaleOutCooldown"):
        if config.get(member) is not None and not 0 <= config[member] <= 86400:
            raise ValidationException(
                f"TargetTrackingScalingPolicyConfiguration.{member}: must be 0 to 86400 seconds."
            )
    return {
        "PolicyName": request["PolicyName"],
        "PolicyType": policy_type,
        "TargetTrackingScalingPolicyConfiguration": config,
        "CreationTime": time.time(),
    }


def _policy_arn(ctx: Context, obj: Mapping[str, Any], request: Mapping[str, Any], policy_name: str) -> str:
    uid = str((obj.get("metadata") or {}).get("uid", ""))
    return (
        f"arn:aws:autoscaling:{ctx.partition.region}:{ctx.partition.account}:scalingPolicy:{uid}:"
        f"resource/ecs/{request['ResourceId']}:policyName/{policy_name}"
    )


def put_scaling_policy(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    cluster, service = _service(ctx, request["ResourceId"])
    existing = _existing(ctx, cluster.namespace, service["metadata"]["name"])
    if existing is None:
        raise _target_missing(request)
    policy = _checked_policy(request)
    policies = [p for p in hpa.policies_of(existing) if p["PolicyName"] != policy["PolicyName"]]
    before = {p["PolicyName"]: p for p in hpa.policies_of(existing)}.get(policy["PolicyName"])
    if before is not None and before.get("CreationTime"):
        policy["CreationTime"] = before["CreationTime"]
    applied = _apply(ctx, cluster, service, hpa.target_of(existing), [*policies, policy])
    return {"PolicyARN": _policy_arn(ctx, applied, request, policy["PolicyName"]), "Alarms": []}


def delete_scaling_policy(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    cluster, service = _service(ctx, request["ResourceId"])
    existing = _existing(ctx, cluster.namespace, service["metadata"]["name"])
    policies = hpa.policies_of(existing) if existing is not None else []
    kept = [p for p in policies if p["PolicyName"] != request["PolicyName"]]
    if existing is None or len(kept) == len(policies):
        raise ObjectNotFoundException(
            f"No scaling policy found for service namespace: ecs, resource ID: {request['ResourceId']}, "
            f"scalable dimension: {hpa.DIMENSION}, policy name: {request['PolicyName']}"
        )
    _apply(ctx, cluster, service, hpa.target_of(existing), kept)
    return {}


def _clusters(ctx: Context, resource_ids: list[str] | None) -> list[tuple[str, str]]:
    """(cluster name, namespace) of every cluster a describe call looks in."""
    wanted = (
        {p[0] for p in (hpa.parse_resource_id(r) for r in resource_ids or ()) if p} if resource_ids else None
    )
    found = []
    for obj in ctx.store.in_namespace(store.CLUSTER, ""):
        name = obj["metadata"]["name"]
        if obj["metadata"].get("deletionTimestamp") or (wanted is not None and name not in wanted):
            continue
        found.append((name, cluster_namespace(obj)))
    return sorted(found)


def _scaled(ctx: Context, resource_ids: list[str] | None) -> list[tuple[str, dict[str, Any]]]:
    """(ResourceId, HPA) of every ECS service target the caller may read."""
    found = []
    for cluster, namespace in _clusters(ctx, resource_ids):
        try:
            hpas = ctx.kube.list(HPA, namespace)
        except Exception as error:  # a namespace the caller may not read is skipped, as ECS's lists do
            if getattr(error, "status", None) in (401, 403):
                continue
            raise
        for obj in hpas:
            if not hpa.targets_ecs_service(obj):
                continue
            ref = obj["spec"]["scaleTargetRef"]["name"]
            service = ctx.store.get(store.SERVICE, namespace, ref)
            ecs_name = service_name(service) if service is not None else ref
            resource_id = hpa.resource_id(cluster, ecs_name)
            if resource_ids and resource_id not in resource_ids:
                continue
            found.append((resource_id, obj))
    return found


def _epoch(text: Any) -> float:
    if not text:
        return time.time()
    return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


class InvalidNextTokenException(EcsError):
    pass


def _paged(request: Mapping[str, Any], member: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    size = int(request.get("MaxResults") or DEFAULT_PAGE)
    token = str(request.get("NextToken") or "0")
    if not token.isdigit():
        raise InvalidNextTokenException("Invalid NextToken")
    start = int(token)
    answer: dict[str, Any] = {member: items[start : start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


def describe_scalable_targets(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    targets = []
    for resource_id, obj in _scaled(ctx, request.get("ResourceIds")):
        target = hpa.target_of(obj)
        targets.append(
            {
                "ServiceNamespace": hpa.NAMESPACE,
                "ResourceId": resource_id,
                "ScalableDimension": hpa.DIMENSION,
                "MinCapacity": target["MinCapacity"],
                "MaxCapacity": target["MaxCapacity"],
                "RoleARN": target.get("RoleARN") or hpa.SERVICE_ROLE.format(account=ctx.partition.account),
                "CreationTime": _epoch(obj["metadata"].get("creationTimestamp")),
                "SuspendedState": target["SuspendedState"],
                "ScalableTargetARN": _arn(ctx, "scalable-target", _id(obj)),
            }
        )
    return _paged(request, "ScalableTargets", targets)


def describe_scaling_policies(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    names = set(request.get("PolicyNames") or ())
    resource_ids = [request["ResourceId"]] if request.get("ResourceId") else None
    found = []
    for resource_id, obj in _scaled(ctx, resource_ids):
        for policy in hpa.policies_of(obj):
            if names and policy["PolicyName"] not in names:
                continue
            found.append(
                {
                    "PolicyARN": _policy_arn(ctx, obj, {"ResourceId": resource_id}, policy["PolicyName"]),
                    "PolicyName": policy["PolicyName"],
                    "ServiceNamespace": hpa.NAMESPACE,
                    "ResourceId": resource_id,
                    "ScalableDimension": hpa.DIMENSION,
                    "PolicyType": policy["PolicyType"],
                    "TargetTrackingScalingPolicyConfiguration": policy[
                        "TargetTrackingScalingPolicyConfiguration"
                    ],
                    "Alarms": [],
                    "CreationTime": policy.get("CreationTime")
                    or _epoch(obj["metadata"].get("creationTimestamp")),
                }
            )
    return _paged(request, "ScalingPolicies", found)


def activity(resource_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """A ScalingActivity from an Event the HPA controller wrote (SuccessfulRescale, FailedRescale, …)."""
    message = str(event.get("message") or "")
    rescaled = RESCALE.match(message)
    failed = event.get("type") == "Warning"
    at = _epoch(
        event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
    )
    if rescaled:
        description = f"Setting desired count to {rescaled[1]}."
        cause = rescaled[2]
        status = f"Successfully set desired count to {rescaled[1]}. Change successfully fulfilled by ecs."
    else:
        description = f"{event.get('reason', 'Scaling')}: {message}"
        cause = message
        status = message
    return {
        "ActivityId": str(event["metadata"].get("uid", "")),
        "ServiceNamespace": hpa.NAMESPACE,
        "ResourceId": resource_id,
        "ScalableDimension": hpa.DIMENSION,
        "Description": description,
        "Cause": cause,
        "StartTime": at,
        "EndTime": at,
        "StatusCode": "Failed" if failed else "Successful",
        "StatusMessage": status,
    }


def describe_scaling_activities(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    resource_ids = [request["ResourceId"]] if request.get("ResourceId") else None
    found = []
    for resource_id, obj in _scaled(ctx, resource_ids):
        namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        with kube_errors(f"Events in {namespace}"):
            events = ctx.kube.list("Event", namespace)
        for event in events:
            involved = event.get("involvedObject") or {}
            if involved.get("kind") == HPA and involved.get("name") == name:
                found.append(activity(resource_id, event))
    found.sort(key=lambda a: a["StartTime"], reverse=True)
    return _paged(request, "ScalingActivities", found)


def put_scheduled_action(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    raise ValidationException(
        "Scheduled actions are not supported here: a HorizontalPodAutoscaler has no schedule. Change "
        "MinCapacity/MaxCapacity with RegisterScalableTarget at the time instead (a CronJob can run it)."
    )


def describe_scheduled_actions(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    return {"ScheduledActions": []}


def delete_scheduled_action(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_dimension(request)
    raise ObjectNotFoundException(
        f"No scheduled action found for service namespace: ecs, resource ID: {request['ResourceId']}, "
        f"scalable dimension: {hpa.DIMENSION}, scheduled action name: {request['ScheduledActionName']}"
    )


Operation = Callable[[Context, Mapping[str, Any]], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {
    "RegisterScalableTarget": register_scalable_target,
    "DeregisterScalableTarget": deregister_scalable_target,
    "DescribeScalableTargets": describe_scalable_targets,
    "PutScalingPolicy": put_scaling_policy,
    "DeleteScalingPolicy": delete_scaling_policy,
    "DescribeScalingPolicies": describe_scaling_policies,
    "DescribeScalingActivities": describe_scaling_activities,
    "PutScheduledAction": put_scheduled_action,
    "DescribeScheduledActions": describe_scheduled_actions,
    "DeleteScheduledAction": delete_scheduled_action,
}
assert tuple(OPERATIONS) == model.OPERATIONS, "the generated model and this table list the same operations"


def call(ctx: Context, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `request` against the operation's input shape, then run it."""
    check_input(model.INPUTS[operation], request, model.SHAPES)
    return OPERATIONS[operation](ctx, request)
