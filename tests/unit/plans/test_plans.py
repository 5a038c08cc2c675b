"""The pure plans of the ECS API's desired state: draining a container instance, stopping single tasks,
forcing a new deployment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecs_operator import labels
from ecs_operator.plans import container_instance, deployment, stop_tasks
from ecs_operator.plans.container_instance import ServiceView, plan, stoppable


def node(status: str | None = None, cordoned: bool = False) -> dict[str, Any]:
    annotations = {labels.INSTANCE_DESIRED_STATUS: status} if status else {}
    return {"metadata": {"name": "n1", "annotations": annotations}, "spec": {"unschedulable": cordoned}}


def pod(
    name: str, service: str | None = "web", phase: str = "Running", stopping: bool = False, uid: str = ""
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": uid or f"uid-{name}", "labels": {}}
    if service:
        metadata["labels"][labels.SERVICE] = service
    else:
        metadata["labels"][labels.TASK] = "job"
    if stopping:
        metadata["deletionTimestamp"] = "2026-11-30T00:00:00Z"
    return {"metadata": metadata, "status": {"phase": phase}}


def view(
    desired: int, running: int, in_flight: int = 0, minimum: int = 100, maximum: int = 200
) -> ServiceView:
    return ServiceView(desired, minimum, maximum, running, in_flight)


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (view(4, 4, minimum=50), 2),  # 4 running, 2 must stay
        (view(4, 3, in_flight=1, minimum=50), 0),  # one already being replaced uses the budget
        (view(2, 2, minimum=100, maximum=200), 1),  # surge: one at a time, its replacement starts at once
        (view(2, 2, in_flight=1, minimum=100, maximum=200), 0),  # wait for that replacement
        (view(2, 2, minimum=100, maximum=100), 0),  # no room at all: ECS cannot drain it either
        (view(3, 3, minimum=0), 3),
        (view(0, 0), 0),
    ],
)
def test_how_many_tasks_of_a_service_may_stop(service: ServiceView, expected: int) -> None:
    assert stoppable(service) == expected


def test_draining_cordons_and_stops_service_tasks_within_the_budget_leaving_standalone_tasks() -> None:
    pods = [pod("web-a"), pod("web-b"), pod("api-a", service="api"), pod("job-0", service=None)]
    result = plan(node("DRAINING"), pods, {"web": view(2, 2), "api": view(1, 1, minimum=0)})
    assert result.unschedulable is True
    assert result.stop == ["api-a", "web-a"]


def test_a_drain_in_progress_does_not_cordon_again_nor_restop() -> None:
    pods = [pod("web-a", stopping=True), pod("web-b")]
    result = plan(node("DRAINING", cordoned=True), pods, {"web": view(2, 1, in_flight=2)})
    assert (result.unschedulable, result.stop) == (None, [])


def test_active_uncordons_and_no_annotation_leaves_a_kubectl_cordon_alone() -> None:
    assert plan(node("ACTIVE", cordoned=True), [], {}).unschedulable is False
    assert plan(node("ACTIVE"), [], {}).unschedulable is None
    assert plan(
        node(None, cordoned=True), [pod("web-a")], {"web": view(1, 1, minimum=0)}
    ) == container_instance.InstancePlan(None)


def test_service_view_counts_running_and_in_flight_tasks() -> None:
    pods = [pod("a"), pod("b", phase="Pending"), pod("c", stopping=True), pod("d", phase="Failed")]
    spec = {
        "desiredCount": 3,
        "deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 150},
    }
    assert container_instance.service_view(spec, pods) == ServiceView(3, 50, 150, 1, 2)


def test_stop_requests_name_live_pods_by_task_id() -> None:
    owner = {
        "metadata": {"annotations": {labels.STOP_TASKS: json.dumps({"uida": "scale in", "uidgone": "x"})}}
    }
    pods = [pod("a", uid="uid-a"), pod("b", uid="uid-b"), pod("c", uid="uid-c", stopping=True)]
    owner["metadata"]["annotations"][labels.STOP_TASKS] = json.dumps({"uida": "scale in", "uidc": "late"})
    stops = stop_tasks.plan(owner, pods)
    assert stops == [stop_tasks.Stop("a", "scale in")]
    assert stops[0].annotations() == {labels.STOP_CODE: "UserInitiated", labels.STOPPED_REASON: "scale in"}


@pytest.mark.parametrize("value", ["not json", "[1, 2]", ""])
def test_a_malformed_stop_request_asks_for_nothing(value: str) -> None:
    assert stop_tasks.requests({"metadata": {"annotations": {labels.STOP_TASKS: value}}}) == {}


def test_force_new_deployment_annotates_the_pod_template() -> None:
    service = {"metadata": {"annotations": {labels.FORCE_NEW_DEPLOYMENT: "abc"}}}
    assert deployment.template_annotations(service) == {labels.FORCE_NEW_DEPLOYMENT: "abc"}
    assert deployment.template_annotations({"metadata": {}}) == {}
