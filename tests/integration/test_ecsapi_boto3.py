"""The ECS API with boto3: its waiters and paginators, and both directions between the API and kubectl
(what one writes, the other shows with the same content)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.integration.operator_helpers import API, Families, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
# boto3's waiters take a WaiterConfig: the real client's own knob for its poll interval.
FAST = {"Delay": 1, "MaxAttempts": 180}


def container(name: str = "app") -> dict[str, Any]:
    return {"name": name, "image": "nginx:1.27", "essential": True, "cpu": 32, "memory": 64}


def register(ecs: Any, family: str, **extra: Any) -> dict[str, Any]:
    response = ecs.register_task_definition(family=family, containerDefinitions=[container()], **extra)
    return dict(response["taskDefinition"])


def get(kubectl: Kubectl, kind: str, name: str, namespace: str) -> dict[str, Any]:
    return dict(json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout))


def test_waiters_and_paginators(ecs_client: Any, api_cluster_name: str, family: Families) -> None:
    ecs = ecs_client
    cluster = api_cluster_name
    pager = family("pager")
    ecs.create_cluster(clusterName=cluster)
    register(ecs, pager)
    for index in range(12):
        ecs.create_service(
            cluster=cluster, serviceName=f"svc-{index:02d}", taskDefinition=pager, desiredCount=1
        )
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["svc-00", "svc-11"], WaiterConfig=FAST)

    pages = list(
        ecs.get_paginator("list_services").paginate(cluster=cluster, PaginationConfig={"PageSize": 5})
    )
    assert [len(p["serviceArns"]) for p in pages] == [5, 5, 2]
    names = [arn.rsplit("/", 1)[1] for p in pages for arn in p["serviceArns"]]
    assert names == [f"svc-{i:02d}" for i in range(12)]
    assert len(ecs.list_services(cluster=cluster)["serviceArns"]) == 10  # ECS's default page size

    def all_running() -> int:
        arns = [a for p in ecs.get_paginator("list_tasks").paginate(cluster=cluster) for a in p["taskArns"]]
        return len(arns) == 12 and len(arns)

    wait_for(all_running, timeout=120, message="12 service tasks listed")
    task_pages = list(
        ecs.get_paginator("list_tasks").paginate(cluster=cluster, PaginationConfig={"PageSize": 7})
    )
    assert [len(p["taskArns"]) for p in task_pages] == [7, 5]

    for number in range(2, 4):
        ecs.register_task_definition(family=pager, containerDefinitions=[container(f"c{number}")])
    revisions = [
        a
        for p in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=pager)
        for a in p["taskDefinitionArns"]
    ]
    assert [a.rsplit(":", 1)[1] for a in revisions] == ["1", "2", "3"]
    newest = ecs.list_task_definitions(familyPrefix=pager, sort="DESC", maxResults=1)
    assert newest["taskDefinitionArns"][0].endswith(f"{pager}:3") and newest["nextToken"]
    instances = [
        a
        for p in ecs.get_paginator("list_container_instances").paginate(cluster=cluster)
        for a in p["containerInstanceArns"]
    ]
    assert len(instances) == 1
    described = ecs.describe_container_instances(cluster=cluster, containerInstances=instances)
    instance = described["containerInstances"][0]
    assert instance["status"] == "ACTIVE" and instance["runningTasksCount"] == 12
    registered = {r["name"]: r.get("integerValue") for r in instance["registeredResources"]}
    remaining = {r["name"]: r.get("integerValue") for r in instance["remainingResources"]}
    assert registered["CPU"] == 4096 and remaining["CPU"] == 4096 - 12 * 32

    run = ecs.run_task(cluster=cluster, taskDefinition=f"{pager}:3", count=2, startedBy="boto3")
    task_arns = [t["taskArn"] for t in run["tasks"]]
    assert len(task_arns) == 2 and run["failures"] == []
    # RunTask answers from the tasks' Pods, before the operator's first status (written once they run).
    assert {(t["taskDefinitionArn"].rsplit("/", 1)[-1], t["group"]) for t in run["tasks"]} == {
        (f"{pager}:3", f"family:{pager}")
    }
    assert {t["lastStatus"] for t in run["tasks"]} <= {"PROVISIONING", "PENDING", "RUNNING"}
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=task_arns, WaiterConfig=FAST)
    for arn in task_arns:
        ecs.stop_task(cluster=cluster, task=arn, reason="enough")
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=task_arns, WaiterConfig=FAST)
    stopped = ecs.describe_tasks(cluster=cluster, tasks=task_arns)["tasks"]
    assert {(t["lastStatus"], t["stopCode"], t["stoppedReason"]) for t in stopped} == {
        ("STOPPED", "UserInitiated", "enough")
    }
    assert all(t["startedBy"] == "boto3" for t in stopped)


def test_what_the_api_creates_kubectl_shows_and_the_other_way(
    ecs_client: Any, api_cluster_name: str, kubectl: Kubectl, family: Families
) -> None:
    ecs = ecs_client
    cluster = api_cluster_name
    both, from_kubectl = family("both"), family("kubectl-family")
    ecs.create_cluster(clusterName=cluster, tags=[{"key": "team", "value": "blue"}])
    register(ecs, both)
    request = {
        "serviceName": "from-api",
        "taskDefinition": both,
        "desiredCount": 1,
        "deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 50},
        "tags": [{"key": "owner", "value": "api"}],
    }
    ecs.create_service(cluster=cluster, **request)

    # The API's service is an EcsService whose spec is the request (the revision resolved, as ECS stores it).
    obj = get(kubectl, "ecsservice", "from-api", cluster)
    assert obj["spec"] == {**request, "taskDefinition": f"{both}:1"}
    cluster_obj = json.loads(kubectl("get", "ecscluster", cluster, "-o", "json").stdout)
    assert cluster_obj["spec"]["tags"] == [{"key": "team", "value": "blue"}]
    # The registered family is an EcsTaskDefinition of the account (cluster-scoped, as task definitions
    # are regional in ECS).
    families = json.loads(kubectl("get", "ecstaskdefinitions", "-o", "json").stdout)["items"]
    assert [
        (f["metadata"]["name"], f["spec"]["family"]) for f in families if f["spec"]["family"] == both
    ] == [(both, both)]
    assert "from-api" in kubectl("get", "ecs", "-n", cluster).stdout

    # The same service applied with kubectl is described by the API the same way.
    applied = {
        "apiVersion": API,
        "kind": "EcsService",
        "metadata": {"name": "from-kubectl", "namespace": cluster},
        "spec": {**request, "serviceName": "from-kubectl", "taskDefinition": f"{both}:1"},
    }
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(applied))
    # A write made beside the API reaches it through its watch: at once, but not synchronously.
    wait_for(
        lambda: not ecs.describe_services(cluster=cluster, services=["from-kubectl"])["failures"],
        timeout=30,
        message="the API sees the EcsService applied with kubectl",
    )
    waiter = ecs.get_waiter("services_stable")
    waiter.wait(cluster=cluster, services=["from-api", "from-kubectl"], WaiterConfig=FAST)
    described = ecs.describe_services(
        cluster=cluster, services=["from-api", "from-kubectl"], include=["TAGS"]
    )
    by_name = {s["serviceName"]: s for s in described["services"]}
    volatile = ("serviceArn", "serviceName", "deployments", "events", "createdAt")

    def stable_part(service: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in service.items() if k not in volatile}

    assert stable_part(by_name["from-api"]) == stable_part(by_name["from-kubectl"])
    assert by_name["from-kubectl"]["deploymentConfiguration"]["maximumPercent"] == 150
    assert by_name["from-kubectl"]["tags"] == [{"key": "owner", "value": "api"}]
    listed = ecs.list_services(cluster=cluster)["serviceArns"]
    assert sorted(a.rsplit("/", 1)[1] for a in listed) == ["from-api", "from-kubectl"]

    # A task definition applied with kubectl is registered by the operator and described by the API.
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(task_definition(from_kubectl)))

    def described_family() -> dict[str, Any] | None:
        try:
            return dict(ecs.describe_task_definition(taskDefinition=from_kubectl)["taskDefinition"])
        except ecs.exceptions.ClientException:
            return None

    described_td = wait_for(described_family, timeout=60, message=f"{from_kubectl}:1 described by the API")
    assert (described_td["revision"], described_td["containerDefinitions"][0]["image"]) == (1, "nginx:1.27")

    # An update through the API is a spec change kubectl sees; kubectl's scale is what the API describes.
    ecs.update_service(cluster=cluster, service="from-api", desiredCount=2)
    assert get(kubectl, "ecsservice", "from-api", cluster)["spec"]["desiredCount"] == 2
    kubectl("scale", "ecsservice", "from-kubectl", "-n", cluster, "--replicas=3")
    wait_for(
        lambda: (
            ecs.describe_services(cluster=cluster, services=["from-kubectl"])["services"][0]["desiredCount"]
            == 3
        ),
        timeout=30,
        message="the API describes kubectl's scale",
    )
    missing = ecs.describe_services(cluster=cluster, services=["nothing-here"])
    assert missing["services"] == [] and missing["failures"][0]["reason"] == "MISSING"


def test_tags_service_deployments_and_cluster_details(
    ecs_client: Any, api_cluster_name: str, family: Families
) -> None:
    ecs = ecs_client
    cluster = api_cluster_name
    tagged = family("tagged")
    cluster_arn = ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"]
    assert ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"] == cluster_arn  # idempotent
    register(ecs, tagged, tags=[{"key": "tier", "value": "web"}])
    service_arn = ecs.create_service(
        cluster=cluster, serviceName="tagged", taskDefinition=tagged, desiredCount=1
    )["service"]["serviceArn"]
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["tagged"], WaiterConfig=FAST)

    ecs.tag_resource(
        resourceArn=service_arn, tags=[{"key": "team", "value": "blue"}, {"key": "cost", "value": "1"}]
    )
    ecs.untag_resource(resourceArn=service_arn, tagKeys=["cost"])
    assert ecs.list_tags_for_resource(resourceArn=service_arn)["tags"] == [{"key": "team", "value": "blue"}]
    ecs.tag_resource(resourceArn=cluster_arn, tags=[{"key": "env", "value": "ci"}])
    described = ecs.describe_clusters(clusters=[cluster], include=["TAGS", "SETTINGS", "STATISTICS"])[
        "clusters"
    ][0]
    assert described["tags"] == [{"key": "env", "value": "ci"}]
    assert described["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    assert described["registeredContainerInstancesCount"] == 1
    definition = ecs.describe_task_definition(taskDefinition=tagged, include=["TAGS"])
    assert definition["tags"] == [{"key": "tier", "value": "web"}]
    assert ecs.list_tags_for_resource(resourceArn=definition["taskDefinition"]["taskDefinitionArn"])[
        "tags"
    ] == [{"key": "tier", "value": "web"}]

    deployments = ecs.list_service_deployments(cluster=cluster, service="tagged")["serviceDeployments"]
    assert [d["status"] for d in deployments] == ["SUCCESSFUL"]
    detail = ecs.describe_service_deployments(serviceDeploymentArns=[deployments[0]["serviceDeploymentArn"]])
    assert detail["serviceDeployments"][0]["serviceArn"] == service_arn and detail["failures"] == []

    assert ecs.list_task_definition_families(familyPrefix=tagged)["families"] == [tagged]
    ecs.deregister_task_definition(taskDefinition=f"{tagged}:1")
    wait_for(
        lambda: (
            ecs.list_task_definition_families(familyPrefix=tagged, status="INACTIVE")["families"] == [tagged]
        ),
        timeout=60,
        message=f"family {tagged} INACTIVE once its only revision is deregistered",
    )
    code = None
    try:
        ecs.create_service(cluster=cluster, serviceName="late", taskDefinition=tagged, desiredCount=1)
    except ecs.exceptions.ClientException as error:
        code = error.response["Error"]["Message"]
    assert code == "TaskDefinition not found."


def test_force_new_deployment_and_stopping_one_service_task(
    ecs_client: Any, api_cluster_name: str, family: Families
) -> None:
    ecs = ecs_client
    cluster = api_cluster_name
    forced = family("forced")
    ecs.create_cluster(clusterName=cluster)
    register(ecs, forced)
    ecs.create_service(cluster=cluster, serviceName="forced", taskDefinition=forced, desiredCount=2)
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["forced"], WaiterConfig=FAST)
    before = ecs.describe_services(cluster=cluster, services=["forced"])["services"][0]["deployments"][0][
        "id"
    ]

    ecs.update_service(cluster=cluster, service="forced", forceNewDeployment=True)

    def new_deployment() -> str | None:
        deployments = ecs.describe_services(cluster=cluster, services=["forced"])["services"][0][
            "deployments"
        ]
        ids = [d["id"] for d in deployments if d["status"] == "PRIMARY"]
        return ids[0] if ids and ids[0] != before and len(deployments) == 1 else None

    after = wait_for(new_deployment, timeout=120, message="one new deployment of the same revision")
    service = ecs.describe_services(cluster=cluster, services=["forced"])["services"][0]
    assert service["taskDefinition"].endswith(f"{forced}:1") and after.startswith("ecs-svc/")

    tasks = ecs.list_tasks(cluster=cluster, serviceName="forced")["taskArns"]
    assert len(tasks) == 2
    stopping = ecs.stop_task(cluster=cluster, task=tasks[0], reason="replace this one")["task"]
    assert (stopping["desiredStatus"], stopping["stoppedReason"]) == ("STOPPED", "replace this one")
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[tasks[0]], WaiterConfig=FAST)
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[tasks[0]])["tasks"][0]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "replace this one",
    )
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=["forced"], WaiterConfig=FAST)
    replaced = ecs.list_tasks(cluster=cluster, serviceName="forced")["taskArns"]
    assert len(replaced) == 2 and tasks[0] not in replaced
