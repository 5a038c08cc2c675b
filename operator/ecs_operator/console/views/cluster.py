"""What the cluster's tabs share: the cluster's summary above the tabs, and the namespaces their live
updates follow (the cluster's own, and "" for the EcsCluster and its Nodes)."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import View
from ecs_operator.ecsapi.clusterref import find_cluster

TABS = (
    ("services", "Services"),
    ("tasks", "Tasks"),
    ("infrastructure", "Infrastructure"),
    ("task-definitions", "Task definitions"),
)


def header(view: View, tab: str) -> dict[str, Any]:
    cluster = reads.cluster(view)
    return {
        "title": f"Cluster {cluster['clusterName']}",
        "cluster": cluster,
        "tabs": TABS,
        "tab": tab,
    }


def topics(view: View) -> frozenset[str]:
    try:
        namespace = find_cluster(view.ctx, view.params["cluster"]).namespace
    except Exception:  # a cluster that does not exist (yet): its EcsCluster appearing is a change under ""
        return frozenset({""})
    return frozenset({"", namespace})
