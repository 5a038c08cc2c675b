"""Task definition family: its revisions in the cluster, newest first, ACTIVE or INACTIVE."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import NotFound, Page, View
from ecs_operator.console.views.service import topics


def load(view: View) -> dict[str, Any]:
    ref = reads.cluster_ref(view)
    family = view.params["family"]
    found = reads.family_revisions(view, ref, family)
    if not found:
        raise NotFound(f"Task definition family {family!r} has no revision in cluster {ref.name!r}.")
    return {
        "title": f"Task definition {family}",
        "cluster_name": view.params["cluster"],
        "family": family,
        "revisions": [reads.task_definition(view, ref, r) for r in reversed(found)],
        "can_register": view.may_call("RegisterTaskDefinition", ref.namespace),
    }


PAGE = Page("taskdefinition_family.html", load, fragments=("revisions",), topics=topics)
