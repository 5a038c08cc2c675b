"""Application Auto Scaling for ECS services, over HorizontalPodAutoscalers written as the caller:
RegisterScalableTarget, DeregisterScalableTarget, DescribeScalableTargets, PutScalingPolicy,
DeleteScalingPolicy, DescribeScalingPolicies, DescribeScalingActivities, PutScheduledAction,
DescribeScheduledActions, DeleteScheduledAction."""

from __future__ import annotations

from typing import Any

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

TARGET = {
    "ServiceNamespace": "ecs",
    "ResourceId": "service/a/web",
    "ScalableDimension": "ecs:service:DesiredCount",
}
CPU = {
    "TargetValue": 60.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    "ScaleInCooldown": 120,
}


def scaled_service(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.service("a", "web", "web")
    world.admin.aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=4)


def hpa(world: World) -> dict[str, Any]:
    found = world.api.read("HorizontalPodAutoscaler", "web", "a")
    assert found is not None
    return found


def test_register_scalable_target_applies_an_hpa_on_the_service_as_the_caller(world: World) -> None:
    scaled_service(world)
    [write] = world.api.writes_of("HorizontalPodAutoscaler")
    assert (write.user, write.verb) == ("ecs-admin", "apply")
    spec = hpa(world)["spec"]
    assert (spec["scaleTargetRef"]["kind"], spec["minReplicas"], spec["maxReplicas"]) == ("EcsService", 1, 4)
    [target] = world.admin.aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == ("service/a/web", 1, 4)
    assert target["ScalableTargetARN"].startswith("arn:aws:application-autoscaling:us-east-1:000000000000:")
    world.admin.aas.register_scalable_target(**TARGET, MaxCapacity=6)
    assert (hpa(world)["spec"]["minReplicas"], hpa(world)["spec"]["maxReplicas"]) == (1, 6)


def test_register_scalable_target_refuses_what_application_auto_scaling_refuses(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.service("a", "web", "web")
    aas = world.admin.aas
    with refused("ValidationException", "MinCapacity and MaxCapacity are required"):
        aas.register_scalable_target(**TARGET)
    with refused("ValidationException", "Minimum capacity cannot be greater than maximum capacity"):
        aas.register_scalable_target(**TARGET, MinCapacity=5, MaxCapacity=2)
    with refused("ValidationException", "Unsupported service namespace"):
        aas.register_scalable_target(**{**TARGET, "ServiceNamespace": "ec2"}, MinCapacity=1, MaxCapacity=2)
    with refused("ValidationException", "Unsupported resource ID"):
        aas.register_scalable_target(**{**TARGET, "ResourceId": "web"}, MinCapacity=1, MaxCapacity=2)
    with refused("ValidationException", "ECS cluster doesn't exist: b"):
        aas.register_scalable_target(
            **{**TARGET, "ResourceId": "service/b/web"}, MinCapacity=1, MaxCapacity=2
        )
    with refused("ValidationException", "ECS service doesn't exist"):
        aas.register_scalable_target(**{**TARGET, "ResourceId": "service/a/db"}, MinCapacity=1, MaxCapacity=2)
    with refused("ValidationException", "ResourceId"):
        aas.unvalidated().register_scalable_target(
            ServiceNamespace="ecs", ScalableDimension="ecs:service:DesiredCount"
        )
    assert world.api.writes_of("HorizontalPodAutoscaler", ok=False) == []


def test_scaling_needs_the_right_to_write_horizontal_pod_autoscalers(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.service("a", "web", "web")
    viewer = world.caller("viewer", namespace_roles={"a": "ecs-operator:view"})
    with refused("AccessDeniedException", "viewer", "horizontalpodautoscalers"):
        viewer.aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)


def test_a_target_tracking_policy_becomes_the_hpas_metric_and_behavior(world: World) -> None:
    scaled_service(world)
    answer = world.admin.aas.put_scaling_policy(
        **TARGET,
        PolicyName="cpu",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU,
    )
    assert (
        answer["PolicyARN"].endswith("resource/ecs/service/a/web:policyName/cpu") and answer["Alarms"] == []
    )
    spec = hpa(world)["spec"]
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
        }
    ]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 120
    [policy] = world.admin.aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/a/web")[
        "ScalingPolicies"
    ]
    assert (policy["PolicyName"], policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]) == (
        "cpu",
        60.0,
    )


