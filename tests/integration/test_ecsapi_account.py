"""ECS's account model through the real clients (boto3, the AWS CLI): names as ECS allows them, regional task
definitions with revision numbers never reused, deployment ids that hold from the first answer, history that
survives restarts of the API and the operator, account settings, capacity providers and cluster updates."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
FAST = {"Delay": 1, "MaxAttempts": 240}


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(3)}"


def container(name: str = "app", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "nginx:1.27", "essential": True, "cpu": 32, "memory": 64, **extra}


def fargate(
    ecs: Any, family: str, containers: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    response = ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=containers or [container()],
        **extra,
    )
    return dict(response["taskDefinition"])


def error_code(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


@pytest.fixture(scope="module", autouse=True)
def families_removed(kubectl: Kubectl) -> Iterator[None]:
    """Task definitions are account-wide: the families this module registers go when it ends, with their
    revision records, so other tests' listings do not see them."""
    from ecs_operator.account import account_namespace
    from ecs_operator.labels import FAMILY
    from ecs_operator.revisions import family_label

    def families() -> dict[str, str]:
        listed = kubectl("get", "ecstaskdefinitions", "-o", "json").stdout
        return {o["metadata"]["name"]: o["spec"]["family"] for o in json.loads(listed)["items"]}

    before = families()
    yield
    for name, family in families().items():
        if name in before:
            continue
        kubectl("delete", "ecstaskdefinition", name, "--ignore-not-found", "--wait=false", check=False)
        kubectl(
            "delete", "controllerrevisions", "-n", account_namespace(), "-l",
            f"{FAMILY}={family_label(family)}", "--ignore-not-found", "--wait=false", check=False,
        )  # fmt: skip


@pytest.fixture
def clusters(ecs_client: Any, kubectl: Kubectl, ecs_operator: Any) -> Iterator[list[str]]:
    """ECS cluster names the test creates through the API (the operator reconciles them); removed afterwards
    with what they hold."""
    from ecs_operator.naming import cluster_object_name

    made: list[str] = []
    yield made
    for name in made:
        namespace = cluster_object_name(name)
        kubectl("delete", "ecsservices,ecstasks", "--all", "-n", namespace, "--timeout=120s", check=False)
        kubectl("delete", "ecscluster", namespace, "--ignore-not-found", "--timeout=60s", check=False)


def create_cluster(ecs: Any, clusters: list[str], name: str, **extra: Any) -> dict[str, Any]:
    clusters.append(name)
    return dict(ecs.create_cluster(clusterName=name, **extra)["cluster"])


