"""Task definition revision: its JSON as DescribeTaskDefinition answers; Deregister
(DeregisterTaskDefinition), Run task and Create new revision for a user who may do them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.console import reads, urls
from ecs_operator.console.pages import Form, NotFound, Page, View
from ecs_operator.console.views.service import topics


def load(view: View) -> dict[str, Any]:
    ref = reads.cluster_ref(view)
    family = view.params["family"]
    number = int(view.params["revision"])
    found = next((r for r in reads.family_revisions(view, ref, family) if r.number == number), None)
    if found is None:
        raise NotFound(f"Task definition {family}:{number} not found in cluster {ref.name!r}.")
    description = reads.task_definition(view, ref, found)
    may_register = view.may_call("RegisterTaskDefinition", ref.namespace)
    return {
        "title": f"Task definition {family}:{number}",
        "cluster_name": view.params["cluster"],
        "family": family,
        "number": number,
        "definition": description,
        "can_deregister": found.active and view.may_call("DeregisterTaskDefinition", ref.namespace),
        "can_register": may_register,
        "can_run": found.active and view.may_call("RunTask", ref.namespace),
    }


def deregister(view: View, values: Mapping[str, str]) -> str:
    reference = f"{view.params['family']}:{int(view.params['revision'])}"
    view.call("DeregisterTaskDefinition", taskDefinition=reference)
    view.session.flash("ok", f"Task definition {reference} deregistered: it is INACTIVE.")
    return urls.revision(view.params["cluster"], view.params["family"], view.params["revision"])


PAGE = Page("taskdefinition_revision.html", load, fragments=("revision",), topics=topics)
DEREGISTER = Form(PAGE, deregister)