def test_policies_that_cannot_be_mapped_are_refused_naming_why(world: World) -> None:
    scaled_service(world)
    aas = world.admin.aas
    with refused("ValidationException", "only TargetTrackingScaling"):
        aas.put_scaling_policy(**TARGET, PolicyName="steps", PolicyType="StepScaling")
    custom = {
        "TargetValue": 10.0,
        "CustomizedMetricSpecification": {"MetricName": "q", "Namespace": "n", "Statistic": "Average"},
    }
    with refused("ValidationException", "CustomizedMetricSpecification"):
        aas.put_scaling_policy(
            **TARGET,
            PolicyName="q",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=custom,
        )
    world.service("a", "db", "web")
    with refused("ObjectNotFoundException", "No scalable target", "service/a/db"):
        aas.put_scaling_policy(
            **{**TARGET, "ResourceId": "service/a/db"},
            PolicyName="cpu",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=CPU,
        )


def test_delete_scaling_policy_and_deregister_scalable_target(world: World) -> None:
    scaled_service(world)
    aas = world.admin.aas
    aas.put_scaling_policy(
        **TARGET,
        PolicyName="cpu",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU,
    )
    aas.delete_scaling_policy(**TARGET, PolicyName="cpu")
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    with refused("ObjectNotFoundException", "No scaling policy found", "cpu"):
        aas.delete_scaling_policy(**TARGET, PolicyName="cpu")
    aas.deregister_scalable_target(**TARGET)
    assert world.api.read("HorizontalPodAutoscaler", "web", "a") is None
    with refused("ObjectNotFoundException", "No scalable target registered"):
        aas.deregister_scalable_target(**TARGET)


def test_scaling_activities_are_the_hpas_events(world: World) -> None:
    scaled_service(world)
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "a"},
        "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "web", "namespace": "a"},
        "reason": "SuccessfulRescale",
        "message": "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        "type": "Normal",
        "lastTimestamp": "2026-12-06T10:00:00Z",
    }
    world.api.put(event)
    [activity] = world.admin.aas.describe_scaling_activities(
        ServiceNamespace="ecs", ResourceId="service/a/web"
    )["ScalingActivities"]
    assert (activity["Description"], activity["StatusCode"]) == ("Setting desired count to 3.", "Successful")
    assert activity["Cause"].startswith("cpu resource utilization")
    with refused("InvalidNextTokenException"):
        world.admin.aas.describe_scaling_activities(ServiceNamespace="ecs", NextToken="not-a-number")


def test_scheduled_actions_are_refused_naming_why_and_none_are_described(world: World) -> None:
    scaled_service(world)
    aas = world.admin.aas
    with refused("ValidationException", "no schedule"):
        aas.put_scheduled_action(**TARGET, ScheduledActionName="night", Schedule="cron(0 20 * * ? *)")
    assert aas.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"] == []
    with refused("ObjectNotFoundException", "night"):
        aas.delete_scheduled_action(**TARGET, ScheduledActionName="night")
    with refused("ValidationException", "Unsupported service namespace"):
        aas.describe_scheduled_actions(ServiceNamespace="dynamodb")


def test_describes_refuse_namespaces_dimensions_and_tokens_other_than_their_own(world: World) -> None:
    scaled_service(world)
    aas = world.admin.aas
    with refused("ValidationException", "Unsupported service namespace 'ec2'"):
        aas.describe_scalable_targets(ServiceNamespace="ec2")
    with refused("ValidationException", "Unsupported scalable dimension"):
        aas.describe_scaling_policies(
            ServiceNamespace="ecs", ScalableDimension="dynamodb:table:ReadCapacityUnits"
        )
    with refused("InvalidNextTokenException"):
        aas.describe_scaling_policies(ServiceNamespace="ecs", NextToken="later")
    first = aas.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=1)
    assert len(first["ScalableTargets"]) == 1 and "NextToken" not in first
