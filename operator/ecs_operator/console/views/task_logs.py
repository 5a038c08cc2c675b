"""A task container's log (the ECS console's Logs tab): the last lines the node's kubelet has, read with
the user's own credentials (the API server decides whether they may read `pods/log`). Loaded on demand,
never by live updates, so open pages do not poll the kubelets."""

from __future__ import annotations

from typing import Any

from ecs_operator import identifiers
from ecs_operator.console import kubecalls, reads
from ecs_operator.console.pages import Page, View
from ecs_operator.console.views.task import task
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.kube import KubeError


def load(view: View) -> dict[str, Any]:
    described = task(view)
    ref = reads.cluster_ref(view)
    task_id = identifiers.last_part(described["taskArn"])
    names = [str(c.get("name")) for c in described.get("containers") or ()]
    container = view.query.get("container") or (names[0] if names else "")
    if container not in names:
        raise InvalidParameterException(f"container: {container!r} is not a container of task {task_id}")
    context: dict[str, Any] = {
        "title": f"Logs of {container} in task {task_id}",
        "cluster_name": view.params["cluster"],
        "task_id": task_id,
        "container": container,
        "containers": names,
        "log": None,
        "problem": None,
    }
    pods = view.ctx.store.find(store.POD, (ref.namespace, task_id))
    if not pods:
        context["problem"] = "The task's Pod is gone: Kubernetes keeps no logs of it."
        return context
    try:
        context["log"] = kubecalls.container_log(
            view.session.api_client, ref.namespace, pods[0]["metadata"]["name"], container
        )
    except KubeError as error:
        context["problem"] = f"No logs from the node: {str(error).split(': ', 1)[-1]}"
    return context


PAGE = Page("task_logs.html", load, partial="_logs.html")
