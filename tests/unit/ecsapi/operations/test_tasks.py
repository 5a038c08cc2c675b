"""RunTask, StartTask, StopTask, DescribeTasks, ListTasks: standalone tasks (an EcsTask's Pods) and service
tasks (a service's Pods), while they run and once they stopped."""

from __future__ import annotations

import json
from typing import Any

from ecs_operator import labels

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

TASK_ARN = "arn:aws:ecs:us-east-1:000000000000:task/a/"


def running_world(world: World) -> None:
    """A cluster and a task definition, and the operator at work while an operation waits for it."""
    world.cluster("a")
    world.task_definition("web")
    world.store.while_waiting.append(world.operator.reconcile)


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def pods_of(world: World, task_name: str) -> list[dict[str, Any]]:
    return [p for p in world.api.objects("Pod", "a") if p["metadata"]["labels"].get(labels.TASK) == task_name]


def test_run_task_starts_count_tasks_and_answers_them_running(world: World) -> None:
    running_world(world)
    answer = world.admin.ecs.run_task(
        cluster="a", taskDefinition="web", count=2, startedBy="ci", tags=[{"key": "k", "value": "v"}]
    )
    assert answer["failures"] == []
    tasks = answer["tasks"]
    assert [t["lastStatus"] for t in tasks] == ["RUNNING", "RUNNING"]
    assert {(t["group"], t["startedBy"], t["taskDefinitionArn"].rsplit("/", 1)[1]) for t in tasks} == {
        ("family:web", "ci", "web:1")
    }
    assert all(t["taskArn"].startswith(TASK_ARN) for t in tasks)
    [write] = world.api.writes_of("EcsTask")[:1]
    assert (write.user, write.verb, write.body["spec"]["count"]) == ("ecs-admin", "create", 2)


