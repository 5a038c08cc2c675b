"""The operations calls pages share: a cluster, every page of a List, a page of a List, Describe in the
chunks ECS allows, and the (regional) task definition families with their revisions."""

from __future__ import annotations

from typing import Any

from ecs_operator.account import account_namespace
from ecs_operator.console.pages import NotFound, View
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.clusterref import ClusterRef, find_cluster
from ecs_operator.ecsapi.errors import AccessDeniedException, InvalidParameterException
from ecs_operator.ecsapi.families import revisions
from ecs_operator.revisions import DELETE_IN_PROGRESS, Revision

PAGE_SIZE = 100


def cluster(view: View) -> dict[str, Any]:
    """The page's cluster as DescribeClusters describes it (404 when there is none). A user who may
    read in the cluster's namespace but not the EcsCluster itself gets its name and why no more."""
    name = view.params["cluster"]
    try:
        answer = view.call("DescribeClusters", clusters=[name], include=["TAGS", "SETTINGS", "STATISTICS"])
    except AccessDeniedException as error:
        ref = cluster_ref(view)
        return {"clusterName": ref.name, "restricted": error.message}
    found = answer.get("clusters") or []
    if not found or found[0].get("status") == "INACTIVE":
        raise NotFound(f"Cluster {name!r} not found.")
    return dict(found[0])


def cluster_ref(view: View) -> ClusterRef:
    """Where the cluster's objects live (for access reviews of buttons and per-namespace reads)."""
    return find_cluster(view.ctx, view.params["cluster"])


def every(view: View, operation: str, member: str, **request: Any) -> list[str]:
    items: list[str] = []
    token = None
    while True:
        answer = view.call(operation, **request, **({"nextToken": token} if token else {}))
        items += answer.get(member) or []
        token = answer.get("nextToken")
        if not token:
            return items


def page_number(view: View) -> int:
    text = view.query.get("page", "1")
    if not text.isdigit() or int(text) < 1:
        raise InvalidParameterException(f"page: {text!r} is not a page number (1, 2, …)")
    return int(text)


def page_of(view: View, operation: str, member: str, number: int, **request: Any) -> tuple[list[str], bool]:
    """Page `number` (from 1) of `PAGE_SIZE` items of a List call, and whether there is a next one."""
    token = None
    for _ in range(number - 1):
        answer = view.call(
            operation, maxResults=PAGE_SIZE, **request, **({"nextToken": token} if token else {})
        )
        token = answer.get("nextToken")
        if not token:
            return [], False
    answer = view.call(operation, maxResults=PAGE_SIZE, **request, **({"nextToken": token} if token else {}))
    return list(answer.get(member) or []), bool(answer.get("nextToken"))


def described(
    view: View, operation: str, member: str, references: list[str], chunk: int, result: str, **request: Any
) -> list[dict[str, Any]]:
    """Describe `references` `chunk` at a time (ECS's per-call limit)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(references), chunk):
        answer = view.call(operation, **{member: references[start : start + chunk]}, **request)
        found += answer.get(result) or []
    return found


def family_revisions(view: View, ref: ClusterRef, family: str) -> list[Revision]:
    view.ctx.authorizer.check("get", store.TASK_DEFINITION)
    return [r for r in revisions(view.ctx, family) if r.status != DELETE_IN_PROGRESS]


def families(view: View, ref: ClusterRef) -> dict[str, list[Revision]]:
    """Every family registered in the account (task definitions are regional: every cluster runs them),
    each with its revisions, oldest first."""
    view.ctx.authorizer.check("get", store.TASK_DEFINITION)
    found = view.ctx.store.in_namespace(store.REVISION, account_namespace())
    names = {store.family_of_revision(o) for o in found}
    listed = {name: family_revisions(view, ref, name) for name in sorted(names) if name}
    return {name: found for name, found in listed.items() if found}


def task_definition(view: View, ref: ClusterRef, revision: Revision) -> dict[str, Any]:
    """A revision as DescribeTaskDefinition describes it."""
    return describe.task_definition(revision, view.ctx.partition)
