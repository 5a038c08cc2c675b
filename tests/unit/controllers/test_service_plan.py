"""One service pass, planned in pure code: children to apply and prune, status, Events, finalizers."""

from dataclasses import replace
from typing import Any

from ecs_operator import labels
from ecs_operator.controllers.gather import ClusterInfo
from ecs_operator.controllers.service import ServiceSnapshot, reconcile_service

from tests.unit.controllers.helpers import LATER, NOW, after, body, kinds, live, revision

KEY = ("demo", "web")
LOAD_BALANCED = {
    "loadBalancers": [
        {"containerName": "app", "containerPort": 80, "targetGroupArn": "arn:aws:elasticloadbalancing:x"}
    ]
}


def service(**spec: Any) -> dict[str, Any]:
    return body(
        "EcsService", "web", {"serviceName": "web", "taskDefinition": "web", "desiredCount": 2, **spec}
    )


def snapshot(resource: dict[str, Any] | None, **changes: Any) -> ServiceSnapshot:
    base = ServiceSnapshot(NOW, resource, ClusterInfo("demo", None), [revision(1)])
    return replace(base, **changes)


def running_pods(deployment: dict[str, Any], count: int) -> list[dict[str, Any]]:
    match = deployment["spec"]["selector"]["matchLabels"]
    return [
        {
            "metadata": {"name": f"web-{i}", "labels": {**match, "pod-template-hash": "h1"}},
            "status": {"phase": "Running"},
        }
        for i in range(count)
    ]


def replica_set(deployment: dict[str, Any], replicas: int) -> dict[str, Any]:
    template = deployment["spec"]["template"]
    return {
        "metadata": {
            "name": "web-h1",
            "labels": {**deployment["spec"]["selector"]["matchLabels"], "pod-template-hash": "h1"},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {"replicas": replicas, "template": {"metadata": template["metadata"]}},
    }


def steady(plan_objects: list[dict[str, Any]], resource: dict[str, Any], count: int = 2) -> ServiceSnapshot:
    children = live(plan_objects)
    deployment = children[("Deployment", "web")]
    deployment["status"] = {
        "observedGeneration": 1,
        "replicas": count,
        "updatedReplicas": count,
        "availableReplicas": count,
    }
    return snapshot(
        resource,
        children=children,
        pods=running_pods(deployment, count),
        replica_sets=[replica_set(deployment, count)],
    )


def test_a_new_service_gets_its_finalizer_and_children_and_its_status_on_the_next_pass() -> None:
    plan = reconcile_service(KEY, snapshot(service(**LOAD_BALANCED)))
    assert plan is not None
    assert plan.finalizers == (labels.DRAIN_FINALIZER,)
    assert kinds(plan.apply) == ["Deployment", "Service"]
    assert plan.status is None and plan.requeue_after == 1.0
    deployment = next(o for o in plan.apply if o["kind"] == "Deployment")
    template_annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert template_annotations[labels.TASK_DEFINITION_ANNOTATION] == "web:1"
    assert labels.INTENT_ANNOTATION in deployment["metadata"]["annotations"]
    assert deployment["metadata"]["ownerReferences"][0]["uid"] == "uid-web"


def test_with_its_children_running_the_service_is_steady_and_a_second_pass_writes_nothing() -> None:
    first = reconcile_service(KEY, snapshot(service(**LOAD_BALANCED)))
    assert first is not None
    resource = after(first)
    plan = reconcile_service(KEY, steady(list(first.apply), resource))
    assert plan is not None and not plan.apply and not plan.delete
    assert plan.status is not None
    assert (plan.status["runningCount"], plan.status["desiredCount"], plan.status["status"]) == (
        2,
        2,
        "ACTIVE",
    )
    assert plan.status["events"][0]["message"] == "(service web) has reached a steady state."
    assert plan.status["notMapped"] == [
        "loadBalancers[0].targetGroupArn: the Service gets its own cloud load balancer; "
        "the target group is not reused"
    ]
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "NotMapped")]
    again = reconcile_service(KEY, replace(steady(list(first.apply), after(plan)), now=LATER))
    assert again is not None and again.writes_nothing


def test_argo_cd_tracking_never_reaches_the_children() -> None:
    tracked = service()
    tracked["metadata"]["labels"] = {"app.kubernetes.io/instance": "samples"}
    tracked["metadata"]["annotations"] = {"argocd.argoproj.io/tracking-id": "x"}
    plan = reconcile_service(KEY, snapshot(tracked))
    assert plan is not None
    for obj in plan.apply:
        assert "app.kubernetes.io/instance" not in obj["metadata"].get("labels", {})
        assert not any(k.startswith("argocd.argoproj.io/") for k in obj["metadata"]["annotations"])


