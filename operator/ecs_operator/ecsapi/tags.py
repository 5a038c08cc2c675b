"""Tags: the `tags` member of the spec of an EcsCluster, EcsService or EcsTask (what CreateCluster,
CreateService and RunTask took). A task definition's tags belong to its immutable revision: they are read,
not changed (ECS tags a revision in place; here that would register a new one)."""

from __future__ import annotations

from typing import Any, cast

from ecs_operator import arns
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.common import await_cached, find_cluster
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import InvalidParameterException, ResourceNotFoundException
from ecs_operator.ecsapi.model import (
    ListTagsForResourceRequest,
    ListTagsForResourceResponse,
    TagResourceRequest,
    TagResourceResponse,
    UntagResourceRequest,
    UntagResourceResponse,
)


def _target(ctx: Context, resource_arn: str) -> tuple[str, str, dict[str, Any]]:
    """(kind, namespace, object) an ARN names, for the kinds whose tags are writable."""
    parsed = arns.parse(resource_arn)
    if parsed is None:
        raise InvalidParameterException(f"resourceArn: {resource_arn!r} is not an ECS ARN")
    if parsed.kind == "cluster":
        cluster = find_cluster(ctx, parsed.parts[0])
        return store.CLUSTER, "", dict(cluster.obj)
    if parsed.kind == "service" and len(parsed.parts) == 2:
        from ecs_operator.ecsapi.services import find_service

        cluster = find_cluster(ctx, parsed.parts[0])
        obj = find_service(ctx, cluster, parsed.parts[1])
        if obj is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        return store.SERVICE, cluster.namespace, obj
    if parsed.kind == "task" and len(parsed.parts) == 2:
        from ecs_operator.ecsapi.tasks import find_task

        cluster = find_cluster(ctx, parsed.parts[0])
        found = find_task(ctx, cluster, parsed.parts[1])
        if found is None or found.owner is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        if found.owner_kind != store.TASK:
            raise InvalidParameterException("resourceArn: a service's tasks take the service's tags")
        return store.TASK, cluster.namespace, dict(found.owner)
    raise InvalidParameterException(
        f"resourceArn: tags of a {parsed.kind} cannot be changed here "
        "(clusters, services and standalone tasks)"
    )


def _write(ctx: Context, kind: str, namespace: str, obj: dict[str, Any], tags: list[dict[str, str]]) -> None:
    name = str(obj["metadata"]["name"])
    with kube_errors(f"tags of {kind} {name}"):
        written = ctx.kube.merge_patch(kind, name, namespace or None, {"spec": {"tags": tags or None}})
    await_cached(ctx, kind, namespace, name, written)


def tag_resource(ctx: Context, request: TagResourceRequest) -> TagResourceResponse:
    kind, namespace, obj = _target(ctx, request["resourceArn"])
    tags = {t["key"]: t.get("value", "") for t in (obj.get("spec") or {}).get("tags") or ()}
    for tag in request["tags"]:
        if "key" not in tag:
            raise InvalidParameterException("tags: every tag needs a key")
        tags[tag["key"]] = tag.get("value", "")
    _write(ctx, kind, namespace, obj, [{"key": k, "value": v} for k, v in tags.items()])
    return cast(TagResourceResponse, {})


def untag_resource(ctx: Context, request: UntagResourceRequest) -> UntagResourceResponse:
    kind, namespace, obj = _target(ctx, request["resourceArn"])
    removed = set(request["tagKeys"])
    tags = [dict(t) for t in (obj.get("spec") or {}).get("tags") or () if t.get("key") not in removed]
    _write(ctx, kind, namespace, obj, tags)
    return cast(UntagResourceResponse, {})


def list_tags_for_resource(ctx: Context, request: ListTagsForResourceRequest) -> ListTagsForResourceResponse:
    arn = request["resourceArn"]
    parsed = arns.parse(arn)
    if parsed is not None and parsed.kind == "task-definition":
        from ecs_operator.ecsapi.taskdefinitions import find_revision

        found = find_revision(ctx, arn)
        if found is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        return cast(ListTagsForResourceResponse, {"tags": [dict(t) for t in found[1].data.get("tags") or ()]})
    kind, namespace, obj = _target(ctx, arn)
    ctx.authorizer.check("get", kind, namespace)
    return cast(
        ListTagsForResourceResponse, {"tags": [dict(t) for t in (obj.get("spec") or {}).get("tags") or ()]}
    )
