"""Clusters: every ECS cluster with its status, container instances, services, running and pending tasks
and capacity (ListClusters, then DescribeClusters)."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import Page, View

DESCRIBE_CHUNK = 100


def load(view: View) -> dict[str, Any]:
    arns = reads.every(view, "ListClusters", "clusterArns")
    clusters = reads.described(
        view, "DescribeClusters", "clusters", arns, DESCRIBE_CHUNK, "clusters", include=["TAGS"]
    )
    return {"title": "Clusters", "clusters": sorted(clusters, key=lambda c: str(c["clusterName"]))}


# EcsClusters and Nodes are cluster-scoped: their changes arrive under namespace "".
PAGE = Page("clusters.html", load, fragments=("clusters",), topics=lambda view: frozenset({""}))
