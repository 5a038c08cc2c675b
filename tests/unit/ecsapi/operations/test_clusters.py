"""CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster, UpdateClusterSettings,
PutClusterCapacityProviders."""

from __future__ import annotations

from ecs_operator.naming import cluster_object_name

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

ARN = "arn:aws:ecs:us-east-1:000000000000:cluster/"


def test_create_cluster_writes_an_ecs_cluster_as_the_caller_named_as_ecs_allows(world: World) -> None:
    answer = world.admin.ecs.create_cluster(clusterName="Prod_Cluster", tags=[{"key": "team", "value": "a"}])
    cluster = answer["cluster"]
    assert (cluster["clusterArn"], cluster["clusterName"], cluster["status"]) == (
        ARN + "Prod_Cluster",
        "Prod_Cluster",
        "ACTIVE",
    )
    [write] = world.api.writes_of("EcsCluster")
    assert (write.user, write.verb) == ("ecs-admin", "create")
    stored = world.api.read("EcsCluster", cluster_object_name("Prod_Cluster"))
    assert stored is not None and stored["spec"]["clusterName"] == "Prod_Cluster"
    assert stored["spec"]["tags"] == [{"key": "team", "value": "a"}]


def test_create_cluster_is_idempotent_and_defaults_to_default(world: World) -> None:
    first = world.admin.ecs.create_cluster()["cluster"]
    again = world.admin.ecs.create_cluster(clusterName="default")["cluster"]
    assert first["clusterArn"] == again["clusterArn"] == ARN + "default"
    assert len(world.api.writes_of("EcsCluster")) == 1


def test_the_name_of_a_deleted_cluster_is_free_again_once_the_operator_let_it_go(world: World) -> None:
    first = world.cluster("a")
    world.admin.ecs.delete_cluster(cluster="a")
    deleting = world.admin.ecs.describe_clusters(clusters=["a"])["clusters"][0]
    assert deleting["status"] == "DEPROVISIONING"  # the operator's finalizer holds it a moment
    world.store.while_waiting.append(world.operator.reconcile)
    again = world.admin.ecs.create_cluster(clusterName="a")["cluster"]
    assert (again["clusterArn"], again["status"]) == (first["clusterArn"], "ACTIVE")
    stored = world.api.read("EcsCluster", "a")
    assert stored is not None and not stored["metadata"].get("deletionTimestamp")


def test_create_cluster_of_a_name_still_being_deleted_says_so(world: World) -> None:
    world.cluster("a")
    world.admin.ecs.delete_cluster(cluster="a")
    with refused("ClientException", "clusterName", "still being deleted"):
        world.admin.ecs.create_cluster(clusterName="a")


def test_create_cluster_leaves_an_ecs_cluster_of_another_name_alone(world: World) -> None:
    world.api.put(
        {"apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster", "metadata": {"name": "web"},
         "spec": {"clusterName": "Web_Prod"}}
    )  # fmt: skip
    created = world.admin.ecs.create_cluster(clusterName="web")["cluster"]
    assert (created["clusterName"], created["clusterArn"]) == ("web", ARN + "web")
    [write] = world.api.writes_of("EcsCluster")[-1:]
    assert write.name != "web" and write.body["spec"]["clusterName"] == "web"
    other = world.api.read("EcsCluster", "web")
    assert other is not None and other["spec"]["clusterName"] == "Web_Prod"


def test_create_cluster_refuses_a_name_ecs_refuses(world: World) -> None:
    with refused("InvalidParameterException", "clusterName", "prod.cluster"):
        world.admin.ecs.create_cluster(clusterName="prod.cluster")
    with refused("InvalidParameterException", "clusterName"):
        world.admin.ecs.create_cluster(clusterName="x" * 256)
    assert world.api.writes_of("EcsCluster", ok=False) == []


