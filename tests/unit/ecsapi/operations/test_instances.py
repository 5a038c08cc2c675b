"""ListContainerInstances, DescribeContainerInstances, UpdateContainerInstancesState: a cluster's container
instances are the Nodes labelled with its name."""

from __future__ import annotations

from typing import Any

from ecs_operator import labels
from ecs_operator.naming import cluster_object_name

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

INSTANCE_ARN = "arn:aws:ecs:us-east-1:000000000000:container-instance/a/"


def instance_id(node: dict[str, Any]) -> str:
    return str(node["metadata"]["uid"]).replace("-", "")


def two_instances(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    world.cluster("a")
    small = world.operator.add_instance("a", "small-1", "t3.micro")
    large = world.operator.add_instance("a", "large-1", "m5.large")
    world.operator.add_instance("other", "elsewhere")
    return small, large


def test_list_container_instances_are_the_clusters_nodes(world: World) -> None:
    small, large = two_instances(world)
    listed = world.admin.ecs.list_container_instances(cluster="a")["containerInstanceArns"]
    assert sorted(listed) == sorted(INSTANCE_ARN + instance_id(n) for n in (small, large))
    page = world.admin.ecs.list_container_instances(cluster="a", maxResults=1)
    assert len(page["containerInstanceArns"]) == 1 and page["nextToken"]


def test_list_container_instances_filters_as_the_cluster_query_language_says(world: World) -> None:
    small, _ = two_instances(world)
    ecs = world.admin.ecs
    matched = ecs.list_container_instances(cluster="a", filter="attribute:ecs.instance-type == t3.micro")
    assert matched["containerInstanceArns"] == [INSTANCE_ARN + instance_id(small)]
    by_name = ecs.list_container_instances(cluster="a", filter="ec2InstanceId == small-1")
    assert by_name["containerInstanceArns"] == [INSTANCE_ARN + instance_id(small)]
    assert ecs.list_container_instances(cluster="a", status="DRAINING")["containerInstanceArns"] == []
    with refused("InvalidParameterException", "filter", "colour"):
        ecs.list_container_instances(cluster="a", filter="colour == blue")
    with refused("ClusterNotFoundException"):
        ecs.list_container_instances(cluster="nowhere")


def test_list_container_instances_answers_the_accounts_arn_format(world: World) -> None:
    small, _ = two_instances(world)
    world.admin.ecs.put_account_setting_default(name="containerInstanceLongArnFormat", value="disabled")
    listed = world.admin.ecs.list_container_instances(cluster="a")["containerInstanceArns"]
    assert "arn:aws:ecs:us-east-1:000000000000:container-instance/" + instance_id(small) in listed


def test_describe_container_instances_reports_resources_attributes_and_missing_ones(world: World) -> None:
    small, _ = two_instances(world)
    answer = world.admin.ecs.describe_container_instances(
        cluster="a", containerInstances=["small-1", "nowhere"]
    )
    [found] = answer["containerInstances"]
    assert (found["containerInstanceArn"], found["ec2InstanceId"], found["status"]) == (
        INSTANCE_ARN + instance_id(small),
        "small-1",
        "ACTIVE",
    )
    registered = {r["name"]: r["integerValue"] for r in found["registeredResources"]}
    assert (registered["CPU"], registered["MEMORY"]) == (2048, 4096)
    assert {"name": "ecs.instance-type", "value": "t3.micro"} in found["attributes"]
    assert answer["failures"] == [{"arn": INSTANCE_ARN + "nowhere", "reason": "MISSING"}]
    with refused("InvalidParameterException", "containerInstances", "at most 100"):
        world.admin.ecs.describe_container_instances(cluster="a", containerInstances=["x"] * 101)


def test_update_container_instances_state_asks_the_node_to_drain(world: World) -> None:
    small, _ = two_instances(world)
    answer = world.admin.ecs.update_container_instances_state(
        cluster="a", containerInstances=[instance_id(small), "gone"], status="DRAINING"
    )
    assert [i["status"] for i in answer["containerInstances"]] == ["DRAINING"]
    assert answer["failures"] == [{"arn": INSTANCE_ARN + "gone", "reason": "MISSING"}]
    [write] = world.api.writes_of("Node")[-1:]
    assert (write.user, write.name) == ("ecs-admin", "small-1")
    node = world.api.read("Node", "small-1")
    assert node is not None and node["metadata"]["annotations"][labels.INSTANCE_DESIRED_STATUS] == "DRAINING"
    with refused("InvalidParameterException", "status", "REGISTERING"):
        world.admin.ecs.update_container_instances_state(
            cluster="a", containerInstances=[instance_id(small)], status="REGISTERING"
        )


def test_container_instances_need_the_right_to_read_the_cluster(world: World) -> None:
    two_instances(world)
    editor = world.caller("editor", namespace_roles={"a": "ecs-operator:edit"})
    with refused("AccessDeniedException", "editor", "ecsclusters"):
        editor.ecs.list_container_instances(cluster="a")
    with refused("AccessDeniedException", "editor", "nodes"):
        editor.ecs.update_container_instances_state(
            cluster="a", containerInstances=["small-1"], status="DRAINING"
        )


def test_the_right_to_read_one_cluster_is_the_right_on_its_ecs_cluster_object(world: World) -> None:
    world.cluster("Prod_Cluster")
    world.operator.add_instance("Prod_Cluster", "node-1")
    world.api.put(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "one-cluster"},
            "rules": [
                {
                    "apiGroups": ["ecs.operator.dev"],
                    "resources": ["ecsclusters"],
                    "resourceNames": [cluster_object_name("Prod_Cluster")],
                    "verbs": ["get"],
                }
            ],
        }
    )
    reader = world.caller("reader", cluster_roles=("one-cluster",))
    assert len(reader.ecs.list_container_instances(cluster="Prod_Cluster")["containerInstanceArns"]) == 1
    cluster_arn = world.partition.cluster("Prod_Cluster")
    assert reader.ecs.list_tags_for_resource(resourceArn=cluster_arn)["tags"] == []
