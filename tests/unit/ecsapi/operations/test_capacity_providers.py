"""CreateCapacityProvider, DescribeCapacityProviders, UpdateCapacityProvider, DeleteCapacityProvider: FARGATE
and FARGATE_SPOT built in, EC2 providers as EcsCapacityProviders."""

from __future__ import annotations

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

ARN = "arn:aws:ecs:us-east-1:000000000000:capacity-provider/"
GROUP = {"autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:x:name/pool"}


def test_create_capacity_provider_answers_ecs_defaults_and_writes_it_as_the_caller(world: World) -> None:
    created = world.admin.ecs.create_capacity_provider(name="pool", autoScalingGroupProvider=GROUP)
    provider = created["capacityProvider"]
    assert (
        provider["capacityProviderArn"],
        provider["status"],
        provider["type"],
        provider["updateStatus"],
    ) == (
        ARN + "pool",
        "ACTIVE",
        "EC2_AUTOSCALING",
        "CREATE_COMPLETE",
    )
    scaling = provider["autoScalingGroupProvider"]["managedScaling"]
    assert (scaling["status"], scaling["targetCapacity"]) == ("DISABLED", 100)
    [write] = world.api.writes_of("EcsCapacityProvider")
    assert (write.user, write.verb, write.body["spec"]["name"]) == ("ecs-admin", "create", "pool")


def test_create_capacity_provider_refuses_names_ecs_refuses_and_ones_taken(world: World) -> None:
    ecs = world.admin.ecs
    with refused("InvalidParameterException", "name", "aws, ecs or fargate"):
        ecs.create_capacity_provider(name="fargate-pool", autoScalingGroupProvider=GROUP)
    with refused("InvalidParameterException", "autoScalingGroupProvider"):
        ecs.create_capacity_provider(name="empty")
    ecs.create_capacity_provider(name="pool", autoScalingGroupProvider=GROUP)
    with refused("ClientException", "already exists"):
        ecs.create_capacity_provider(name="pool", autoScalingGroupProvider=GROUP)


def test_describe_capacity_providers_lists_the_built_in_ones_first_and_reports_missing_ones(
    world: World,
) -> None:
    world.admin.ecs.create_capacity_provider(
        name="pool", autoScalingGroupProvider=GROUP, tags=[{"key": "k", "value": "v"}]
    )
    listed = world.admin.ecs.describe_capacity_providers(include=["TAGS"])["capacityProviders"]
    assert [p["name"] for p in listed] == ["FARGATE", "FARGATE_SPOT", "pool"]
    assert listed[2]["tags"] == [{"key": "k", "value": "v"}]
    answer = world.admin.ecs.describe_capacity_providers(capacityProviders=[ARN + "pool", "gone"])
    assert [p["name"] for p in answer["capacityProviders"]] == ["pool"]
    assert answer["failures"] == [{"arn": ARN + "gone", "reason": "MISSING"}]
    page = world.admin.ecs.describe_capacity_providers(maxResults=2)
    assert len(page["capacityProviders"]) == 2 and page["nextToken"]
    with refused("InvalidParameterException", "maxResults"):
        world.admin.ecs.describe_capacity_providers(maxResults=11)


def test_update_capacity_provider_changes_its_group_settings(world: World) -> None:
    world.admin.ecs.create_capacity_provider(name="pool", autoScalingGroupProvider=GROUP)
    updated = world.admin.ecs.update_capacity_provider(
        name="pool", autoScalingGroupProvider={"managedTerminationProtection": "ENABLED"}
    )["capacityProvider"]
    assert updated["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
    assert updated["updateStatus"] == "UPDATE_COMPLETE"
    with refused("InvalidParameterException", "capacityProvider", "built in"):
        world.admin.ecs.update_capacity_provider(name="FARGATE", autoScalingGroupProvider={})
    with refused("ClientException", "does not exist"):
        world.admin.ecs.update_capacity_provider(name="gone", autoScalingGroupProvider={})


def test_delete_capacity_provider_refuses_while_a_cluster_uses_it(world: World) -> None:
    world.cluster("a")
    world.admin.ecs.create_capacity_provider(name="pool", autoScalingGroupProvider=GROUP)
    world.admin.ecs.put_cluster_capacity_providers(
        cluster="a", capacityProviders=["pool"], defaultCapacityProviderStrategy=[]
    )
    with refused("ClientException", "in use", "cluster a"):
        world.admin.ecs.delete_capacity_provider(capacityProvider="pool")
    world.admin.ecs.put_cluster_capacity_providers(
        cluster="a", capacityProviders=[], defaultCapacityProviderStrategy=[]
    )
    deleted = world.admin.ecs.delete_capacity_provider(capacityProvider=ARN + "pool")["capacityProvider"]
    assert (deleted["status"], deleted["updateStatus"]) == ("INACTIVE", "DELETE_COMPLETE")
    assert world.api.read("EcsCapacityProvider", "pool") is None
    with refused("ClientException", "does not exist"):
        world.admin.ecs.delete_capacity_provider(capacityProvider="pool")


def test_capacity_providers_need_account_rights(world: World) -> None:
    editor = world.caller("editor", cluster_roles=("ecs-operator:edit",))
    with refused("AccessDeniedException", "editor", "ecscapacityproviders"):
        editor.ecs.create_capacity_provider(name="pool", autoScalingGroupProvider=GROUP)
    with refused("AccessDeniedException", "editor", "ecscapacityproviders"):
        editor.ecs.describe_capacity_providers()
