"""CreateService, DescribeServices, ListServices, UpdateService, DeleteService, ListServiceDeployments,
DescribeServiceDeployments."""

from __future__ import annotations

from typing import Any

from ecs_operator import labels

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

SERVICE_ARN = "arn:aws:ecs:us-east-1:000000000000:service/"
FARGATE = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512"}
AWSVPC = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}


def primary(service: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def ready(world: World, cluster: str = "a", family: str = "web") -> None:
    world.cluster(cluster)
    world.task_definition(family)


def test_create_service_answers_the_deployment_id_it_keeps_once_rolled_out(world: World) -> None:
    ready(world)
    created = world.admin.ecs.create_service(
        cluster="a", serviceName="web_api", taskDefinition="web", desiredCount=2
    )["service"]
    assert (created["serviceArn"], created["status"], created["desiredCount"]) == (
        SERVICE_ARN + "a/web_api",
        "ACTIVE",
        2,
    )
    assert created["taskDefinition"].endswith("task-definition/web:1")
    first = primary(created)["id"]
    world.operator.roll_out("a", "web_api")
    described = world.admin.ecs.describe_services(cluster="a", services=["web_api"])["services"][0]
    assert (primary(described)["id"], primary(described)["rolloutState"]) == (first, "COMPLETED")
    assert (described["runningCount"], len(described["deployments"])) == (2, 1)
    [write] = world.api.writes_of("EcsService")[:1]
    assert (write.user, write.verb, write.body["spec"]["taskDefinition"]) == ("ecs-admin", "create", "web:1")


def test_create_service_refuses_an_unknown_cluster_and_task_definition(world: World) -> None:
    with refused("ClusterNotFoundException", "Cluster not found"):
        world.admin.ecs.create_service(cluster="nowhere", serviceName="web", taskDefinition="web")
    world.cluster("a")
    with refused("ClientException", "TaskDefinition not found"):
        world.admin.ecs.create_service(cluster="a", serviceName="web", taskDefinition="web")
    world.task_definition("web")
    world.admin.ecs.deregister_task_definition(taskDefinition="web:1")
    with refused("ClientException", "TaskDefinition not found"):  # no ACTIVE revision of the family
        world.admin.ecs.create_service(cluster="a", serviceName="web", taskDefinition="web")
    with refused("ClientException", "TaskDefinition is inactive"):
        world.admin.ecs.create_service(cluster="a", serviceName="web", taskDefinition="web:1")
    assert world.api.writes_of("EcsService", ok=False) == []


def test_create_service_refuses_bad_names_missing_definitions_and_strangers_strategies(world: World) -> None:
    ready(world)
    with refused("InvalidParameterException", "serviceName"):
        world.admin.ecs.create_service(cluster="a", serviceName="web app", taskDefinition="web")
    with refused("InvalidParameterException", "taskDefinition", "EXTERNAL"):
        world.admin.ecs.create_service(cluster="a", serviceName="web")
    with refused("InvalidParameterException", "capacityProviderStrategy[0].capacityProvider"):
        world.admin.ecs.create_service(
            cluster="a",
            serviceName="web",
            taskDefinition="web",
            capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        )


def test_create_service_with_the_external_deployment_controller_needs_no_task_definition(
    world: World,
) -> None:
    world.cluster("a")
    created = world.admin.ecs.create_service(
        cluster="a", serviceName="ext", deploymentController={"type": "EXTERNAL"}
    )["service"]
    assert created["deploymentController"] == {"type": "EXTERNAL"} and "taskDefinition" not in created


def test_create_service_is_idempotent_only_for_the_same_request(world: World) -> None:
    ready(world)
    first = world.admin.ecs.create_service(
        cluster="a", serviceName="web", taskDefinition="web", desiredCount=1
    )
    again = world.admin.ecs.create_service(
        cluster="a", serviceName="web", taskDefinition="web", desiredCount=1
    )
    assert first["service"]["serviceArn"] == again["service"]["serviceArn"]
    with refused("InvalidParameterException", "not idempotent"):
        world.admin.ecs.create_service(cluster="a", serviceName="web", taskDefinition="web", desiredCount=3)
    assert len([w for w in world.api.writes_of("EcsService") if w.verb == "create"]) == 1


def test_a_service_right_after_create_cluster_waits_for_the_operator_to_make_its_namespace(
    world: World,
) -> None:
    world.task_definition("web")
    world.admin.ecs.create_cluster(clusterName="fresh")
    world.store.while_waiting.append(world.operator.reconcile)
    created = world.admin.ecs.create_service(cluster="fresh", serviceName="web", taskDefinition="web")
    assert created["service"]["status"] == "ACTIVE"
    assert world.store.waited  # the operation waited for the cluster's namespace, and the operator made it


def test_without_the_operator_a_service_in_a_cluster_without_namespace_is_a_client_error(
    world: World,
) -> None:
    world.task_definition("web")
    world.admin.ecs.create_cluster(clusterName="fresh")
    with refused("ClientException", "namespaces", "not found"):
        world.admin.ecs.create_service(cluster="fresh", serviceName="web", taskDefinition="web")


def test_describe_services_reports_missing_ones_refuses_more_than_ten_and_shows_tags(world: World) -> None:
    ready(world)
    world.service("a", "web", "web", tags=[{"key": "team", "value": "a"}])
    answer = world.admin.ecs.describe_services(cluster="a", services=["web", "gone"], include=["TAGS"])
    assert answer["services"][0]["tags"] == [{"key": "team", "value": "a"}]
    assert answer["failures"] == [{"arn": SERVICE_ARN + "a/gone", "reason": "MISSING"}]
    with refused("InvalidParameterException", "services", "at most 10"):
        world.admin.ecs.describe_services(cluster="a", services=[f"s{n}" for n in range(11)])
    with refused("ClusterNotFoundException"):
        world.admin.ecs.describe_services(cluster="b", services=["web"])


def test_describe_services_with_view_rights_only(world: World) -> None:
    ready(world)
    world.service("a", "web", "web")
    viewer = world.caller("viewer", namespace_roles={"a": "ecs-operator:view"})
    [found] = viewer.ecs.describe_services(cluster="a", services=["web"])["services"]
    assert found["serviceName"] == "web"
    with refused("AccessDeniedException", "viewer", "ecsservices"):
        viewer.ecs.update_service(cluster="a", service="web", desiredCount=3)


def test_list_services_filters_by_launch_type_and_scheduling_strategy_and_pages(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.task_definition("fargate", **FARGATE)
    world.admin.ecs.create_service(cluster="a", serviceName="ec2", taskDefinition="web")
    world.admin.ecs.create_service(
        cluster="a", serviceName="daemon", taskDefinition="web", schedulingStrategy="DAEMON"
    )
    world.admin.ecs.create_service(
        cluster="a",
        serviceName="serverless",
        taskDefinition="fargate",
        launchType="FARGATE",
        networkConfiguration=AWSVPC,
    )
    assert world.admin.ecs.list_services(cluster="a", launchType="FARGATE")["serviceArns"] == [
        SERVICE_ARN + "a/serverless"
    ]
    assert world.admin.ecs.list_services(cluster="a", schedulingStrategy="DAEMON")["serviceArns"] == [
        SERVICE_ARN + "a/daemon"
    ]
    page = world.admin.ecs.list_services(cluster="a", maxResults=2)
    rest = world.admin.ecs.list_services(cluster="a", maxResults=2, nextToken=page["nextToken"])
    assert len(page["serviceArns"]) == 2 and len(rest["serviceArns"]) == 1
    with refused("InvalidParameterException", "maxResults"):
        world.admin.ecs.list_services(cluster="a", maxResults=101)


def test_update_service_to_a_new_revision_answers_the_new_deployments_id(world: World) -> None:
    ready(world)
    before = primary(world.service("a", "web", "web"))["id"]
    world.task_definition("web", cpu="512")
    updated = world.admin.ecs.update_service(cluster="a", service="web", taskDefinition="web", desiredCount=2)
    new = primary(updated["service"])
    assert new["id"] != before and new["taskDefinition"].endswith("web:2")
    world.operator.roll_out("a", "web")
    described = world.admin.ecs.describe_services(cluster="a", services=["web"])["services"][0]
    assert (primary(described)["id"], described["runningCount"]) == (new["id"], 2)


def test_update_service_keeps_a_deregistered_revision_it_runs_and_refuses_another(world: World) -> None:
    ready(world)
    world.service("a", "web", "web")
    world.task_definition("web", cpu="512")
    world.admin.ecs.deregister_task_definition(taskDefinition="web:1")
    world.admin.ecs.deregister_task_definition(taskDefinition="web:2")
    scaled = world.admin.ecs.update_service(
        cluster="a", service="web", taskDefinition="web:1", desiredCount=3
    )
    assert scaled["service"]["desiredCount"] == 3
    with refused("ClientException", "TaskDefinition is inactive"):
        world.admin.ecs.update_service(cluster="a", service="web", taskDefinition="web:2")


def test_update_service_force_new_deployment_writes_the_token_only(world: World) -> None:
    ready(world)
    world.service("a", "web", "web")
    world.admin.ecs.update_service(cluster="a", service="web", forceNewDeployment=True)
    patch = [w for w in world.api.writes_of("EcsService") if w.verb == "patch" and w.user == "ecs-admin"][-1]
    assert labels.FORCE_NEW_DEPLOYMENT in patch.body["metadata"]["annotations"]
    assert "spec" not in patch.body


def test_update_service_refuses_unknown_and_deleting_services_and_task_definitions(world: World) -> None:
    ready(world)
    with refused("ServiceNotFoundException", "Service not found"):
        world.admin.ecs.update_service(cluster="a", service="nowhere", desiredCount=1)
    world.service("a", "web", "web")
    with refused("ClientException", "TaskDefinition not found"):
        world.admin.ecs.update_service(cluster="a", service="web", taskDefinition="other")
    world.operator.kube.merge_patch(
        "EcsService", "web", "a", {"metadata": {"finalizers": ["ecs.operator.dev/drain"]}}
    )
    world.admin.ecs.delete_service(cluster="a", service="web", force=True)
    with refused("ServiceNotActiveException", "not ACTIVE"):
        world.admin.ecs.update_service(cluster="a", service="web", desiredCount=2)


def test_delete_service_needs_it_scaled_to_zero_unless_forced(world: World) -> None:
    ready(world)
    world.service("a", "web", "web", desired=2)
    with refused("InvalidParameterException", "scaled above 0"):
        world.admin.ecs.delete_service(cluster="a", service="web")
    world.admin.ecs.update_service(cluster="a", service="web", desiredCount=0)
    answer = world.admin.ecs.delete_service(cluster="a", service=SERVICE_ARN + "a/web")["service"]
    assert (answer["status"], answer["desiredCount"]) == ("DRAINING", 0)
    assert world.api.read("EcsService", "web", "a") is None
    inactive = world.admin.ecs.describe_services(cluster="a", services=["web"])["services"][0]
    assert inactive["status"] == "INACTIVE"
    with refused("ServiceNotFoundException"):
        world.admin.ecs.delete_service(cluster="a", service="web")


def test_service_deployments_list_and_describe(world: World) -> None:
    ready(world)
    deployment = primary(world.service("a", "web", "web"))["id"]
    listed = world.admin.ecs.list_service_deployments(cluster="a", service="web")["serviceDeployments"]
    [brief] = listed
    assert brief["status"] == "SUCCESSFUL" and brief["serviceDeploymentArn"].endswith(
        deployment.split("/")[-1]
    )
    assert world.admin.ecs.list_service_deployments(cluster="a", service="web", status=["IN_PROGRESS"]) == {
        "serviceDeployments": []
    }
    arn = brief["serviceDeploymentArn"]
    described = world.admin.ecs.describe_service_deployments(serviceDeploymentArns=[arn, "not-an-arn"])
    assert [d["serviceDeploymentArn"] for d in described["serviceDeployments"]] == [arn]
    assert [f["reason"] for f in described["failures"]] == ["MISSING"]


def test_service_deployments_of_unknown_services_and_clusters(world: World) -> None:
    ready(world)
    with refused("ServiceNotFoundException"):
        world.admin.ecs.list_service_deployments(cluster="a", service="nowhere")
    with refused("ClusterNotFoundException"):
        world.admin.ecs.describe_service_deployments(
            serviceDeploymentArns=["arn:aws:ecs:us-east-1:000000000000:service-deployment/b/web/x"]
        )