def test_names_as_ecs_allows_them_and_a_regional_task_definition(
    ecs_client: Any, clusters: list[str], kubectl: Kubectl
) -> None:
    ecs = ecs_client
    family = unique("Web_App")
    registered = fargate(ecs, family)  # before any cluster of this test exists: task definitions are regional
    assert registered["revision"] == 1 and registered["family"] == family
    first = unique("Prod_Cluster")
    second = unique("test_ecs_cluster")
    cluster = create_cluster(ecs, clusters, first, tags=[{"key": "team", "value": "web"}])
    assert cluster["clusterName"] == first and cluster["clusterArn"].endswith(f":cluster/{first}")
    # Any call right after CreateCluster works (the service waits for the cluster's namespace).
    service = ecs.create_service(
        cluster=first,
        serviceName="My_Service",
        taskDefinition=family,
        desiredCount=1,
        launchType="FARGATE",
    )["service"]
    assert service["serviceArn"].endswith(f":service/{first}/My_Service")
    ecs.get_waiter("services_stable").wait(cluster=first, services=["My_Service"], WaiterConfig=FAST)
    # A second cluster, created after the family was registered, runs it too.
    create_cluster(ecs, clusters, second)
    task = ecs.run_task(cluster=second, taskDefinition=f"{family}:1", launchType="FARGATE")["tasks"][0]
    assert task["taskDefinitionArn"].endswith(f":task-definition/{family}:1")
    ecs.get_waiter("tasks_running").wait(cluster=second, tasks=[task["taskArn"]], WaiterConfig=FAST)
    names = [arn.rsplit("/", 1)[1] for arn in ecs.list_clusters()["clusterArns"]]
    assert first in names and second in names
    described = ecs.describe_clusters(clusters=[first], include=["TAGS", "STATISTICS"])["clusters"][0]
    assert described["tags"] == [{"key": "team", "value": "web"}]
    statistics = {s["name"]: s["value"] for s in described["statistics"]}
    assert statistics["activeFargateServiceCount"] == "1" and statistics["runningFargateTasksCount"] == "1"
    # Kubernetes names are derived; the ECS name stays in the spec and in status.
    from ecs_operator.naming import cluster_object_name

    namespace = cluster_object_name(first)
    assert namespace != first and namespace.startswith("prod-cluster-")
    shown = kubectl("get", "ecsservice", "-n", namespace, "-o", "jsonpath={.items[0].spec.serviceName}")
    assert shown.stdout == "My_Service"
    code, message = error_code(lambda: ecs.create_cluster(clusterName="bad name"))
    assert code == "InvalidParameterException" and "clusterName" in message
    code, _ = error_code(lambda: ecs.describe_services(cluster=unique("nowhere"), services=["x"]))
    assert code == "ClusterNotFoundException"


def test_revision_numbers_are_never_reused_and_deleted_revisions_go(
    ecs_client: Any, ecs_operator: Any
) -> None:
    ecs = ecs_client
    family = unique("numbers")
    for _ in range(3):
        fargate(ecs, family, tags=[{"key": "stage", "value": "test"}])  # an identical one is a new revision

    def arn(number: int) -> str:
        return f"{family}:{number}"

    code, message = error_code(lambda: ecs.delete_task_definitions(taskDefinitions=["nothing"]))
    assert code == "InvalidParameterException" and "revision" in message
    refused = ecs.delete_task_definitions(taskDefinitions=[arn(3)])
    assert refused["failures"][0]["reason"] == "TASK_DEFINITION_ACTIVE" and not refused["taskDefinitions"]
    ecs.deregister_task_definition(taskDefinition=arn(3))
    ecs.deregister_task_definition(taskDefinition=arn(2))
    deleted = ecs.delete_task_definitions(taskDefinitions=[arn(3), arn(2)])
    assert {d["revision"]: d["status"] for d in deleted["taskDefinitions"]} == {
        3: "DELETE_IN_PROGRESS",
        2: "DELETE_IN_PROGRESS",
    }

    def gone() -> bool:
        try:
            ecs.describe_task_definition(taskDefinition=arn(3))
        except ClientError as error:
            return error.response["Error"]["Code"] == "ClientException"
        return False

    wait_for(gone, timeout=60, message="the deleted revision is gone once nothing runs it")
    assert fargate(ecs, family)["revision"] == 4  # 2 and 3 are never registered again
    tagged = ecs.describe_task_definition(taskDefinition=arn(1), include=["TAGS"])
    assert tagged["tags"] == [{"key": "stage", "value": "test"}]
    resource = tagged["taskDefinition"]["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=resource, tags=[{"key": "owner", "value": "me"}])
    ecs.untag_resource(resourceArn=resource, tagKeys=["stage"])
    assert ecs.list_tags_for_resource(resourceArn=resource)["tags"] == [{"key": "owner", "value": "me"}]
    listed = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in listed] == ["1", "4"]


