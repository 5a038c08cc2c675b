"""Cluster, Task definitions tab: the families registered in the cluster, each with its latest revision
and how many revisions are ACTIVE and INACTIVE."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import Page, View
from ecs_operator.console.views import cluster


def load(view: View) -> dict[str, Any]:
    context = cluster.header(view, "task-definitions")
    ref = reads.cluster_ref(view)
    rows = []
    for family, found in reads.families(view, ref).items():
        active = [r for r in found if r.active]
        rows.append(
            {
                "family": family,
                "latest": found[-1].number if found else None,
                "latest_active": active[-1].number if active else None,
                "active": len(active),
                "inactive": len(found) - len(active),
            }
        )
    return {**context, "families": rows, "can_run": view.may_call("RunTask", ref.namespace)}


PAGE = Page(
    "cluster_taskdefinitions.html",
    load,
    fragments=("cluster_summary", "families"),
    topics=cluster.topics,
)
