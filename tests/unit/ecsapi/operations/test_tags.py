"""TagResource, UntagResource, ListTagsForResource on every kind whose tags are kept: clusters, services,
standalone tasks, task definition revisions, capacity providers."""

from __future__ import annotations

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

PREFIX = "arn:aws:ecs:us-east-1:000000000000:"
TAG = {"key": "team", "value": "a"}


def tags_of(world: World, arn: str) -> list[dict[str, str]]:
    return world.admin.ecs.list_tags_for_resource(resourceArn=arn)["tags"]


def test_tags_of_a_cluster_are_its_specs_and_written_as_the_caller(world: World) -> None:
    arn = world.cluster("a")["clusterArn"]
    world.admin.ecs.tag_resource(resourceArn=arn, tags=[TAG, {"key": "env", "value": "prod"}])
    world.admin.ecs.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert tags_of(world, arn) == [TAG]
    cluster = world.api.read("EcsCluster", "a")
    assert cluster is not None and cluster["spec"]["tags"] == [TAG]
    patches = [w for w in world.api.writes_of("EcsCluster") if w.user == "ecs-admin" and w.verb == "patch"]
    assert [w.body["spec"]["tags"] for w in patches] == [[TAG, {"key": "env", "value": "prod"}], [TAG]]


def test_tags_of_a_service_a_standalone_task_a_revision_and_a_capacity_provider(world: World) -> None:
    world.cluster("a")
    revision = world.task_definition("web")["taskDefinitionArn"]
    service = world.service("a", "web", "web")["serviceArn"]
    world.store.while_waiting.append(world.operator.reconcile)
    [task] = world.admin.ecs.run_task(cluster="a", taskDefinition="web")["tasks"]
    provider = world.admin.ecs.create_capacity_provider(
        name="pool", autoScalingGroupProvider={"autoScalingGroupArn": "asg"}
    )["capacityProvider"]["capacityProviderArn"]
    for arn in (revision, service, task["taskArn"], provider):
        world.admin.ecs.tag_resource(resourceArn=arn, tags=[TAG])
        assert tags_of(world, arn) == [TAG], arn
        world.admin.ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
        assert tags_of(world, arn) == [], arn


def test_a_service_task_takes_its_services_tags(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.service("a", "web", "web")
    [task] = world.admin.ecs.list_tasks(cluster="a", serviceName="web")["taskArns"]
    with refused("InvalidParameterException", "resourceArn", "service's tags"):
        world.admin.ecs.tag_resource(resourceArn=task, tags=[TAG])


def test_tags_of_what_does_not_exist_or_is_not_ecs(world: World) -> None:
    world.cluster("a")
    with refused("ResourceNotFoundException"):
        world.admin.ecs.list_tags_for_resource(resourceArn=PREFIX + "service/a/nowhere")
    with refused("ResourceNotFoundException"):
        world.admin.ecs.tag_resource(resourceArn=PREFIX + "task-definition/none:1", tags=[TAG])
    with refused("ClusterNotFoundException"):
        world.admin.ecs.untag_resource(resourceArn=PREFIX + "cluster/b", tagKeys=["team"])
    with refused("InvalidParameterException", "resourceArn", "not an ECS ARN"):
        world.admin.ecs.tag_resource(resourceArn="arn:aws:s3:::bucket", tags=[TAG])
    with refused("InvalidParameterException", "resourceArn", "container-instance"):
        world.admin.ecs.tag_resource(resourceArn=PREFIX + "container-instance/a/x", tags=[TAG])


def test_tagging_needs_the_right_to_change_the_resource(world: World) -> None:
    arn = world.cluster("a")["clusterArn"]
    viewer = world.caller("reader", cluster_roles=("ecs-operator:account-view",))
    with refused("AccessDeniedException", "reader"):
        viewer.ecs.tag_resource(resourceArn=arn, tags=[TAG])


def test_tag_keys_beginning_with_aws_are_reserved_as_in_ecs(world: World) -> None:
    arn = world.cluster("a")["clusterArn"]
    with refused("InvalidParameterException", "tags[1]", "aws:"):
        world.admin.ecs.tag_resource(
            resourceArn=arn, tags=[TAG, {"key": "AWS:cloudformation:stack", "value": "x"}]
        )
    with refused("InvalidParameterException", "tagKeys[0]", "aws:"):
        world.admin.ecs.untag_resource(resourceArn=arn, tagKeys=["aws:cloudformation:stack"])
    with refused("InvalidParameterException", "tags[0]", "aws:"):
        world.admin.ecs.create_cluster(clusterName="b", tags=[{"key": "aws:x", "value": "y"}])
    with refused("InvalidParameterException", "tags[0]", "aws:"):
        world.admin.ecs.register_task_definition(
            family="web",
            containerDefinitions=[{"name": "c", "image": "i", "memory": 64}],
            tags=[{"key": "aws:x"}],
        )
    assert tags_of(world, arn) == []
    assert world.api.writes_of("EcsTaskDefinition", ok=False) == []
