"""Task definitions: a family is an EcsTaskDefinition, its revisions are the ControllerRevisions the
operator registers from it (`ecs_operator.revisions`).

ECS's task definitions are regional; here a family lives in a cluster's namespace, where its services and
tasks resolve it. RegisterTaskDefinition therefore registers into every active cluster the caller may
write to, and the reads look in every cluster (the first that has the revision answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION, labels
from ecs_operator.api import SpecError, parse_task_definition
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.common import (
    await_cached,
    check_name,
    object_name,
    page,
    paged,
    refusal,
    revision_created,
    revisions,
)
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import (
    AccessDeniedException,
    ClientException,
    InvalidParameterException,
    ServerException,
)
from ecs_operator.ecsapi.model import (
    DeleteTaskDefinitionsRequest,
    DeleteTaskDefinitionsResponse,
    DeregisterTaskDefinitionRequest,
    DeregisterTaskDefinitionResponse,
    DescribeTaskDefinitionRequest,
    DescribeTaskDefinitionResponse,
    ListTaskDefinitionFamiliesRequest,
    ListTaskDefinitionFamiliesResponse,
    ListTaskDefinitionsRequest,
    ListTaskDefinitionsResponse,
    RegisterTaskDefinitionRequest,
    RegisterTaskDefinitionResponse,
)
from ecs_operator.ecsapi.patching import merge_patch
from ecs_operator.revisions import (
    Revision,
    canonical,
    parse_deregistered,
    parse_reference,
)

KIND = store.TASK_DEFINITION
# The operator registers a revision within a second or two; this bounds a wait for an absent operator.
REGISTER_SECONDS = 30.0


def cluster_namespaces(ctx: Context) -> list[str]:
    """The namespaces of the active clusters, each once, in name order."""
    found = []
    for obj in sorted(ctx.store.in_namespace(store.CLUSTER, ""), key=lambda o: str(o["metadata"]["name"])):
        if not obj["metadata"].get("deletionTimestamp"):
            namespace = describe.cluster_namespace(obj)
            if namespace not in found:
                found.append(namespace)
    return found


def _readable_namespaces(ctx: Context) -> Iterator[str]:
    denied = None
    any_allowed = False
    for namespace in cluster_namespaces(ctx):
        try:
            ctx.authorizer.check("get", KIND, namespace)
        except AccessDeniedException as error:
            denied = error
            continue
        any_allowed = True
        yield namespace
    if denied is not None and not any_allowed:
        raise denied


def find_revision(ctx: Context, reference: str) -> tuple[str, Revision] | None:
    from ecs_operator.ecsapi.common import resolve_revision

    for namespace in _readable_namespaces(ctx):
        found = resolve_revision(ctx, namespace, reference)
        if found is not None:
            return namespace, found
    return None


def _describe(ctx: Context, namespace: str, revision: Revision) -> dict[str, Any]:
    return describe.task_definition(revision, ctx.partition, revision_created(ctx, namespace, revision))


def register_task_definition(
    ctx: Context, request: RegisterTaskDefinitionRequest
) -> RegisterTaskDefinitionResponse:
    check_name("family", request["family"])
    try:
        expected = parse_task_definition(dict(request)).to_ecs()
    except SpecError as error:
        raise refusal(error, ClientException) from None
    namespaces = cluster_namespaces(ctx)
    if not namespaces:
        raise ClientException("No cluster to register the task definition in: create a cluster first.")
    registered: list[tuple[str, Revision]] = []
    denied = None
    for namespace in namespaces:
        try:
            registered.append((namespace, _register_in(ctx, namespace, dict(request), expected)))
        except AccessDeniedException as error:
            denied = error
    if not registered:
        assert denied is not None
        raise denied
    namespace, revision = registered[0]
    return cast(
        RegisterTaskDefinitionResponse,
        {
            "taskDefinition": _describe(ctx, namespace, revision),
            "tags": describe.task_definition_tags(revision),
        },
    )


def _register_in(ctx: Context, namespace: str, spec: dict[str, Any], expected: dict[str, Any]) -> Revision:
    family = str(spec["family"])
    existing = [
        o for o in ctx.store.find(KIND, (namespace, family)) if not o["metadata"].get("deletionTimestamp")
    ]
    with kube_errors(f"task definition {family} in namespace {namespace}"):
        if existing:
            obj = existing[0]
            patch = merge_patch(obj.get("spec") or {}, spec)
            written = (
                ctx.kube.merge_patch(KIND, obj["metadata"]["name"], namespace, {"spec": patch})
                if patch
                else obj
            )
            name = str(obj["metadata"]["name"])
        else:
            name = object_name(family)
            taken = ctx.store.get(KIND, namespace, name)
            if taken is not None:
                name = object_name(family + "-" + str(len(ctx.store.in_namespace(KIND, namespace))))
            body = {
                "apiVersion": f"{API_GROUP}/{API_VERSION}",
                "kind": KIND,
                "metadata": {"name": name, "namespace": namespace},
                "spec": spec,
            }
            written = ctx.kube.create(body)
    await_cached(ctx, KIND, namespace, name, written)
    wanted = canonical(expected)
    found: list[Revision] = []

    def registered() -> bool:
        found[:] = [r for r in revisions(ctx, namespace, family) if canonical(r.data) == wanted]
        return bool(found)

    if not ctx.store.wait(registered, REGISTER_SECONDS):
        raise ServerException(
            f"The operator did not register {family} in namespace {namespace} within {REGISTER_SECONDS:.0f}s "
            "(is ecs-operator running?); the EcsTaskDefinition is written and will be registered."
        )
    return max(found, key=lambda r: r.number)


def describe_task_definition(
    ctx: Context, request: DescribeTaskDefinitionRequest
) -> DescribeTaskDefinitionResponse:
    found = find_revision(ctx, request["taskDefinition"])
    if found is None:
        raise ClientException("Unable to describe task definition.")
    namespace, revision = found
    response: dict[str, Any] = {"taskDefinition": _describe(ctx, namespace, revision)}
    if "TAGS" in (request.get("include") or ()):
        response["tags"] = describe.task_definition_tags(revision)
    return cast(DescribeTaskDefinitionResponse, response)


def _all_revisions(ctx: Context, family_prefix: str | None) -> dict[str, dict[int, Revision]]:
    """family -> revision number -> revision, across the readable clusters (the first one wins)."""
    families: dict[str, dict[int, Revision]] = {}
    for namespace in _readable_namespaces(ctx):
        for obj in ctx.store.in_namespace(store.REVISION, namespace):
            family = store.family_of_revision(obj)
            if family_prefix and not family.startswith(family_prefix):
                continue
            from ecs_operator.revisions import from_controller_revision

            revision = from_controller_revision(obj)
            families.setdefault(family, {}).setdefault(revision.number, revision)
    return families


def _status_ok(active: bool, status: str) -> bool:
    return status == "ALL" or (status == "ACTIVE") == active


def list_task_definitions(ctx: Context, request: ListTaskDefinitionsRequest) -> ListTaskDefinitionsResponse:
    status = request.get("status") or "ACTIVE"
    descending = request.get("sort") == "DESC"
    listed = [
        revision
        for family in _all_revisions(ctx, request.get("familyPrefix")).values()
        for revision in family.values()
        if _status_ok(revision.active, status)
    ]
    chunk, token = page(
        listed,
        lambda r: f"{r.family}:{r.number:010d}",
        request.get("nextToken"),
        request.get("maxResults"),
        100,
        descending=descending,
    )
    arns = [ctx.partition.task_definition(r.family, r.number) for r in chunk]
    return cast(ListTaskDefinitionsResponse, paged("taskDefinitionArns", arns, token))


def list_task_definition_families(
    ctx: Context, request: ListTaskDefinitionFamiliesRequest
) -> ListTaskDefinitionFamiliesResponse:
    status = request.get("status") or "ACTIVE"
    families = [
        family
        for family, found in _all_revisions(ctx, request.get("familyPrefix")).items()
        if status == "ALL" or any(r.active for r in found.values()) == (status == "ACTIVE")
    ]
    chunk, token = page(families, str, request.get("nextToken"), request.get("maxResults"), 100)
    return cast(ListTaskDefinitionFamiliesResponse, paged("families", chunk, token))


def deregister_task_definition(
    ctx: Context, request: DeregisterTaskDefinitionRequest
) -> DeregisterTaskDefinitionResponse:
    reference = request["taskDefinition"]
    from ecs_operator import arns

    family, number = parse_reference(arns.last_part(reference, "task-definition"))
    if number is None:
        raise InvalidParameterException(
            "taskDefinition: name the revision to deregister (family:revision or its full ARN)"
        )
    result = None
    denied = None
    for namespace in _readable_namespaces(ctx):
        revision = next((r for r in revisions(ctx, namespace, family) if r.number == number), None)
        if revision is None:
            continue
        try:
            _deregister_in(ctx, namespace, family, number)
        except AccessDeniedException as error:
            denied = error  # as RegisterTaskDefinition: the clusters the caller may write to
            continue
        if result is None:
            result = {
                **_describe(ctx, namespace, revision),
                "status": "INACTIVE",
                "deregisteredAt": ctx.clock(),
            }
    if result is None:
        if denied is not None:
            raise denied
        raise ClientException("The specified task definition does not exist.")
    return cast(DeregisterTaskDefinitionResponse, {"taskDefinition": result})


def _deregister_in(ctx: Context, namespace: str, family: str, number: int) -> None:
    for obj in ctx.store.find(KIND, (namespace, family)):
        annotations = obj["metadata"].get("annotations") or {}
        numbers = parse_deregistered(annotations.get(labels.DEREGISTER)) | {number}
        value = ",".join(str(n) for n in sorted(numbers))
        if value != annotations.get(labels.DEREGISTER):
            with kube_errors(f"task definition {family}:{number}"):
                ctx.kube.merge_patch(
                    KIND,
                    obj["metadata"]["name"],
                    namespace,
                    {"metadata": {"annotations": {labels.DEREGISTER: value}}},
                )


def delete_task_definitions(
    ctx: Context, request: DeleteTaskDefinitionsRequest
) -> DeleteTaskDefinitionsResponse:
    """Revisions are ControllerRevisions the operator numbers from the ones it finds: deleting them could
    make it reuse a number, which ECS never does. Every revision is answered in `failures`."""
    failures = []
    for reference in request["taskDefinitions"]:
        found = find_revision(ctx, reference)
        arn = ctx.partition.task_definition(found[1].family, found[1].number) if found else reference
        failures.append(
            {
                "arn": arn,
                "reason": "UNSUPPORTED" if found else "MISSING",
                "detail": "Task definition revisions are kept (INACTIVE after DeregisterTaskDefinition)."
                if found
                else "The task definition does not exist.",
            }
        )
    return cast(DeleteTaskDefinitionsResponse, {"taskDefinitions": [], "failures": failures})