def test_the_deployment_id_of_update_service_holds_until_it_completes_or_is_rolled_back(
    ecs_client: Any, clusters: list[str]
) -> None:
    ecs = ecs_client
    cluster = unique("deploys")
    create_cluster(ecs, clusters, cluster)
    family = unique("rolling")
    fargate(ecs, family)
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    created = ecs.create_service(
        cluster=cluster,
        serviceName="web",
        taskDefinition=family,
        desiredCount=2,
        launchType="FARGATE",
        deploymentConfiguration=breaker,
    )["service"]
    first_id = created["deployments"][0]["id"]
    assert first_id.startswith("ecs-svc/") and first_id[8:].isdigit() and len(first_id) == 27
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["web"], WaiterConfig=FAST)
    stable = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
    assert [(d["id"], d["rolloutState"]) for d in stable["deployments"]] == [(first_id, "COMPLETED")]

    fargate(ecs, family, [container(environment=[{"name": "V", "value": "2"}])])
    updated = ecs.update_service(cluster=cluster, service="web", taskDefinition=f"{family}:2")["service"]
    new_id = updated["deployments"][0]["id"]
    assert updated["deployments"][0]["status"] == "PRIMARY" and new_id != first_id
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["web"], WaiterConfig=FAST)
    stable = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
    assert [(d["id"], d["rolloutState"]) for d in stable["deployments"]] == [(new_id, "COMPLETED")]
    tasks = ecs.list_tasks(cluster=cluster, startedBy=new_id)["taskArns"]
    assert len(tasks) == 2
    arn = f"arn:aws:ecs:us-east-1:000000000000:service-deployment/{cluster}/web/{new_id[8:]}"
    found = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    assert [d["status"] for d in found] == ["SUCCESSFUL"]

    # A revision whose tasks fail: the circuit breaker rolls back, and the failed deployment's id is gone
    # from `deployments` once the rollback has settled, as in ECS.
    failing = container(dockerLabels={"ecs.operator.dev/kwok-fail-exit-code": "1"})
    fargate(ecs, family, [failing])
    failed_id = ecs.update_service(cluster=cluster, service="web", taskDefinition=f"{family}:3")["service"][
        "deployments"
    ][0]["id"]

    def rolled_back() -> bool:
        service = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
        ids = [d["id"] for d in service["deployments"]]
        return failed_id not in ids and service["taskDefinition"].endswith(f"{family}:2")

    wait_for(rolled_back, timeout=300, message="the failed deployment rolled back")
    history = ecs.list_service_deployments(cluster=cluster, service="web")["serviceDeployments"]
    assert any(d["serviceDeploymentArn"].endswith(failed_id[8:]) for d in history)


def test_history_and_settings_survive_restarts_of_the_api_and_the_operator(
    ecs_client: Any, clusters: list[str], ecs_api: Any, ecs_operator: Any
) -> None:
    ecs = ecs_client
    cluster = unique("history")
    create_cluster(ecs, clusters, cluster)
    family = unique("kept")
    fargate(ecs, family)
    fargate(ecs, family)
    ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    ecs.create_service(
        cluster=cluster, serviceName="svc", taskDefinition=family, desiredCount=1, launchType="FARGATE"
    )
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["svc"], WaiterConfig=FAST)
    service_task = ecs.list_tasks(cluster=cluster, serviceName="svc")["taskArns"][0]
    ecs.stop_task(cluster=cluster, task=service_task, reason="history test")
    task = ecs.run_task(cluster=cluster, taskDefinition=family, launchType="FARGATE")["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[task], WaiterConfig=FAST)
    ecs.stop_task(cluster=cluster, task=task, reason="stopped before the restart")
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[task, service_task], WaiterConfig=FAST)
    ecs.update_service(cluster=cluster, service="svc", desiredCount=0)
    ecs.delete_service(cluster=cluster, service="svc")
    ecs.get_waiter("services_inactive").wait(cluster=cluster, services=["svc"], WaiterConfig=FAST)
    ecs.put_account_setting(name="containerInsights", value="enhanced")

    ecs_operator.stop()
    ecs_api.stop()
    ecs_operator.start()
    ecs_api.start()

    revision = ecs.describe_task_definition(taskDefinition=f"{family}:1")["taskDefinition"]
    assert revision["status"] == "INACTIVE"
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[task, service_task])["tasks"]
    assert {t["taskArn"]: t["lastStatus"] for t in stopped} == {task: "STOPPED", service_task: "STOPPED"}
    reasons = {t["taskArn"]: t.get("stoppedReason") for t in stopped}
    assert reasons[task] == "stopped before the restart" and reasons[service_task] == "history test"
    listed = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    assert task in listed and service_task in listed
    inactive = ecs.describe_services(cluster=cluster, services=["svc"])["services"][0]
    assert inactive["status"] == "INACTIVE"
    settings = ecs.list_account_settings(name="containerInsights")["settings"]
    assert [s["value"] for s in settings] == ["enhanced"]
    ecs.delete_account_setting(name="containerInsights")


