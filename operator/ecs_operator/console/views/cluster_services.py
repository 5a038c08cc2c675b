"""Cluster, Services tab: a page of the cluster's services (ListServices, then DescribeServices)."""

from __future__ import annotations

from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import Page, View
from ecs_operator.console.views import cluster
from ecs_operator.status.deployments import primary_deployment

DESCRIBE_CHUNK = 10  # DescribeServices' limit


def primary(service: dict[str, Any]) -> dict[str, Any]:
    return dict(primary_deployment(service.get("deployments")) or {})


def load(view: View) -> dict[str, Any]:
    context = cluster.header(view, "services")
    name = view.params["cluster"]
    number = reads.page_number(view)
    arns, more = reads.page_of(view, "ListServices", "serviceArns", number, cluster=name)
    services = reads.described(
        view, "DescribeServices", "services", arns, DESCRIBE_CHUNK, "services", cluster=name
    )
    rows = [{**s, "primary": primary(s)} for s in services]
    return {**context, "services": rows, "page": number, "more": more}


PAGE = Page("cluster_services.html", load, fragments=("cluster_summary", "services"), topics=cluster.topics)
