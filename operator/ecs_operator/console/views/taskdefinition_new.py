"""Create new revision: a RegisterTaskDefinition request as JSON, prefilled with the family's latest
revision. Output-only members of describe output are dropped, as admission accepts and ignores them;
every other problem is answered with the member it concerns, in the words admission uses (the same
parser checks both)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ecs_operator.console import reads, urls
from ecs_operator.console.pages import Form, Page, View
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.resources import TaskDefinitionSpec

OUTPUT_ONLY = TaskDefinitionSpec.output_only


def load(view: View) -> dict[str, Any]:
    ref = reads.cluster_ref(view)
    family = view.params["family"]
    found = reads.family_revisions(view, ref, family)
    latest = dict(found[-1].data) if found else {"family": family, "containerDefinitions": []}
    return {
        "title": f"Create new revision of {family}",
        "cluster_name": view.params["cluster"],
        "family": family,
        "latest": found[-1].number if found else None,
        "json": json.dumps(latest, indent=2),
        "allowed": view.may_call("RegisterTaskDefinition", ref.namespace),
    }


def parse(text: str) -> dict[str, Any]:
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidParameterException(
            f"taskDefinition JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(request, dict):
        raise InvalidParameterException("taskDefinition JSON: must be an object ({…})")
    return {k: v for k, v in request.items() if k not in OUTPUT_ONLY}


def submit(view: View, values: Mapping[str, str]) -> str:
    request = parse(values.get("json", ""))
    registered = view.call("RegisterTaskDefinition", **request)["taskDefinition"]
    family, number = str(registered["family"]), int(registered["revision"])
    view.session.flash("ok", f"Registered task definition {family}:{number}.")
    return urls.revision(view.params["cluster"], family, number)


PAGE = Page("taskdefinition_new.html", load)
FORM = Form(PAGE, submit)
