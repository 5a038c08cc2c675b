"""A task → Pods; a cluster → Namespace; the PodTemplate of a task definition."""

from __future__ import annotations

from ecs_operator.translate import translate_cluster, translate_task

from tests.unit.translate.helpers import container, paths, taskdef, template

JOB = taskdef(
    container(
        "main", command=["report"], environment=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    ),
    family="job",
)


def run(task: dict[str, object], td: dict[str, object] = JOB) -> list[dict[str, object]]:
    return translate_task(task, td, revision=4, cluster="demo", namespace="demo", name="nightly").objects


def test_task_runs_count_pods_that_never_restart() -> None:
    pods = run({"taskDefinition": "job", "count": 3})
    assert [p["metadata"]["name"] for p in pods] == ["nightly-0", "nightly-1", "nightly-2"]  # type: ignore[index]
    for pod in pods:
        assert pod["kind"] == "Pod"
        assert pod["spec"]["restartPolicy"] == "Never"  # type: ignore[index]
        assert pod["metadata"]["labels"] == {  # type: ignore[index]
            "ecs.operator.dev/cluster": "demo",
            "ecs.operator.dev/task": "nightly",
            "ecs.operator.dev/family": "job",
            "ecs.operator.dev/revision": "4",
            "app.kubernetes.io/managed-by": "ecs-operator",
        }


def test_overrides_replace_command_and_merge_environment() -> None:
    overrides = {
        "containerOverrides": [
            {
                "name": "main",
                "command": ["report", "--full"],
                "environment": [{"name": "B", "value": "3"}],
                "memory": 1024,
            }
        ],
        "taskRoleArn": "arn:aws:iam::1:role/job",
    }
    account, pod = run({"taskDefinition": "job", "overrides": overrides})
    assert account["kind"] == "ServiceAccount"
    main = pod["spec"]["containers"][0]  # type: ignore[index]
    assert main["args"] == ["report", "--full"]
    assert main["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    assert main["resources"] == {"limits": {"memory": "1024Mi"}}


def test_task_annotations_and_warnings() -> None:
    td = taskdef(container("main", restartPolicy={"enabled": True}), family="job")
    translation = translate_task(
        {
            "taskDefinition": "job",
            "group": "batch",
            "startedBy": "cron",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s"]}},
        },
        td,
        revision=1,
        cluster="demo",
        namespace="demo",
        name="nightly",
    )
    (pod,) = translation.objects
    assert pod["metadata"]["annotations"] == {
        "ecs.operator.dev/group": "batch",
        "ecs.operator.dev/started-by": "cron",
        "ecs.operator.dev/task-definition": "job:1",
    }
    assert paths(translation) == ["containerDefinitions[0].restartPolicy.enabled", "networkConfiguration"]


def test_fargate_task_runs_on_the_fargate_pool() -> None:
    (pod,) = run({"taskDefinition": "job", "launchType": "FARGATE"})
    assert pod["spec"]["nodeSelector"] == {"ecs.operator.dev/capacity": "fargate"}  # type: ignore[index]


def test_cluster_is_a_namespace() -> None:
    translation = translate_cluster({"clusterName": "demo"}, name="demo")
    assert translation.objects == [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "demo",
                "labels": {
                    "ecs.operator.dev/cluster": "demo",
                    "app.kubernetes.io/managed-by": "ecs-operator",
                },
            },
        }
    ]


def test_cluster_namespace_override_owner_and_insights_warning() -> None:
    owner = {"apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster", "name": "prod", "uid": "u"}
    body = {
        "clusterName": "prod",
        "namespace": "ecs-prod",
        "settings": [{"name": "containerInsights", "value": "enabled"}],
    }
    translation = translate_cluster(body, name="prod", owner=owner)
    (namespace,) = translation.objects
    assert namespace["metadata"]["name"] == "ecs-prod"
    assert namespace["metadata"]["ownerReferences"][0]["uid"] == "u"
    assert paths(translation) == ["settings[0].value"]


def test_pod_template_is_named_after_the_family() -> None:
    (pod_template,) = template(taskdef(container(), family="My_Family")).objects
    assert pod_template["apiVersion"] == "v1"
    assert pod_template["kind"] == "PodTemplate"
    assert pod_template["metadata"]["name"] == "my-family"
    assert pod_template["metadata"]["labels"]["ecs.operator.dev/family"] == "My_Family"