def test_a_child_no_longer_wanted_is_pruned() -> None:
    first = reconcile_service(KEY, snapshot(service(**LOAD_BALANCED)))
    assert first is not None
    state = steady(list(first.apply), after(first))
    without_lb = after(first)
    without_lb["spec"].pop("loadBalancers")
    plan = reconcile_service(KEY, replace(state, body=without_lb))
    assert plan is not None
    assert [(d.kind, d.name) for d in plan.delete] == [("Service", "web")]


def test_a_drifted_child_is_applied_again() -> None:
    first = reconcile_service(KEY, snapshot(service()))
    assert first is not None
    state = steady(list(first.apply), after(first))
    state.children[("Deployment", "web")]["spec"]["replicas"] = 7
    plan = reconcile_service(KEY, state)
    assert plan is not None and kinds(plan.apply) == ["Deployment"]


def test_a_spec_error_is_degraded_naming_the_field_and_touches_no_child() -> None:
    plan = reconcile_service(KEY, snapshot(service(desiredCount="many")))
    assert plan is not None and not plan.apply and not plan.delete
    assert plan.status is not None
    degraded = next(c for c in plan.status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "InvalidSpec"
    assert "desiredCount" in degraded["message"]
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "InvalidSpec")]


def test_an_unknown_task_definition_is_reported_until_it_exists() -> None:
    plan = reconcile_service(KEY, snapshot(service(taskDefinition="api:3")))
    assert plan is not None and plan.status is not None
    assert plan.status["conditions"][2]["reason"] == "TaskDefinitionNotFound"
    assert plan.status["conditions"][2]["message"].startswith(
        "taskDefinition: task definition 'api:3' not found"
    )


def test_after_a_failed_rollout_with_rollback_the_last_completed_revision_is_applied() -> None:
    failed_rollout = service(
        taskDefinition="web:2",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    failed_rollout["status"] = {
        "deployments": [
            {"id": "ecs-svc/h2", "status": "PRIMARY", "taskDefinition": "web:2", "rolloutState": "FAILED"},
            {"id": "ecs-svc/h1", "status": "ACTIVE", "taskDefinition": "web:1", "rolloutState": "COMPLETED"},
        ]
    }
    plan = reconcile_service(KEY, snapshot(failed_rollout, revisions=[revision(1), revision(2)]))
    assert plan is not None
    deployment = next(o for o in plan.apply if o["kind"] == "Deployment")
    assert (
        deployment["spec"]["template"]["metadata"]["annotations"][labels.TASK_DEFINITION_ANNOTATION]
        == "web:1"
    )


def test_failed_tasks_are_counted_then_removed() -> None:
    first = reconcile_service(KEY, snapshot(service()))
    assert first is not None
    state = steady(list(first.apply), after(first))
    state.pods[0]["status"]["phase"] = "Failed"
    plan = reconcile_service(KEY, state)
    assert plan is not None and plan.status is not None
    assert [(d.kind, d.name) for d in plan.delete] == [("Pod", "web-0")]
    assert plan.status["deployments"][0]["failedTasks"] == 1


def test_a_deleted_service_drains_then_lets_its_finalizer_go() -> None:
    first = reconcile_service(KEY, snapshot(service()))
    assert first is not None
    state = steady(list(first.apply), after(first))
    deleting = after(first)
    deleting["metadata"]["deletionTimestamp"] = NOW
    draining = reconcile_service(KEY, replace(state, body=deleting))
    assert draining is not None and draining.status is not None
    assert [(d.kind, d.name, d.propagation) for d in draining.delete] == [("Deployment", "web", "Foreground")]
    assert draining.status["status"] == "DRAINING" and draining.finalizers is None
    assert [e.reason for e in draining.events] == ["Draining"]
    assert draining.requeue_after is not None
    drained = reconcile_service(KEY, replace(state, body=after(draining), pods=[], children={}))
    assert drained is not None and drained.finalizers == ()


def test_a_legacy_kopf_finalizer_is_replaced_by_the_drain_finalizer() -> None:
    legacy = service()
    legacy["metadata"]["finalizers"] = [labels.LEGACY_FINALIZER, "example.com/other"]
    plan = reconcile_service(KEY, snapshot(legacy))
    assert plan is not None and plan.finalizers == ("example.com/other", labels.DRAIN_FINALIZER)


def test_a_service_that_is_gone_plans_nothing() -> None:
    assert reconcile_service(KEY, snapshot(None)) is None


def test_a_service_applied_with_its_task_definition_waits_for_the_registration_quietly() -> None:
    plan = reconcile_service(KEY, snapshot(service(taskDefinition="api"), registering=True))
    assert plan is not None and plan.status is None and not plan.events and not plan.apply
