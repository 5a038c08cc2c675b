"""Stop task (StopTask), with the reason ECS records as stoppedReason (stopCode UserInitiated)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator import identifiers
from ecs_operator.console import urls
from ecs_operator.console.pages import Form, Page, View
from ecs_operator.console.views.task import may_stop, task

REASON_LIMIT = 255


def load(view: View) -> dict[str, Any]:
    described = task(view)
    task_id = identifiers.last_part(described["taskArn"])
    return {
        "title": f"Stop task {task_id}",
        "cluster_name": view.params["cluster"],
        "task_id": task_id,
        "task": described,
        "allowed": may_stop(view, described),
    }


def submit(view: View, values: Mapping[str, str]) -> str:
    request = {"cluster": view.params["cluster"], "task": view.params["task"]}
    reason = values.get("reason", "").strip()
    if reason:
        request["reason"] = reason[:REASON_LIMIT]
    stopped = view.call("StopTask", **request)["task"]
    view.session.flash(
        "ok", f"Task {view.params['task']} is stopping: {stopped.get('stoppedReason') or 'stopped by you'}."
    )
    return urls.task(view.params["cluster"], view.params["task"])


PAGE = Page("task_stop.html", load)
FORM = Form(PAGE, submit)
