"""How a watch event becomes work: which controllers' keys it concerns, and how soon (the operator's real
sources and controllers, fed events directly, on a fake clock)."""

from typing import Any

import ecs_operator.controllers  # noqa: F401  (registers the controllers)
import pytest
from ecs_operator import labels
from ecs_operator.controllers.sources import SOURCES
from ecs_operator.kube import Kube
from ecs_operator.naming import label_value
from ecs_operator.runtime import DONE, Caches, Runtime
from ecs_operator.runtime.controller import REGISTRY

API = "ecs.operator.dev/v1alpha1"


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(clock: Clock) -> Runtime:
    caches = Caches(SOURCES, client_factory=lambda: Kube(None))
    result = Runtime(list(REGISTRY.values()), SOURCES, Kube(None), caches=caches, clock=clock)
    result.wire()
    return result


def custom(kind: str, name: str, namespace: str = "demo", generation: int = 1, **spec: Any) -> dict[str, Any]:
    metadata = {
        "name": name,
        "generation": generation,
        "resourceVersion": str(generation),
        "uid": f"u-{name}",
    }
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": API, "kind": kind, "metadata": metadata, "spec": spec}


def child(kind: str, name: str, owner_label: str, owner: str, namespace: str = "demo") -> dict[str, Any]:
    owned = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, owner_label: label_value(owner)}
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": owned}, "status": {}}


def due(runtime: Runtime, kind: str, clock: Clock, after: float) -> set[tuple[str, str]]:
    """The keys of `kind` that become due within `after` seconds (taken from the queue)."""
    queue = runtime.queues[kind]
    clock.now += after
    found = set()
    while (key := queue.pop()[0]) is not None:
        found.add(key)
    for key in found:
        queue.done(key, DONE)
    return found


def test_a_new_spec_is_due_at_once_and_a_status_change_after_the_debounce(
    runtime: Runtime, clock: Clock
) -> None:
    services = runtime.caches["EcsService"]
    services.handle("ADDED", custom("EcsService", "web", taskDefinition="web"))
    assert due(runtime, "EcsService", clock, 0.0) == {("demo", "web")}
    with_status = {**custom("EcsService", "web", taskDefinition="web"), "status": {"runningCount": 1}}
    with_status["metadata"]["resourceVersion"] = "5"
    services.handle("MODIFIED", with_status)
    assert due(runtime, "EcsService", clock, 0.0) == set()
    assert due(runtime, "EcsService", clock, 0.5) == {("demo", "web")}
    services.handle("MODIFIED", custom("EcsService", "web", generation=2, taskDefinition="web:2"))
    assert due(runtime, "EcsService", clock, 0.0) == {("demo", "web")}


def test_the_echo_of_the_operators_own_write_triggers_nothing(runtime: Runtime, clock: Clock) -> None:
    services = runtime.caches["EcsService"]
    services.handle("ADDED", custom("EcsService", "web", taskDefinition="web"))
    due(runtime, "EcsService", clock, 0.0)
    written = {**custom("EcsService", "web", taskDefinition="web"), "status": {"runningCount": 2}}
    written["metadata"]["resourceVersion"] = "7"
    runtime.writes.wrote(written)
    services.handle("MODIFIED", written)
    assert due(runtime, "EcsService", clock, 5.0) == set()


def test_a_childs_change_is_due_for_its_owner_after_the_debounce(runtime: Runtime, clock: Clock) -> None:
    long_name = "a-service-whose-name-is-much-longer-than-a-label-value-may-ever-be-so-it-is-hashed"
    for name in ("web", long_name):
        runtime.caches["EcsService"].handle("ADDED", custom("EcsService", name, taskDefinition="web"))
    runtime.caches["EcsTask"].handle("ADDED", custom("EcsTask", "job", taskDefinition="web"))
    due(runtime, "EcsService", clock, 0.0)
    due(runtime, "EcsTask", clock, 0.0)
    runtime.caches["Pod"].handle("ADDED", child("Pod", "web-1", labels.SERVICE, long_name))
    runtime.caches["Deployment"].handle("ADDED", child("Deployment", "web", labels.SERVICE, "web"))
    assert due(runtime, "EcsService", clock, 0.25) == set()
    assert due(runtime, "EcsService", clock, 0.25) == {("demo", long_name), ("demo", "web")}
    assert due(runtime, "EcsTask", clock, 10.0) == set()
    runtime.caches["Pod"].handle("ADDED", child("Pod", "job-0", labels.TASK, "job"))
    assert due(runtime, "EcsTask", clock, 0.5) == {("demo", "job")}


