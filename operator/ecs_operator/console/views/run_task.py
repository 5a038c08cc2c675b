"""Run task (RunTask): a revision of the cluster's task definitions, how many, and the launch type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator import identifiers
from ecs_operator.console import reads, urls
from ecs_operator.console.pages import Form, Page, View
from ecs_operator.console.views.service_update import whole_number
from ecs_operator.ecsapi.errors import InvalidParameterException

LAUNCH_TYPES = ("EC2", "FARGATE")
MAX_COUNT = 10  # RunTask's limit


def load(view: View) -> dict[str, Any]:
    ref = reads.cluster_ref(view)
    choices = [
        f"{family}:{r.number}"
        for family, found in reads.families(view, ref).items()
        for r in reversed(found)
        if r.active
    ]
    return {
        "title": f"Run task in {ref.name}",
        "cluster_name": view.params["cluster"],
        "choices": choices,
        "chosen": view.query.get("taskDefinition", ""),
        "launch_types": LAUNCH_TYPES,
        "max_count": MAX_COUNT,
        "allowed": view.may_call("RunTask", ref.namespace),
    }


def submit(view: View, values: Mapping[str, str]) -> str:
    count = whole_number("count", values.get("count", "1"), low=1)
    if count > MAX_COUNT:
        raise InvalidParameterException(f"count: {count} is more than {MAX_COUNT}, RunTask's limit")
    launch_type = values.get("launchType", "EC2")
    if launch_type not in LAUNCH_TYPES:
        raise InvalidParameterException(
            f"launchType: {launch_type!r} is not one of {', '.join(LAUNCH_TYPES)}"
        )
    if not values.get("taskDefinition"):
        raise InvalidParameterException("taskDefinition: choose a task definition revision")
    answer = view.call(
        "RunTask",
        cluster=view.params["cluster"],
        taskDefinition=values["taskDefinition"],
        count=count,
        launchType=launch_type,
        startedBy="ecs-console",
    )
    failures = answer.get("failures") or []
    if failures and not answer.get("tasks"):
        raise InvalidParameterException(f"RunTask: {failures[0].get('detail') or failures[0].get('reason')}")
    started = [identifiers.last_part(t["taskArn"]) for t in answer.get("tasks") or ()]
    view.session.flash(
        "ok", f"Started {len(started)} task{'s' if len(started) != 1 else ''}: {', '.join(started)}."
    )
    if len(started) == 1:
        return urls.task(view.params["cluster"], started[0])
    return urls.cluster(view.params["cluster"], "tasks")


PAGE = Page("run_task.html", load)
FORM = Form(PAGE, submit)
