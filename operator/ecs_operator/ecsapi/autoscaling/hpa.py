"""Application Auto Scaling for ECS services as a HorizontalPodAutoscaler on the EcsService's scale
subresource (pure: no I/O).

The HPA is the only state. Its spec carries what Kubernetes acts on: min/max capacity
(`minReplicas` is at least 1: an HPA cannot scale to zero), one Resource metric per target-tracking
policy (ECSServiceAverageCPUUtilization -> cpu, ECSServiceAverageMemoryUtilization -> memory, average
utilization of the tasks' requests, which is what ECS measures against the reservation), and `behavior`:
scale-in cooldown -> scaleDown stabilization window, scale-out cooldown -> the period of the scale-up
policies, DisableScaleIn or a suspended direction -> that direction `Disabled`. Annotations carry what only
Application Auto Scaling answers: the target's RoleARN, SuspendedState and MinCapacity as given, and the
policies as they were put. An HPA made with `kubectl autoscale ecsservice …` reads as a target whose
policies are its cpu/memory metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator import API_GROUP, API_VERSION, labels

TARGET_ANNOTATION = f"{API_GROUP}/scalable-target"
POLICIES_ANNOTATION = f"{API_GROUP}/scaling-policies"
DIMENSION = "ecs:service:DesiredCount"
NAMESPACE = "ecs"
CPU = "ECSServiceAverageCPUUtilization"
MEMORY = "ECSServiceAverageMemoryUtilization"
RESOURCES = {CPU: "cpu", MEMORY: "memory"}
DEFAULT_COOLDOWN = 300  # Application Auto Scaling's default for ECS services, both ways
MAX_PERIOD = 1800  # the longest periodSeconds an HPA policy takes
MAX_WINDOW = 3600  # the longest stabilizationWindowSeconds
SERVICE_ROLE = (
    "arn:aws:iam::{account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ECSService"
)


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def parse_resource_id(value: str) -> tuple[str, str] | None:
    kind, _, rest = value.partition("/")
    cluster, _, service = rest.partition("/")
    if kind != "service" or not cluster or not service or "/" in service:
        return None
    return cluster, service


def targets_ecs_service(hpa: Mapping[str, Any]) -> bool:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return ref.get("kind") == "EcsService" and str(ref.get("apiVersion", "")).startswith(f"{API_GROUP}/")


def _annotation(hpa: Mapping[str, Any], name: str) -> Any:
    text = ((hpa.get("metadata") or {}).get("annotations") or {}).get(name)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def target_of(hpa: Mapping[str, Any]) -> dict[str, Any]:
    """The target's own members (MinCapacity, MaxCapacity, RoleARN, SuspendedState) as stored."""
    spec = hpa.get("spec") or {}
    stored = _annotation(hpa, TARGET_ANNOTATION)
    stored = stored if isinstance(stored, dict) else {}
    found = {
        "MinCapacity": stored.get("MinCapacity", spec.get("minReplicas", 1)),
        "MaxCapacity": spec.get("maxReplicas", 1),
        "SuspendedState": stored.get("SuspendedState")
        or {
            "DynamicScalingInSuspended": False,
            "DynamicScalingOutSuspended": False,
            "ScheduledScalingSuspended": False,
        },
    }
    if stored.get("RoleARN"):
        found["RoleARN"] = stored["RoleARN"]
    return found


def policies_of(hpa: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The policies as put (or, for an HPA made without this API, one per cpu/memory metric)."""
    stored = _annotation(hpa, POLICIES_ANNOTATION)
    if isinstance(stored, list):
        return [p for p in stored if isinstance(p, dict) and p.get("PolicyName")]
    if _annotation(hpa, TARGET_ANNOTATION) is not None:
        return []
    found = []
    for metric in (hpa.get("spec") or {}).get("metrics") or ():
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        metric_type = {v: k for k, v in RESOURCES.items()}.get(resource.get("name", ""))
        if metric.get("type") != "Resource" or metric_type is None or target.get("type") != "Utilization":
            continue
        found.append(
            {
                "PolicyName": f"{resource['name']}-utilization",
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": float(target.get("averageUtilization", 80)),
                    "PredefinedMetricSpecification": {"PredefinedMetricType": metric_type},
                },
            }
        )
    return found


def _cooldown(policies: Sequence[Mapping[str, Any]], member: str, pick: Any) -> int:
    values = [
        int(p["TargetTrackingScalingPolicyConfiguration"].get(member, DEFAULT_COOLDOWN)) for p in policies
    ]
    return int(pick(values)) if values else DEFAULT_COOLDOWN


def behavior(target: Mapping[str, Any], policies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    suspended = target.get("SuspendedState") or {}
    configs = [p["TargetTrackingScalingPolicyConfiguration"] for p in policies]
    scale_in = bool(configs) and not suspended.get("DynamicScalingInSuspended")
    scale_in = scale_in and not any(c.get("DisableScaleIn") for c in configs)
    scale_out = bool(configs) and not suspended.get("DynamicScalingOutSuspended")
    period = max(1, min(_cooldown(policies, "ScaleOutCooldown", min), MAX_PERIOD))
    window = max(0, min(_cooldown(policies, "ScaleInCooldown", max), MAX_WINDOW))
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max" if scale_out else "Disabled",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": period},
                {"type": "Pods", "value": 4, "periodSeconds": period},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": window,
            "selectPolicy": "Max" if scale_in else "Disabled",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
    }


def metric(policy: Mapping[str, Any]) -> dict[str, Any]:
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    resource = RESOURCES[config["PredefinedMetricSpecification"]["PredefinedMetricType"]]
    utilization = max(1, round(float(config["TargetValue"])))
    return {
        "type": "Resource",
        "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": utilization}},
    }


def desired(
    namespace: str,
    name: str,
    cluster: str,
    service: str,
    target: Mapping[str, Any],
    policies: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The HPA of EcsService `namespace/name` for the target and its policies (server-side applied)."""
    metrics = [metric(p) for p in policies] or [
        # No policy: the HPA only keeps the count within bounds (both directions Disabled); it needs a
        # metric all the same.
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 100}},
        }
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {labels.CLUSTER: cluster, labels.MANAGED_BY: "ecs-api"},
            "annotations": {
                TARGET_ANNOTATION: json.dumps(dict(target), sort_keys=True),
                POLICIES_ANNOTATION: json.dumps(list(policies), sort_keys=True),
                f"{API_GROUP}/service-name": service,
            },
        },
        "spec": {
            "scaleTargetRef": {
                "apiVersion": f"{API_GROUP}/{API_VERSION}",
                "kind": "EcsService",
                "name": name,
            },
            "minReplicas": max(1, int(target["MinCapacity"])),
            "maxReplicas": int(target["MaxCapacity"]),
            "metrics": metrics,
            "behavior": behavior(target, policies),
        },
    }
