"""Task: status, containers with their last status, exit codes and reasons, stopCode and stoppedReason
(DescribeTasks); the Pod it runs as (for a user who may read Pods); the containers' logs (`task_logs`);
Stop for a user who may patch the task's owner."""

from __future__ import annotations

from typing import Any

from ecs_operator import identifiers
from ecs_operator.console import reads
from ecs_operator.console.pages import NotFound, Page, View
from ecs_operator.ecsapi import store


def task(view: View) -> dict[str, Any]:
    task_id = view.params["task"]
    answer = view.call("DescribeTasks", cluster=view.params["cluster"], tasks=[task_id])
    found = answer.get("tasks") or []
    if not found:
        raise NotFound(f"Task {task_id!r} not found in cluster {view.params['cluster']!r}.")
    return dict(found[0])


def pod_summary(pod: dict[str, Any]) -> dict[str, Any]:
    status = pod.get("status") or {}
    statuses = {c.get("name"): c for c in status.get("containerStatuses") or ()}
    return {
        "name": pod["metadata"]["name"],
        "node": (pod.get("spec") or {}).get("nodeName") or "—",
        "phase": status.get("phase") or "—",
        "ip": status.get("podIP") or "—",
        "stopping": bool(pod["metadata"].get("deletionTimestamp")),
        "restarts": {name: int(c.get("restartCount") or 0) for name, c in statuses.items()},
    }


def may_stop(view: View, described: dict[str, Any]) -> bool:
    """StopTask patches the task's owner: its EcsService, or the EcsTask that ran it."""
    if described.get("desiredStatus") == "STOPPED":
        return False
    owner = store.SERVICE if str(described.get("group") or "").startswith("service:") else store.TASK
    return view.may("patch", owner, reads.cluster_ref(view).namespace)


def load(view: View) -> dict[str, Any]:
    described = task(view)
    ref = reads.cluster_ref(view)
    task_id = identifiers.last_part(described["taskArn"])
    group = str(described.get("group") or "")
    owner_kind = store.SERVICE if group.startswith("service:") else store.TASK
    pod: dict[str, Any] | None = None
    may_read_pods = view.may("get", store.POD, ref.namespace)
    if may_read_pods:
        found = view.ctx.store.find(store.POD, (ref.namespace, task_id))
        gone = None if found else view.ctx.store.gone(store.POD, (ref.namespace, task_id))
        if found or gone:
            pod = pod_summary(found[0] if found else gone or {})
    return {
        "title": f"Task {task_id}",
        "cluster_name": view.params["cluster"],
        "task_id": task_id,
        "task": described,
        "service_name": group.removeprefix("service:") if owner_kind == store.SERVICE else None,
        "pod": pod,
        "may_read_pods": may_read_pods,
        "can_stop": may_stop(view, described),
    }


def topics(view: View) -> frozenset[str]:
    try:
        return frozenset({reads.cluster_ref(view).namespace})
    except Exception:
        return frozenset({""})


PAGE = Page("task.html", load, fragments=("task_summary", "containers", "pod"), topics=topics)