def test_create_cluster_takes_the_accounts_container_insights_default(world: World) -> None:
    world.admin.ecs.put_account_setting_default(name="containerInsights", value="enhanced")
    created = world.admin.ecs.create_cluster(clusterName="watched")
    described = world.admin.ecs.describe_clusters(clusters=["watched"], include=["SETTINGS"])["clusters"][0]
    assert described["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert created["cluster"]["clusterName"] == "watched"


def test_create_cluster_with_tags_needs_the_right_to_tag(world: World) -> None:
    world.api.put(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "create-only"},
            "rules": [
                {"apiGroups": ["ecs.operator.dev"], "resources": ["ecsclusters"], "verbs": ["create", "get"]}
            ],
        }
    )
    creator = world.caller("creator", cluster_roles=("create-only",))
    creator.ecs.create_cluster(clusterName="plain")
    with refused("AccessDeniedException", "creator", "patch"):
        creator.ecs.create_cluster(clusterName="tagged", tags=[{"key": "k", "value": "v"}])
    world.admin.ecs.put_account_setting_default(name="tagResourceAuthorization", value="off")
    creator.ecs.create_cluster(clusterName="tagged", tags=[{"key": "k", "value": "v"}])


def test_describe_clusters_reports_unknown_ones_as_missing_failures(world: World) -> None:
    world.cluster("a")
    answer = world.admin.ecs.describe_clusters(clusters=["a", ARN + "b"])
    assert [c["clusterName"] for c in answer["clusters"]] == ["a"]
    assert answer["failures"] == [{"arn": ARN + "b", "reason": "MISSING"}]


def test_describe_clusters_counts_instances_services_and_tasks(world: World) -> None:
    world.cluster("a")
    world.operator.add_instance("a", "node-1")
    world.task_definition("web")
    world.service("a", "web", "web", desired=2)
    described = world.admin.ecs.describe_clusters(clusters=["a"], include=["STATISTICS", "TAGS"])["clusters"][
        0
    ]
    statistics = {s["name"]: s["value"] for s in described["statistics"]}
    assert statistics["activeEC2ServiceCount"] == "1"
    assert (statistics["runningEC2TasksCount"], statistics["runningFargateTasksCount"]) == ("2", "0")
    assert described["registeredContainerInstancesCount"] == 1


def test_describe_clusters_needs_the_right_to_get_them(world: World) -> None:
    world.cluster("a")
    viewer = world.caller("viewer", namespace_roles={"a": "ecs-operator:view"})
    with refused("AccessDeniedException", "viewer", "ecsclusters"):
        viewer.ecs.describe_clusters(clusters=["a"])


def test_list_clusters_pages_in_name_order(world: World) -> None:
    for name in ("c", "a", "b"):
        world.admin.ecs.create_cluster(clusterName=name)
    first = world.admin.ecs.list_clusters(maxResults=2)
    assert first["clusterArns"] == [ARN + "a", ARN + "b"]
    second = world.admin.ecs.list_clusters(maxResults=2, nextToken=first["nextToken"])
    assert second == {"clusterArns": [ARN + "c"]}


def test_list_clusters_refuses_a_page_size_and_a_token_it_did_not_make(world: World) -> None:
    with refused("InvalidParameterException", "maxResults"):
        world.admin.ecs.list_clusters(maxResults=101)
    with refused("InvalidParameterException", "nextToken"):
        world.admin.ecs.list_clusters(nextToken="forged")