def test_account_settings(ecs_client: Any, clusters: list[str]) -> None:
    ecs = ecs_client
    effective = {s["name"]: s for s in ecs.list_account_settings(effectiveSettings=True)["settings"]}
    assert effective["serviceLongArnFormat"]["value"] == "enabled"
    assert effective["containerInsights"]["value"] in ("disabled", "enabled", "enhanced")
    assert all(s["principalArn"].startswith("arn:aws:iam::000000000000:") for s in effective.values())
    put = ecs.put_account_setting_default(name="containerInsights", value="enabled")["setting"]
    assert put["principalArn"] == "arn:aws:iam::000000000000:root"
    try:
        cluster = unique("insights")
        create_cluster(ecs, clusters, cluster)
        described = ecs.describe_clusters(clusters=[cluster], include=["SETTINGS"])["clusters"][0]
        assert described["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    finally:
        ecs.delete_account_setting(name="containerInsights", principalArn="arn:aws:iam::000000000000:root")
    mine = ecs.put_account_setting(name="serviceLongArnFormat", value="disabled")["setting"]
    assert mine["principalArn"].startswith("arn:aws:iam::000000000000:user/")
    try:
        cluster = unique("short")
        create_cluster(ecs, clusters, cluster)
        fargate(ecs, cluster)
        service = ecs.create_service(
            cluster=cluster, serviceName="old", taskDefinition=cluster, desiredCount=0, launchType="FARGATE"
        )
        assert service["service"]["serviceArn"] == "arn:aws:ecs:us-east-1:000000000000:service/old"
        listed = ecs.list_account_settings(name="serviceLongArnFormat")["settings"]
        assert [s["value"] for s in listed] == ["disabled"]
    finally:
        ecs.delete_account_setting(name="serviceLongArnFormat")
    code, message = error_code(lambda: ecs.put_account_setting(name="guardDutyActivate", value="on"))
    assert code == "InvalidParameterException" and "guardDutyActivate" in message
    code, message = error_code(lambda: ecs.put_account_setting(name="containerInsights", value="maybe"))
    assert code == "InvalidParameterException" and "value" in message


def test_capacity_providers_and_cluster_updates(
    ecs_client: Any, clusters: list[str], kubectl: Kubectl
) -> None:
    ecs = ecs_client
    provider = unique("spot_pool")
    asg = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:abc:autoScalingGroupName/pool"
    created = ecs.create_capacity_provider(
        name=provider, autoScalingGroupProvider={"autoScalingGroupArn": asg}
    )
    assert created["capacityProvider"]["status"] == "ACTIVE"
    assert created["capacityProvider"]["autoScalingGroupProvider"]["managedScaling"]["status"] == "DISABLED"
    code, _ = error_code(
        lambda: ecs.create_capacity_provider(
            name="fargate_x", autoScalingGroupProvider={"autoScalingGroupArn": asg}
        )
    )
    assert code == "InvalidParameterException"
    names = [p["name"] for p in ecs.describe_capacity_providers()["capacityProviders"]]
    assert names[:2] == ["FARGATE", "FARGATE_SPOT"] and provider in names
    cluster = unique("pools")
    create_cluster(ecs, clusters, cluster)
    code, message = error_code(
        lambda: ecs.run_task(
            cluster=cluster,
            taskDefinition=fargate(ecs, unique("pooled"))["family"],
            capacityProviderStrategy=[{"capacityProvider": provider, "weight": 1}],
        )
    )
    assert code == "InvalidParameterException" and "not associated" in message
    updated = ecs.put_cluster_capacity_providers(
        cluster=cluster,
        capacityProviders=["FARGATE", provider],
        defaultCapacityProviderStrategy=[{"capacityProvider": provider, "weight": 1, "base": 1}],
    )["cluster"]
    assert updated["capacityProviders"] == ["FARGATE", provider]
    from ecs_operator.localcluster import cluster as localcluster

    nodes = localcluster.add_instances(cluster, 1, provider)
    try:
        family = unique("on_pool")
        ecs.register_task_definition(family=family, containerDefinitions=[container()])
        task = ecs.run_task(cluster=cluster, taskDefinition=family)["tasks"][0]["taskArn"]
        ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[task], WaiterConfig=FAST)
        described = ecs.describe_tasks(cluster=cluster, tasks=[task])["tasks"][0]
        instance = ecs.describe_container_instances(
            cluster=cluster, containerInstances=[described["containerInstanceArn"]]
        )
        assert instance["containerInstances"][0]["ec2InstanceId"] == nodes[0]
        chosen = ecs.list_container_instances(
            cluster=cluster, filter=f"ec2InstanceId == {nodes[0]} and runningTasksCount > 0"
        )
        assert len(chosen["containerInstanceArns"]) == 1
        listed = ecs.list_tasks(cluster=cluster, launchType="EC2")["taskArns"]
        assert listed == [task] and ecs.list_tasks(cluster=cluster, launchType="FARGATE")["taskArns"] == []
        code, message = error_code(lambda: ecs.delete_capacity_provider(capacityProvider=provider))
        assert code == "ClientException" and "in use" in message
    finally:
        for node in nodes:
            kubectl("delete", "node", node, "--wait=false", check=False)
    settings = [{"name": "containerInsights", "value": "enabled"}]
    changed = ecs.update_cluster(
        cluster=cluster,
        settings=settings,
        configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}},
    )["cluster"]
    assert (
        changed["settings"] == settings
        and changed["configuration"]["executeCommandConfiguration"]["logging"] == "DEFAULT"
    )
    changed = ecs.update_cluster_settings(
        cluster=cluster, settings=[{"name": "containerInsights", "value": "disabled"}]
    )["cluster"]
    assert changed["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    ecs.put_cluster_capacity_providers(
        cluster=cluster, capacityProviders=[], defaultCapacityProviderStrategy=[]
    )
    deleted = ecs.delete_capacity_provider(capacityProvider=provider)["capacityProvider"]
    assert deleted["status"] == "INACTIVE"
    failures = ecs.describe_capacity_providers(capacityProviders=[provider])["failures"]
    assert [f["reason"] for f in failures] == ["MISSING"]


def test_external_deployment_controller_and_what_the_aws_cli_sends(aws: Any, clusters: list[str]) -> None:
    cluster = unique("external")
    clusters.append(cluster)
    aws("create-cluster", "--cluster-name", cluster)
    service = aws(
        "create-service", "--cluster", cluster, "--service-name", "blue_green",
        "--deployment-controller", "type=EXTERNAL", "--desired-count", "2",
    )["service"]  # fmt: skip
    assert service["deploymentController"] == {"type": "EXTERNAL"} and "taskDefinition" not in service
    result = aws.run(
        "create-service", "--cluster", cluster, "--service-name", "no_task_definition", check=False
    )
    assert (
        result.returncode != 0
        and "taskDefinition" in result.stderr
        and "InvalidParameterException" in result.stderr
    )
