"""Cluster, Tasks tab: a page of the cluster's running (or stopped) tasks (ListTasks, then DescribeTasks),
and Run new task when the user may create EcsTasks."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import Page, View
from ecs_operator.console.views import cluster
from ecs_operator.ecsapi.errors import InvalidParameterException

DESCRIBE_CHUNK = 100  # DescribeTasks' limit
STATUSES = ("RUNNING", "STOPPED")


def load(view: View) -> dict[str, Any]:
    context = cluster.header(view, "tasks")
    name = view.params["cluster"]
    desired = view.query.get("status", "RUNNING")
    if desired not in STATUSES:
        raise InvalidParameterException(f"status: {desired!r} is not one of {', '.join(STATUSES)}")
    number = reads.page_number(view)
    arns, more = reads.page_of(view, "ListTasks", "taskArns", number, cluster=name, desiredStatus=desired)
    tasks = reads.described(view, "DescribeTasks", "tasks", arns, DESCRIBE_CHUNK, "tasks", cluster=name)
    namespace = reads.cluster_ref(view).namespace
    return {
        **context,
        "tasks": sorted(tasks, key=lambda t: (-(t.get("createdAt") or 0), str(t["taskArn"]))),
        "desired": desired,
        "statuses": STATUSES,
        "page": number,
        "more": more,
        "can_run": view.may_call("RunTask", namespace),
    }


PAGE = Page("cluster_tasks.html", load, fragments=("cluster_summary", "tasks"), topics=cluster.topics)