def test_run_task_without_an_operator_answers_a_failure_not_an_error(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    answer = world.admin.ecs.run_task(cluster="a", taskDefinition="web")
    assert answer["tasks"] == []
    [failure] = answer["failures"]
    assert failure["reason"] == "RESOURCE:OPERATOR" and "operator" in failure["detail"]


def test_run_task_refuses_unknown_and_deregistered_task_definitions(world: World) -> None:
    running_world(world)
    with refused("ClientException", "TaskDefinition not found"):
        world.admin.ecs.run_task(cluster="a", taskDefinition="other")
    world.admin.ecs.deregister_task_definition(taskDefinition="web:1")
    with refused("ClientException", "TaskDefinition is inactive"):
        world.admin.ecs.run_task(cluster="a", taskDefinition="web:1")
    with refused("ClusterNotFoundException"):
        world.admin.ecs.run_task(cluster="b", taskDefinition="web:1")
    assert world.api.writes_of("EcsTask", ok=False) == []


def test_run_task_refuses_a_count_ecs_refuses(world: World) -> None:
    running_world(world)
    with refused("InvalidParameterException", "count"):
        world.admin.ecs.run_task(cluster="a", taskDefinition="web", count=11)


def test_describe_tasks_by_id_and_arn_and_reports_missing_ones(world: World) -> None:
    running_world(world)
    [task] = world.admin.ecs.run_task(cluster="a", taskDefinition="web")["tasks"]
    arn = task["taskArn"]
    answer = world.admin.ecs.describe_tasks(cluster="a", tasks=[task_id(arn), arn, "0" * 32])
    assert [t["taskArn"] for t in answer["tasks"]] == [arn, arn]
    assert answer["tasks"][0]["containers"][0]["name"] == "web"
    assert answer["failures"] == [{"arn": TASK_ARN + "0" * 32, "reason": "MISSING"}]
    with refused("InvalidParameterException", "tasks", "at most 100"):
        world.admin.ecs.describe_tasks(cluster="a", tasks=[str(n) for n in range(101)])


def test_stop_task_records_the_request_and_the_stopped_task_stays_describable(world: World) -> None:
    running_world(world)
    [task] = world.admin.ecs.run_task(cluster="a", taskDefinition="web")["tasks"]
    stopped = world.admin.ecs.stop_task(cluster="a", task=task["taskArn"], reason="done with it")["task"]
    assert (stopped["desiredStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "done with it",
    )
    owner = world.api.writes_of("EcsTask")[-1]
    assert owner.user == "ecs-admin" and owner.body["spec"] == {"desiredStatus": "STOPPED"}
    assert json.loads(owner.body["metadata"]["annotations"][labels.STOP_TASKS]) == {
        task_id(task["taskArn"]): "done with it"
    }
    [pod] = pods_of(world, owner.name)
    world.operator.exit(pod, 0)
    world.operator.task_status("a", owner.name)
    world.operator.kube.delete("Pod", pod["metadata"]["name"], "a")
    [described] = world.admin.ecs.describe_tasks(cluster="a", tasks=[task["taskArn"]])["tasks"]
    assert (described["lastStatus"], described["stoppedReason"]) == ("STOPPED", "done with it")
    listed = world.admin.ecs.list_tasks(cluster="a", desiredStatus="STOPPED")["taskArns"]
    assert listed == [task["taskArn"]]


def test_stop_task_of_a_service_task_asks_its_service(world: World) -> None:
    running_world(world)
    world.service("a", "web", "web", desired=2)
    [first, _] = world.admin.ecs.list_tasks(cluster="a", serviceName="web")["taskArns"]
    world.admin.ecs.stop_task(cluster="a", task=first)
    write = world.api.writes_of("EcsService")[-1]
    assert (write.user, write.verb) == ("ecs-admin", "patch")
    assert json.loads(write.body["metadata"]["annotations"][labels.STOP_TASKS]) == {
        task_id(first): "Task stopped by user"
    }


def test_stop_task_of_an_unknown_task(world: World) -> None:
    running_world(world)
    with refused("InvalidParameterException", "task was not found"):
        world.admin.ecs.stop_task(cluster="a", task="0" * 32)
    with refused("ClusterNotFoundException"):
        world.admin.ecs.stop_task(cluster="b", task="0" * 32)


def test_list_tasks_filters_by_family_started_by_service_and_launch_type(world: World) -> None:
    running_world(world)
    world.task_definition("batch")
    [web] = world.admin.ecs.run_task(cluster="a", taskDefinition="web", startedBy="ci")["tasks"]
    [batch] = world.admin.ecs.run_task(cluster="a", taskDefinition="batch")["tasks"]
    world.service("a", "svc", "web")
    ecs = world.admin.ecs
    assert ecs.list_tasks(cluster="a", family="batch")["taskArns"] == [batch["taskArn"]]
    assert ecs.list_tasks(cluster="a", startedBy="ci")["taskArns"] == [web["taskArn"]]
    [service_task] = ecs.list_tasks(cluster="a", serviceName="svc")["taskArns"]
    assert service_task not in (web["taskArn"], batch["taskArn"])
    [deployment] = ecs.describe_services(cluster="a", services=["svc"])["services"][0]["deployments"]
    assert ecs.list_tasks(cluster="a", startedBy=deployment["id"])["taskArns"] == [service_task]
    assert sorted(ecs.list_tasks(cluster="a", family="web")["taskArns"]) == sorted(
        [web["taskArn"], service_task]
    )
    assert len(ecs.list_tasks(cluster="a", launchType="EC2")["taskArns"]) == 3
    assert ecs.list_tasks(cluster="a", launchType="FARGATE")["taskArns"] == []
    page = ecs.list_tasks(cluster="a", maxResults=2)
    assert len(page["taskArns"]) == 2 and ecs.list_tasks(cluster="a", nextToken=page["nextToken"])["taskArns"]


def test_list_tasks_refuses_unknown_services_and_container_instances(world: World) -> None:
    running_world(world)
    with refused("ServiceNotFoundException"):
        world.admin.ecs.list_tasks(cluster="a", serviceName="nowhere")
    with refused("InvalidParameterException", "containerInstance"):
        world.admin.ecs.list_tasks(cluster="a", containerInstance="nowhere")
    viewer = world.caller("outsider", namespace_roles={"default": "ecs-operator:view"})
    with refused("AccessDeniedException", "outsider"):
        viewer.ecs.list_tasks(cluster="a")


def test_start_task_places_one_task_on_each_container_instance_named(world: World) -> None:
    running_world(world)
    node = world.operator.add_instance("a", "node-1")
    instance = node["metadata"]["uid"].replace("-", "")
    answer = world.admin.ecs.start_task(
        cluster="a", taskDefinition="web", containerInstances=[instance, "gone"]
    )
    assert len(answer["tasks"]) == 1
    assert [f["reason"] for f in answer["failures"]] == ["MISSING"]
    created = [w for w in world.api.writes_of("EcsTask") if w.verb == "create"]
    assert created[0].body["spec"]["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:kubernetes.io/hostname == node-1"}
    ]
    with refused("ClientException", "TaskDefinition not found"):
        world.admin.ecs.start_task(cluster="a", taskDefinition="other", containerInstances=[instance])
