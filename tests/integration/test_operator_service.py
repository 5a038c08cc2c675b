"""EcsTaskDefinition revisions and EcsService reconciliation, against a real API server and the operator
running as a subprocess."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.operator_helpers import Cluster, service, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.operator_fixtures"]
pytestmark = pytest.mark.integration

SELECTOR = "ecs.operator.dev/service={name}"


def running_pods(cluster: Cluster, name: str) -> list[dict]:
    pods = cluster.items("pods", SELECTOR.format(name=name))
    return [
        p
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def test_cluster_owns_its_namespace_and_reports_ecs_counts(ecs_cluster: Cluster) -> None:
    namespace = ecs_cluster.get("namespace", ecs_cluster.namespace, namespaced=False)
    assert namespace is not None
    owners = namespace["metadata"].get("ownerReferences") or []
    assert [(o["kind"], o["name"]) for o in owners] == [("EcsCluster", ecs_cluster.name)]
    assert namespace["metadata"]["labels"]["ecs.operator.dev/cluster"] == ecs_cluster.name
    status = ecs_cluster.get("ecscluster", ecs_cluster.name, namespaced=False)["status"]  # type: ignore[index]
    assert status["status"] == "ACTIVE"
    assert status["registeredContainerInstancesCount"] == 1

    web = ecs_cluster.family("web")
    ecs_cluster.apply(task_definition(web), service("web", web, desired=2))
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")

    def counts() -> tuple[int, int]:
        cluster_status = ecs_cluster.get("ecscluster", ecs_cluster.name, namespaced=False)["status"]  # type: ignore[index]
        return cluster_status.get("activeServicesCount"), cluster_status.get("runningTasksCount")

    wait_for(lambda: counts() == (1, 2), timeout=60, message="cluster counts follow the service")


def test_task_definition_revisions_are_immutable_and_idempotent(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(task_definition(web))
    ecs_cluster.wait_condition("ecstaskdefinition", web, "Ready")
    status = ecs_cluster.status("ecstaskdefinition", web)
    assert (status["latestRevision"], status["taskDefinition"], status["activeRevisions"]) == (
        1,
        f"{web}:1",
        [1],
    )

    # Re-applying the same spec registers nothing.
    ecs_cluster.apply(task_definition(web))
    ecs_cluster.apply(task_definition(web, image="nginx:1.28"))
    wait_for(lambda: ecs_cluster.status("ecstaskdefinition", web).get("latestRevision") == 2, timeout=60)
    revisions = ecs_cluster.revisions(web)
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    first = next(r for r in revisions if r["revision"] == 1)
    assert first["data"]["containerDefinitions"][0]["image"] == "nginx:1.27"
    # Regional, as in ECS: the history is the account's, owned by nothing (deleting the family keeps it).
    assert not first["metadata"].get("ownerReferences")

    # Deregistering revision 1 (kubectl- and GitOps-friendly: an annotation on the EcsTaskDefinition).
    ecs_cluster.kubectl("annotate", "ecstaskdefinition", web, "ecs.operator.dev/deregister=1")
    wait_for(lambda: ecs_cluster.status("ecstaskdefinition", web).get("activeRevisions") == [2], timeout=60)
    assert ecs_cluster.status("ecstaskdefinition", web)["inactiveRevisions"] == [1]
    wait_for(
        lambda: (
            {
                r["revision"]: r["metadata"]["labels"]["ecs.operator.dev/status"]
                for r in ecs_cluster.revisions(web)
            }
            == {1: "INACTIVE", 2: "ACTIVE"}
        ),
        timeout=60,
        message=f"{web}:1 labelled INACTIVE",
    )


def test_service_runs_tasks_reports_ecs_status_and_rolls_on_a_new_revision(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(
        task_definition(web),
        service("web", web, desired=3, loadBalancers=[{"containerName": "app", "containerPort": 80}]),
    )
    ecs_cluster.kubectl(
        "wait", "--for=condition=Ready", "ecsservice/web", "-n", ecs_cluster.namespace, "--timeout=90s"
    )
    status = ecs_cluster.status("ecsservice", "web")
    assert status["status"] == "ACTIVE"
    assert (status["desiredCount"], status["runningCount"], status["pendingCount"]) == (3, 3, 0)
    assert status["taskDefinition"] == f"{web}:1"
    assert status["observedGeneration"] == ecs_cluster.get("ecsservice", "web")["metadata"]["generation"]  # type: ignore[index]
    primary = status["deployments"][0]
    assert (primary["status"], primary["rolloutState"], primary["runningCount"]) == (
        "PRIMARY",
        "COMPLETED",
        3,
    )
    messages = [e["message"] for e in status["events"]]
    assert messages[0] == "(service web) has reached a steady state."
    # Like ECS, the operator reports tasks in the batches it saw them start in (3, or e.g. 2 then 1).
    started = [re.match(r"\(service web\) has started (\d+) tasks:", m) for m in messages]
    assert sum(int(m.group(1)) for m in started if m) == 3, messages
    assert status["selector"]
    deployment = ecs_cluster.get("deployment", "web")
    assert deployment is not None and deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["ownerReferences"][0]["kind"] == "EcsService"
    assert ecs_cluster.get("service", "web") is not None

    ecs_cluster.apply(task_definition(web, image="nginx:1.28"))
    wait_for(
        lambda: (
            ecs_cluster.status("ecsservice", "web").get("taskDefinition") == f"{web}:2"
            and ecs_cluster.is_true("ecsservice", "web", "Ready")
        ),
        timeout=120,
        message=f"service rolled to {web}:2",
    )
    images = {p["spec"]["containers"][0]["image"] for p in running_pods(ecs_cluster, "web")}
    assert images == {"nginx:1.28"}


def test_scale_subresource_and_hpa_target(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(task_definition(web), service("web", web, desired=1))
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")
    ecs_cluster.kubectl("scale", "-n", ecs_cluster.namespace, "ecsservice", "web", "--replicas", "4")
    wait_for(
        lambda: (
            ecs_cluster.status("ecsservice", "web").get("runningCount") == 4
            and ecs_cluster.is_true("ecsservice", "web", "Ready")
        ),
        timeout=90,
        message="scaled to 4",
    )
    assert ecs_cluster.get("deployment", "web")["spec"]["replicas"] == 4  # type: ignore[index]
    scale = json.loads(
        ecs_cluster.kubectl(
            "get",
            "--raw",
            f"/apis/ecs.operator.dev/v1alpha1/namespaces/{ecs_cluster.namespace}/ecsservices/web/scale",
        ).stdout
    )
    assert scale["spec"]["replicas"] == 4 and scale["status"]["replicas"] == 4
    assert "ecs.operator.dev/service=web" in scale["status"]["selector"]

    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": ecs_cluster.namespace},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "ecs.operator.dev/v1alpha1",
                "kind": "EcsService",
                "name": "web",
            },
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        },
    }
    ecs_cluster.apply(hpa)

    def hpa_read_the_scale() -> bool:
        conditions = (ecs_cluster.get("hpa", "web") or {}).get("status", {}).get("conditions") or []
        able = next((c for c in conditions if c["type"] == "AbleToScale"), {})
        return able.get("status") == "True" and able.get("reason") == "SucceededGetScale"

    wait_for(hpa_read_the_scale, timeout=90, message="HPA resolved the EcsService scale subresource")


def test_self_healing_and_drift_are_reverted(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(
        task_definition(web),
        service("web", web, desired=2, loadBalancers=[{"containerName": "app", "containerPort": 80}]),
    )
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")
    victim = running_pods(ecs_cluster, "web")[0]["metadata"]["name"]
    ecs_cluster.kubectl("delete", "pod", "-n", ecs_cluster.namespace, victim, "--wait=false")

    def replaced() -> bool:
        status = ecs_cluster.status("ecsservice", "web")
        messages = [e["message"] for e in status.get("events") or ()]
        return (
            any(f"has stopped 1 running tasks: (task {victim})" in m for m in messages)
            and any("has started 1 tasks" in m for m in messages)
            and status.get("runningCount") == 2
        )

    wait_for(replaced, timeout=90, message="deleted task replaced with ECS events")

    # A manual edit of a field the operator manages is reverted.
    ecs_cluster.kubectl(
        "patch",
        "deployment",
        "web",
        "-n",
        ecs_cluster.namespace,
        "--type=merge",
        "-p",
        '{"spec":{"replicas":5}}',
    )
    wait_for(
        lambda: ecs_cluster.get("deployment", "web")["spec"]["replicas"] == 2,
        timeout=60,
        message="drift reverted",
    )  # type: ignore[index]
    ecs_cluster.kubectl("delete", "service", "web", "-n", ecs_cluster.namespace)
    wait_for(lambda: ecs_cluster.get("service", "web") is not None, timeout=60, message="Service recreated")


def test_bad_input_is_degraded_naming_the_field_and_others_are_unaffected(ecs_cluster: Cluster) -> None:
    web, missing = ecs_cluster.family("web"), ecs_cluster.family("missing")
    ecs_cluster.apply(
        task_definition(web), service("good", web, desired=1), service("bad", missing, desired=1)
    )
    ecs_cluster.wait_condition("ecsservice", "good", "Ready")
    degraded = ecs_cluster.wait_condition("ecsservice", "bad", "Degraded")
    assert degraded["reason"] == "TaskDefinitionNotFound"
    assert "taskDefinition" in degraded["message"] and missing in degraded["message"]
    assert ecs_cluster.get("deployment", "bad") is None
    assert any("TaskDefinitionNotFound" in e for e in ecs_cluster.k8s_events("bad"))

    # It recovers by itself once the task definition appears.
    ecs_cluster.apply(task_definition(missing))
    ecs_cluster.wait_condition("ecsservice", "bad", "Ready")
    assert not ecs_cluster.is_true("ecsservice", "bad", "Degraded")


def test_daemon_service_runs_one_task_per_container_instance(ecs_cluster: Cluster) -> None:
    agent = ecs_cluster.family("agent")
    ecs_cluster.apply(task_definition(agent), service("agent", agent, desired=0, schedulingStrategy="DAEMON"))
    ecs_cluster.wait_condition("ecsservice", "agent", "Ready")
    daemonset = ecs_cluster.get("daemonset", "agent")
    assert daemonset is not None
    assert ecs_cluster.get("deployment", "agent") is None
    pods = running_pods(ecs_cluster, "agent")
    assert [p["spec"]["nodeName"] for p in pods] == [f"ci-{ecs_cluster.namespace}"[:63]]
    assert ecs_cluster.status("ecsservice", "agent")["runningCount"] == 1


def test_deleting_a_service_drains_then_garbage_collects(ecs_cluster: Cluster) -> None:
    web = ecs_cluster.family("web")
    ecs_cluster.apply(task_definition(web), service("web", web, desired=2))
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")
    ecs_cluster.kubectl("delete", "ecsservice", "web", "-n", ecs_cluster.namespace, "--wait=false")
    wait_for(lambda: ecs_cluster.get("ecsservice", "web") is None, timeout=90, message="service deleted")
    wait_for(
        lambda: not ecs_cluster.items("pods", SELECTOR.format(name="web")), timeout=90, message="tasks gone"
    )
    wait_for(lambda: ecs_cluster.get("deployment", "web") is None, timeout=60, message="deployment gone")
    assert any(e.startswith("Draining: (service web) is DRAINING") for e in ecs_cluster.k8s_events("web"))


def test_a_spec_the_schema_admits_but_ecs_refuses_is_degraded_with_the_field_path(
    ecs_cluster: Cluster,
) -> None:
    # A reference into another list: too costly for an admission rule, so the operator's parser finds it.
    novolume, web = ecs_cluster.family("novolume"), ecs_cluster.family("web")
    invalid = task_definition(novolume)
    invalid["spec"]["containerDefinitions"][0]["mountPoints"] = [
        {"sourceVolume": "data", "containerPath": "/d"}
    ]
    ecs_cluster.apply(invalid, task_definition(web), service("web", web, desired=1))
    degraded = ecs_cluster.wait_condition("ecstaskdefinition", novolume, "Degraded")
    assert degraded["reason"] == "InvalidSpec"
    assert (
        degraded["message"]
        == "containerDefinitions[0].mountPoints[0].sourceVolume: no volume named 'data' in volumes"
    )
    assert not ecs_cluster.revisions(novolume)
    assert any(
        e.startswith("InvalidSpec: containerDefinitions[0].mountPoints")
        for e in ecs_cluster.k8s_events(novolume, namespace="default")
    )
    ecs_cluster.wait_condition("ecsservice", "web", "Ready")


def test_a_load_balancer_on_a_container_the_task_definition_lacks_is_degraded_until_fixed(
    ecs_cluster: Cluster,
) -> None:
    web = ecs_cluster.family("web")
    wrong = [{"containerName": "web", "containerPort": 80}]
    ecs_cluster.apply(task_definition(web), service("lb", web, desired=1, loadBalancers=wrong))
    degraded = ecs_cluster.wait_condition("ecsservice", "lb", "Degraded")
    assert degraded["reason"] == "InvalidSpec"
    assert degraded["message"] == (
        "loadBalancers[0].containerName: The container web does not exist in the task definition."
    )
    assert ecs_cluster.get("deployment", "lb") is None

    right = [{"containerName": "app", "containerPort": 80}]
    ecs_cluster.apply(service("lb", web, desired=1, loadBalancers=right))
    ecs_cluster.wait_condition("ecsservice", "lb", "Ready")
    assert not ecs_cluster.is_true("ecsservice", "lb", "Degraded")
