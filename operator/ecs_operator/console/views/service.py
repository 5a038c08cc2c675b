"""Service: health (desired, running, pending, and their chart over the page's life), deployments with
their rollout and progress, events newest first, tasks, and the configuration (the EcsService spec, a
CreateService request); Update and Delete for a user who may patch or delete it (DescribeServices,
ListTasks and DescribeTasks); its Application Auto Scaling target, policies and recent activities when it has
them (DescribeScalableTargets, DescribeScalingPolicies, DescribeScalingActivities)."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import NotFound, Page, View
from ecs_operator.ecsapi.autoscaling.summary import service_scaling
from ecs_operator.ecsapi.errors import EcsError
from ecs_operator.ecsapi.services import find_service

DESCRIBE_CHUNK = 100
STOPPED_SHOWN = 20


def service(view: View) -> dict[str, Any]:
    name = view.params["service"]
    answer = view.call("DescribeServices", cluster=view.params["cluster"], services=[name], include=["TAGS"])
    found = answer.get("services") or []
    if not found:
        raise NotFound(f"Service {name!r} not found in cluster {view.params['cluster']!r}.")
    return dict(found[0])


def tasks(view: View, name: str) -> list[dict[str, Any]]:
    cluster = view.params["cluster"]
    running = reads.every(view, "ListTasks", "taskArns", cluster=cluster, serviceName=name)
    stopped = reads.every(
        view, "ListTasks", "taskArns", cluster=cluster, serviceName=name, desiredStatus="STOPPED"
    )[:STOPPED_SHOWN]
    found = reads.described(
        view, "DescribeTasks", "tasks", running + stopped, DESCRIBE_CHUNK, "tasks", cluster=cluster
    )
    return sorted(found, key=lambda t: (t.get("lastStatus") == "STOPPED", str(t["taskArn"])))


def may_change(view: View, described: dict[str, Any], operation: str) -> bool:
    """Whether the user may call `operation` (UpdateService, DeleteService) on this ACTIVE service."""
    if described.get("status") != "ACTIVE":
        return False
    ref = reads.cluster_ref(view)
    obj = find_service(view.ctx, ref, str(described["serviceName"]))
    return obj is not None and view.may_call(operation, ref.namespace, str(obj["metadata"]["name"]))


def scaling(view: View, name: str) -> dict[str, Any] | None:
    """The service's scalable target, its policies and recent activities; None without a target (or
    without the right to read HorizontalPodAutoscalers)."""
    try:
        found = service_scaling(view.ctx, view.params["cluster"], name)
    except EcsError:
        return None
    if found is None:
        return None
    return {
        "target": found["ScalableTarget"],
        "policies": found["ScalingPolicies"],
        "activities": found["ScalingActivities"],
    }


def load(view: View) -> dict[str, Any]:
    described = service(view)
    name = str(described["serviceName"])
    ref = reads.cluster_ref(view)
    obj = find_service(view.ctx, ref, name)
    events = sorted(described.get("events") or (), key=lambda e: -(e.get("createdAt") or 0))
    return {
        "title": f"Service {name}",
        "cluster_name": view.params["cluster"],
        "service": described,
        "events": events,
        "tasks": tasks(view, name) if obj else [],
        "configuration": (obj or {}).get("spec") or {},
        "scaling": scaling(view, name) if obj else None,
        "can_update": may_change(view, described, "UpdateService"),
        "can_delete": may_change(view, described, "DeleteService"),
    }


def topics(view: View) -> frozenset[str]:
    try:
        return frozenset({reads.cluster_ref(view).namespace})
    except Exception:
        return frozenset({""})


PAGE = Page(
    "service.html",
    load,
    fragments=(
        "service_summary",
        "health",
        "deployments",
        "scaling",
        "events",
        "service_tasks",
        "configuration",
    ),
    topics=topics,
)
