"""What the service sync keeps of its children, and how its own applies stand in for a lagging watch."""

import json

from ecs_operator import children
from ecs_operator.handlers import service_cache
from ecs_operator.handlers.service_cache import ServiceChildren

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-abc",
        "namespace": "demo",
        "labels": {"pod-template-hash": "abc"},
        "annotations": {"big": "x" * 1000},
        "managedFields": [{"manager": "kube-controller-manager"}],
        "creationTimestamp": "2026-11-25T00:00:00Z",
    },
    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    "status": {"phase": "Running", "containerStatuses": [{"name": "web", "restartCount": 0}]},
}


def deployment(intent: str, replicas: int = 1) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "demo",
            "annotations": {children.INTENT_ANNOTATION: intent},
            "managedFields": [{"manager": "ecs-operator"}],
        },
        "spec": {"replicas": replicas},
    }


def test_a_pod_keeps_what_the_status_reads_and_not_its_spec() -> None:
    slim = service_cache.slim_pod(POD)
    assert slim == {
        "metadata": {
            "name": "web-abc",
            "labels": {"pod-template-hash": "abc"},
            "creationTimestamp": "2026-11-25T00:00:00Z",
        },
        "status": POD["status"],
    }


def test_a_replica_set_keeps_its_revision_replicas_and_task_definition() -> None:
    replica_set = {
        "metadata": {
            "name": "web-abc",
            "labels": {"pod-template-hash": "abc"},
            "annotations": {"deployment.kubernetes.io/revision": "2", "other": "x"},
        },
        "spec": {
            "replicas": 3,
            "template": {
                "metadata": {"annotations": {children.TASK_DEFINITION_ANNOTATION: "web:2", "other": "y"}},
                "spec": {"containers": []},
            },
        },
    }
    slim = service_cache.slim_replica_set(replica_set)
    assert slim["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "2"}
    assert slim["spec"] == {
        "replicas": 3,
        "template": {"metadata": {"annotations": {children.TASK_DEFINITION_ANNOTATION: "web:2"}}},
    }


def test_managed_fields_are_dropped() -> None:
    assert "managedFields" not in service_cache.without_managed_fields(deployment("h1"))["metadata"]


def known(*objects: dict) -> ServiceChildren:
    return ServiceChildren(workloads=tuple(json.dumps(o) for o in objects))


def test_an_own_apply_stands_in_until_the_watch_shows_it() -> None:
    service_cache.remember_applied(deployment("h2", replicas=2))
    live_of = service_cache.live_lookup("demo", known(deployment("h1")))
    assert live_of("Deployment", "web", "demo")["spec"]["replicas"] == 2  # the watch still shows h1

    # The watch caught up: its object is used, the stand-in dropped.
    service_cache.child_seen("MODIFIED", deployment("h2", replicas=5), "demo")
    live_of = service_cache.live_lookup("demo", known(deployment("h2", replicas=5)))
    assert live_of("Deployment", "web", "demo")["spec"]["replicas"] == 5


def test_a_deleted_child_is_missing_even_right_after_an_own_apply() -> None:
    service_cache.remember_applied(deployment("h3"))
    assert service_cache.live_lookup("demo", known())("Deployment", "web", "demo") is not None
    service_cache.child_seen("DELETED", deployment("h3"), "demo")
    assert service_cache.live_lookup("demo", known())("Deployment", "web", "demo") is None


def service(resource_version: str, desired: int = 1) -> dict:
    return {
        "kind": "EcsService",
        "metadata": {"name": "web", "resourceVersion": resource_version},
        "spec": {"desiredCount": desired},
    }


def test_the_watched_service_is_used_unless_an_own_write_is_newer() -> None:
    reads: list[str] = []

    def read() -> dict:
        reads.append("GET")
        return service("9")

    watched = ServiceChildren(body=json.dumps(service("5")))
    assert watched.current_body(read) == service("5")
    caught_up = ServiceChildren(body=json.dumps(service("7")), own_write=service("7"))
    assert caught_up.current_body(read) == service("7")
    lagging = ServiceChildren(body=json.dumps(service("5")), own_write=service("7"))
    assert lagging.current_body(read) == service("9")
    assert ServiceChildren().current_body(read) == service("9")
    assert reads == ["GET", "GET"]


def test_the_echo_of_an_own_write_is_recognised_once() -> None:
    key = ("demo", "web")
    service_cache.remember_own_write(key, service("7"))
    assert not service_cache.own_write_seen(key, "6")
    assert service_cache.own_write_seen(key, "7")
    assert not service_cache.own_write_seen(key, "7")
