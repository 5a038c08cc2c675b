"""One service's auto scaling at a glance (its scalable target, policies and recent activities), for the
console's service page and `kubectl ecs describe-scaling`: three Application Auto Scaling calls."""

from __future__ import annotations

from typing import Any

from ecs_operator.ecsapi.autoscaling import hpa
from ecs_operator.ecsapi.autoscaling.operations import call
from ecs_operator.ecsapi.context import Context

ACTIVITIES_SHOWN = 10


def service_scaling(
    ctx: Context, cluster: str, service: str, activities: int = ACTIVITIES_SHOWN
) -> dict[str, Any] | None:
    """{"ScalableTarget", "ScalingPolicies", "ScalingActivities"} of `service`; None when it has no target.

    Errors (no right to read HorizontalPodAutoscalers, say) are the operations' own EcsErrors.
    """
    resource_id = f"service/{cluster}/{service}"
    where = {"ServiceNamespace": hpa.NAMESPACE, "ResourceId": resource_id}
    targets = call(
        ctx, "DescribeScalableTargets", {"ServiceNamespace": hpa.NAMESPACE, "ResourceIds": [resource_id]}
    )["ScalableTargets"]
    if not targets:
        return None
    return {
        "ScalableTarget": targets[0],
        "ScalingPolicies": call(ctx, "DescribeScalingPolicies", where)["ScalingPolicies"],
        "ScalingActivities": call(ctx, "DescribeScalingActivities", {**where, "MaxResults": activities})[
            "ScalingActivities"
        ],
    }
