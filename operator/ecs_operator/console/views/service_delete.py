"""Delete service (DeleteService): a service still asked to run tasks needs `force`, as in ECS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.console import urls
from ecs_operator.console.pages import Form, Page, View
from ecs_operator.console.views.service import may_change, service


def load(view: View) -> dict[str, Any]:
    described = service(view)
    return {
        "title": f"Delete service {described['serviceName']}",
        "cluster_name": view.params["cluster"],
        "service": described,
        "allowed": may_change(view, described, "DeleteService"),
    }


def submit(view: View, values: Mapping[str, str]) -> str:
    deleted = view.call(
        "DeleteService",
        cluster=view.params["cluster"],
        service=view.params["service"],
        force=values.get("force") == "on",
    )["service"]
    view.session.flash(
        "ok", f"Service {deleted['serviceName']} is {deleted['status']}: its tasks are stopping."
    )
    return urls.cluster(view.params["cluster"], "services")


PAGE = Page("service_delete.html", load)
FORM = Form(PAGE, submit)