def test_a_new_revision_concerns_the_services_and_tasks_of_its_family(runtime: Runtime, clock: Clock) -> None:
    runtime.caches["EcsService"].handle("ADDED", custom("EcsService", "web", taskDefinition="web:3"))
    runtime.caches["EcsService"].handle("ADDED", custom("EcsService", "api", taskDefinition="api"))
    runtime.caches["EcsTask"].handle(
        "ADDED", custom("EcsTask", "job", taskDefinition="arn:aws:ecs:us-east-1:1:task-definition/web:1")
    )
    runtime.caches["EcsTaskDefinition"].handle("ADDED", custom("EcsTaskDefinition", "web-td", family="web"))
    for kind in ("EcsService", "EcsTask", "EcsTaskDefinition"):
        due(runtime, kind, clock, 0.0)
    revision = {
        "kind": "ControllerRevision",
        "metadata": {
            "name": "web-td-4",
            "namespace": "demo",
            "annotations": {labels.REVISION_FAMILY: "web"},
            "ownerReferences": [{"kind": "EcsTaskDefinition", "name": "web-td", "uid": "u"}],
        },
        "data": {"family": "web"},
        "revision": 4,
    }
    runtime.caches["ControllerRevision"].handle("ADDED", revision)
    assert due(runtime, "EcsService", clock, 0.5) == {("demo", "web")}
    assert due(runtime, "EcsTask", clock, 0.5) == {("demo", "job")}
    assert due(runtime, "EcsTaskDefinition", clock, 0.5) == {("demo", "web-td")}


def test_the_cluster_recounts_once_its_nodes_tasks_and_services_have_settled(
    runtime: Runtime, clock: Clock
) -> None:
    runtime.caches["EcsCluster"].handle("ADDED", custom("EcsCluster", "prod", namespace=""))
    runtime.caches["EcsCluster"].handle(
        "ADDED", {**custom("EcsCluster", "demo-cluster", namespace=""), "spec": {"namespace": "demo"}}
    )
    due(runtime, "EcsCluster", clock, 0.0)
    node = {"kind": "Node", "metadata": {"name": "n1", "labels": {labels.CLUSTER: "prod"}}}
    runtime.caches["Node"].handle("ADDED", node)
    runtime.caches["Pod"].handle("ADDED", child("Pod", "web-1", labels.SERVICE, "web"))
    runtime.caches["EcsService"].handle("ADDED", custom("EcsService", "web", taskDefinition="web"))
    assert due(runtime, "EcsCluster", clock, 0.2) == set()
    running = {**child("Pod", "web-1", labels.SERVICE, "web"), "status": {"phase": "Running"}}
    runtime.caches["Pod"].handle("MODIFIED", running)
    assert due(runtime, "EcsCluster", clock, 0.05) == {("", "prod")}
    assert due(runtime, "EcsCluster", clock, 0.15) == set(), "demo's Pod changed: a quarter second again"
    assert due(runtime, "EcsCluster", clock, 0.05) == {("", "demo-cluster")}


def test_a_child_of_an_unknown_owner_concerns_nobody(runtime: Runtime, clock: Clock) -> None:
    runtime.caches["Pod"].handle("ADDED", child("Pod", "stray", labels.SERVICE, "gone"))
    assert due(runtime, "EcsService", clock, 10.0) == set()


def test_a_cluster_wakes_its_services_for_new_settings_not_for_new_counts(
    runtime: Runtime, clock: Clock
) -> None:
    runtime.caches["EcsService"].handle("ADDED", custom("EcsService", "web", taskDefinition="web"))
    due(runtime, "EcsService", clock, 0.0)
    clusters = runtime.caches["EcsCluster"]
    cluster = {**custom("EcsCluster", "demo", namespace=""), "status": {"runningTasksCount": 1}}
    clusters.handle("ADDED", cluster)
    assert due(runtime, "EcsService", clock, 1.0) == {("demo", "web")}
    counted = {**cluster, "metadata": {**cluster["metadata"], "resourceVersion": "7"}}
    clusters.handle("MODIFIED", {**counted, "status": {"runningTasksCount": 2}})
    assert due(runtime, "EcsService", clock, 1.0) == set()
    strategy = [{"capacityProvider": "FARGATE", "weight": 1}]
    clusters.handle("MODIFIED", {**counted, "spec": {"defaultCapacityProviderStrategy": strategy}})
    assert due(runtime, "EcsService", clock, 1.0) == {("demo", "web")}
