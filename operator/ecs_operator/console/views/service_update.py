"""Update service: desired count, task definition revision, force new deployment (UpdateService)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator import identifiers
from ecs_operator.console import reads, urls
from ecs_operator.console.pages import Form, Page, View
from ecs_operator.console.views.service import may_change, service
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.identifiers import task_definition_reference as parse_reference


def whole_number(member: str, text: str, low: int = 0) -> int:
    value = text.strip()
    if not value.lstrip("-").isdigit():
        raise InvalidParameterException(f"{member}: {text!r} is not a whole number")
    number = int(value)
    if number < low:
        raise InvalidParameterException(f"{member}: {number} is less than {low}")
    return number


def load(view: View) -> dict[str, Any]:
    described = service(view)
    ref = reads.cluster_ref(view)
    current = identifiers.last_part(described.get("taskDefinition"))
    family = parse_reference(current)[0]
    choices = [
        f"{name}:{r.number}"
        for name, found in sorted(reads.families(view, ref).items(), key=lambda f: f[0] != family)
        for r in reversed(found)
        if r.active or f"{name}:{r.number}" == current
    ]
    return {
        "title": f"Update service {described['serviceName']}",
        "cluster_name": view.params["cluster"],
        "service": described,
        "current": current,
        "choices": choices,
        "allowed": may_change(view, described, "UpdateService"),
    }


def submit(view: View, values: Mapping[str, str]) -> str:
    request: dict[str, Any] = {
        "cluster": view.params["cluster"],
        "service": view.params["service"],
        "desiredCount": whole_number("desiredCount", values.get("desiredCount", "")),
        "forceNewDeployment": values.get("forceNewDeployment") == "on",
    }
    if values.get("taskDefinition"):
        request["taskDefinition"] = values["taskDefinition"]
    updated = view.call("UpdateService", **request)["service"]
    revision = identifiers.last_part(updated.get("taskDefinition"))
    view.session.flash(
        "ok",
        f"Service {updated['serviceName']} updated: desired count {updated['desiredCount']}, "
        f"task definition {revision}"
        + (", new deployment forced." if request["forceNewDeployment"] else "."),
    )
    return urls.service(view.params["cluster"], view.params["service"])


PAGE = Page("service_update.html", load)
FORM = Form(PAGE, submit)