def test_delete_cluster_refuses_while_services_or_tasks_are_active(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.service("a", "web", "web")
    with refused("ClusterContainsServicesException", "Services are active"):
        world.admin.ecs.delete_cluster(cluster="a")
    world.admin.ecs.delete_service(cluster="a", service="web", force=True)
    world.store.while_waiting.append(world.operator.reconcile)
    world.admin.ecs.run_task(cluster="a", taskDefinition="web")
    with refused("ClusterContainsTasksException", "Tasks are active"):
        world.admin.ecs.delete_cluster(cluster="a")
    assert [w.verb for w in world.api.writes_of("EcsCluster") if w.user == "ecs-admin"] == ["create"]


def test_delete_cluster_answers_it_inactive_and_deletes_it_as_the_caller(world: World) -> None:
    world.cluster("a")
    answer = world.admin.ecs.delete_cluster(cluster=ARN + "a")["cluster"]
    assert (answer["clusterName"], answer["status"]) == ("a", "INACTIVE")
    deletes = [w for w in world.api.writes_of("EcsCluster") if w.verb == "delete"]
    assert [(w.user, w.name) for w in deletes] == [("ecs-admin", "a")]
    with refused("ClusterNotFoundException", "Cluster not found"):
        world.admin.ecs.delete_cluster(cluster="a")


def test_update_cluster_changes_settings_and_configuration(world: World) -> None:
    world.cluster("a")
    answer = world.admin.ecs.update_cluster(
        cluster="a",
        settings=[{"name": "containerInsights", "value": "enabled"}],
        configuration={"executeCommandConfiguration": {"logging": "NONE"}},
    )["cluster"]
    assert answer["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert answer["configuration"] == {"executeCommandConfiguration": {"logging": "NONE"}}
    stored = world.api.read("EcsCluster", "a")
    assert stored is not None and stored["metadata"]["generation"] == 2


def test_update_cluster_refuses_an_unknown_cluster_and_a_setting_ecs_does_not_know(world: World) -> None:
    with refused("ClusterNotFoundException"):
        world.admin.ecs.update_cluster(
            cluster="nowhere", settings=[{"name": "containerInsights", "value": "enabled"}]
        )
    world.cluster("a")
    with refused("InvalidParameterException", "settings[0].name"):
        world.admin.ecs.update_cluster(cluster="a", settings=[{"name": "loudness", "value": "high"}])


def test_update_cluster_settings(world: World) -> None:
    world.cluster("a")
    answer = world.admin.ecs.update_cluster_settings(
        cluster="a", settings=[{"name": "containerInsights", "value": "disabled"}]
    )
    assert answer["cluster"]["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    with refused("ClusterNotFoundException"):
        world.admin.ecs.update_cluster_settings(
            cluster="b", settings=[{"name": "containerInsights", "value": "disabled"}]
        )


def test_put_cluster_capacity_providers_associates_fargate_with_a_default_strategy(world: World) -> None:
    world.cluster("a")
    answer = world.admin.ecs.put_cluster_capacity_providers(
        cluster="a",
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )["cluster"]
    assert answer["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    [strategy] = answer["defaultCapacityProviderStrategy"]
    assert (strategy["capacityProvider"], strategy["weight"]) == ("FARGATE", 1)


def test_put_cluster_capacity_providers_refuses_what_ecs_refuses(world: World) -> None:
    world.cluster("a")
    world.cluster("b")
    with refused("InvalidParameterException", "capacityProviders[0]", "does not exist"):
        world.admin.ecs.put_cluster_capacity_providers(
            cluster="a", capacityProviders=["nowhere"], defaultCapacityProviderStrategy=[]
        )
    with refused("InvalidParameterException", "defaultCapacityProviderStrategy[0]"):
        world.admin.ecs.put_cluster_capacity_providers(
            cluster="a",
            capacityProviders=["FARGATE"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT"}],
        )
    world.admin.ecs.create_capacity_provider(
        name="pool", autoScalingGroupProvider={"autoScalingGroupArn": "asg"}
    )
    world.admin.ecs.put_cluster_capacity_providers(
        cluster="a", capacityProviders=["pool"], defaultCapacityProviderStrategy=[]
    )
    with refused("ResourceInUseException", "capacityProviders[0]", "already associated with cluster a"):
        world.admin.ecs.put_cluster_capacity_providers(
            cluster="b", capacityProviders=["pool"], defaultCapacityProviderStrategy=[]
        )


def test_a_capacity_provider_a_service_uses_cannot_be_removed_from_its_cluster(world: World) -> None:
    world.cluster("a")
    world.admin.ecs.put_cluster_capacity_providers(
        cluster="a", capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[]
    )
    world.task_definition(
        "web", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512"
    )
    world.admin.ecs.create_service(
        cluster="a",
        serviceName="web",
        taskDefinition="web",
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    )
    with refused("ResourceInUseException", "FARGATE", "web"):
        world.admin.ecs.put_cluster_capacity_providers(
            cluster="a", capacityProviders=[], defaultCapacityProviderStrategy=[]
        )
    with refused("ClusterNotFoundException"):
        world.admin.ecs.put_cluster_capacity_providers(
            cluster="b", capacityProviders=[], defaultCapacityProviderStrategy=[]
        )
