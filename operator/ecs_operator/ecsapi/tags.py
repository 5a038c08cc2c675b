"""Tags: the `tags` member of the spec of an EcsCluster, EcsService or EcsTask (what CreateCluster,
CreateService and RunTask took), and a task definition revision's tags, kept on its EcsTaskDefinition
(its definition is immutable, its tags are not: `ecs_operator.revisions`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ecs_operator import identifiers
from ecs_operator.awsmodel.ecs import (
    ListTagsForResourceRequest,
    ListTagsForResourceResponse,
    TagResourceRequest,
    TagResourceResponse,
    UntagResourceRequest,
    UntagResourceResponse,
)
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.clusterref import find_cluster
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import InvalidParameterException, ResourceNotFoundException

Tags = list[dict[str, str]]
RESERVED_PREFIX = "aws:"


@dataclass(frozen=True)
class Tagged:
    """A resource whose tags an ARN names: how to read them (after a read check) and how to write them."""

    read: Callable[[], Tags]
    write: Callable[[Tags], None]


def _spec_tags(ctx: Context, kind: str, namespace: str, obj: dict[str, Any]) -> Tagged:
    name = str(obj["metadata"]["name"])

    def read() -> Tags:
        ctx.authorizer.check("get", kind, namespace, name)
        return [dict(t) for t in (obj.get("spec") or {}).get("tags") or ()]

    def write(tags: Tags) -> None:
        with kube_errors(f"tags of {kind} {name}"):
            written = ctx.kube.merge_patch(kind, name, namespace or None, {"spec": {"tags": tags or None}})
        await_cached(ctx, kind, namespace, name, written)

    return Tagged(read, write)


def _target(ctx: Context, resource_arn: str) -> Tagged:
    """The resource an ARN names, for the kinds whose tags are kept."""
    parsed = identifiers.parse(resource_arn)
    if parsed is None or parsed.service != "ecs":
        raise InvalidParameterException(f"resourceArn: {resource_arn!r} is not an ECS ARN")
    if parsed.kind == "cluster":
        cluster = find_cluster(ctx, parsed.parts[0])
        return _spec_tags(ctx, store.CLUSTER, "", dict(cluster.obj))
    if parsed.kind == "service" and len(parsed.parts) == 2:
        from ecs_operator.ecsapi.services import find_service

        cluster = find_cluster(ctx, parsed.parts[0])
        obj = find_service(ctx, cluster, parsed.parts[1])
        if obj is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        return _spec_tags(ctx, store.SERVICE, cluster.namespace, obj)
    if parsed.kind == "task" and len(parsed.parts) == 2:
        from ecs_operator.ecsapi.tasks import find_task

        cluster = find_cluster(ctx, parsed.parts[0])
        found = find_task(ctx, cluster, parsed.parts[1])
        if found is None or found.owner is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        if found.owner_kind != store.TASK:
            raise InvalidParameterException("resourceArn: a service's tasks take the service's tags")
        return _spec_tags(ctx, store.TASK, cluster.namespace, dict(found.owner))
    if parsed.kind == "capacity-provider":
        from ecs_operator.ecsapi.capacityproviders import provider_object

        provider = provider_object(ctx, parsed.last)
        if provider is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        return _spec_tags(ctx, store.CAPACITY_PROVIDER, "", dict(provider))
    if parsed.kind == "task-definition":
        from ecs_operator.ecsapi import taskdefinitions

        revision = taskdefinitions.revision_of_arn(ctx, resource_arn)
        if revision is None:
            raise ResourceNotFoundException("The specified resource could not be found.")
        return Tagged(
            lambda: taskdefinitions.revision_tags(ctx, revision),
            lambda tags: taskdefinitions.set_revision_tags(ctx, revision, tags),
        )
    raise InvalidParameterException(
        f"resourceArn: tags of a {parsed.kind} cannot be changed here "
        "(clusters, services, standalone tasks, task definitions and capacity providers)"
    )


def tag_resource(ctx: Context, request: TagResourceRequest) -> TagResourceResponse:
    target = _target(ctx, request["resourceArn"])
    tags = {t["key"]: t.get("value", "") for t in target.read()}
    for tag in request["tags"]:
        if "key" not in tag:
            raise InvalidParameterException("tags: every tag needs a key")
        tags[tag["key"]] = tag.get("value", "")
    check_reserved("tags", [t["key"] for t in request["tags"]])
    target.write([{"key": k, "value": v} for k, v in tags.items()])
    return cast(TagResourceResponse, {})


def untag_resource(ctx: Context, request: UntagResourceRequest) -> UntagResourceResponse:
    target = _target(ctx, request["resourceArn"])
    check_reserved("tagKeys", request["tagKeys"])
    removed = set(request["tagKeys"])
    target.write([t for t in target.read() if t.get("key") not in removed])
    return cast(UntagResourceResponse, {})


def list_tags_for_resource(ctx: Context, request: ListTagsForResourceRequest) -> ListTagsForResourceResponse:
    return cast(ListTagsForResourceResponse, {"tags": _target(ctx, request["resourceArn"]).read()})


def check_reserved(member: str, keys: Sequence[str]) -> None:
    """ECS's rule: tag keys starting with `aws:` (any case) are AWS's, neither set nor removed by users."""
    for index, key in enumerate(keys):
        if str(key).lower().startswith(RESERVED_PREFIX):
            raise InvalidParameterException(
                f"{member}[{index}]: the tag key {str(key)[:128]!r} begins with aws:, which is reserved for "
                "AWS use"
            )


def check_tagging(ctx: Context, kind: str, namespace: str, tags: Any) -> None:
    """The tags a resource is created with: no reserved key, and, with the account setting
    tagResourceAuthorization on (ECS's default), the right to tag it as well (TagResource's write: patch of
    the resource's kind)."""
    from ecs_operator.ecsapi.accountsettings import effective

    if not tags:
        return
    check_reserved("tags", [str(t.get("key", "")) for t in tags])
    if effective(ctx, "tagResourceAuthorization") == "on":
        ctx.authorizer.check("patch", kind, namespace)
