"""`kubectl ecs describe-scaling`: the three Application Auto Scaling answers as tables, or as they are."""

from __future__ import annotations

import json

from ecs_operator.ecsapi.kubectl import build_parser
from ecs_operator.ecsapi.output import SCALING, render

SCALED = {
    "ScalableTarget": {
        "ResourceId": "service/demo/web",
        "MinCapacity": 1,
        "MaxCapacity": 4,
        "SuspendedState": {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False},
        "CreationTime": 1_700_000_000,
    },
    "ScalingPolicies": [
        {
            "PolicyName": "cpu50",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 50.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleInCooldown": 60,
                "DisableScaleIn": True,
            },
        }
    ],
    "ScalingActivities": [
        {
            "StartTime": 1_700_000_100,
            "StatusCode": "Successful",
            "Description": "Setting desired count to 3.",
            "Cause": "cpu resource utilization (percentage of request) above target",
        }
    ],
}


def test_a_scaled_service_prints_its_target_policies_and_activities() -> None:
    text = render(SCALING, SCALED, "table")
    target, policies, activities = text.split("\n\n")

    assert target.splitlines()[1].split() == [
        "service/demo/web",
        "1",
        "4",
        "scale-in",
        "2023-11-14",
        "22:13:20",
    ]
    assert policies.splitlines()[1].split() == [
        "cpu50", "ECSServiceAverageCPUUtilization", "50.0", "60s", "300s", "disabled",
    ]  # fmt: skip
    assert "Setting desired count to 3." in activities and "Successful" in activities


def test_a_service_without_target_says_so_and_json_is_the_answers() -> None:
    empty = {"ScalableTarget": None, "ScalingPolicies": [], "ScalingActivities": []}

    assert render(SCALING, empty, "table").startswith("Not auto scaled")
    assert json.loads(render(SCALING, SCALED, "json")) == SCALED


def test_describe_scaling_takes_the_service_and_how_many_activities() -> None:
    args = build_parser().parse_args(["--cluster", "demo", "describe-scaling", "--service", "web"])

    assert (args.verb, args.service, args.max_activities) == ("describe-scaling", "web", 10)
