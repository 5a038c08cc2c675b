"""Task definitions, regional as in ECS: a family is an EcsTaskDefinition (cluster-scoped), its revisions are
records in the account namespace (`ecs_operator.revisions` says how).

Every change is first a write of the caller's on the EcsTaskDefinition, which RBAC decides (create/patch
`ecstaskdefinitions`): RegisterTaskDefinition claims the next number there (with the definition as the
spec, guarded by the object's resourceVersion, so two registrations never claim one number), deregistering
and deleting add the number to an annotation, tags go to another. The record a registration or a new
status makes is then written at once with the endpoint's own identity (`Context.registry`), exactly as the
operator writes it, so the next call reads it; without that identity (`kubectl ecs`) the operator writes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION, identifiers, labels
from ecs_operator.account import account_namespace
from ecs_operator.awsmodel.ecs import (
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
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import ClientException, InvalidParameterException, check_name, refusal
from ecs_operator.ecsapi.families import family_object, resolve_revision, revisions
from ecs_operator.ecsapi.paging import page, paged
from ecs_operator.ecsapi.patching import merge_patch
from ecs_operator.ecsapi.tags import check_tagging
from ecs_operator.kube import KubeError
from ecs_operator.naming import family_name, task_definition_object_name
from ecs_operator.plans.plan import to_apply
from ecs_operator.resources import SpecError, check_task_definition_request
from ecs_operator.revisions import (
    ACTIVE,
    DELETE_IN_PROGRESS,
    INACTIVE,
    FamilyState,
    NumbersError,
    Revision,
    controller_revision,
    family_state,
    format_numbers,
    next_number,
    tags_annotation,
)

KIND = store.TASK_DEFINITION
# Optimistic claims: a registration that loses a race for a number claims the next one; this many times.
CLAIM_ATTEMPTS = 8
# Without the endpoint's own identity, the operator writes the record within a second or two.
RECORD_SECONDS = 30.0
NOT_FOUND = "Unable to describe task definition."
DOES_NOT_EXIST = "The specified task definition does not exist."
STILL_ACTIVE = (
    "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
)


def _describe(ctx: Context, revision: Revision) -> dict[str, Any]:
    return describe.task_definition(revision, ctx.partition)


def _state(owner: Mapping[str, Any] | None) -> FamilyState:
    try:
        return family_state(owner)
    except NumbersError as error:
        raise ClientException(str(error)) from None


def _tags(ctx: Context, revision: Revision) -> list[dict[str, str]]:
    return [dict(t) for t in _state(family_object(ctx, revision.family)).tags.get(revision.number) or ()]


# --- writes ---------------------------------------------------------------------------------------


def _fresh(ctx: Context, owner: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The EcsTaskDefinition as the API server has it now (after a lost race the cache may lag)."""
    with kube_errors(f"task definition {owner['metadata']['name']}"):
        return ctx.kube.get(KIND, str(owner["metadata"]["name"]))


def _update(
    ctx: Context,
    family: str,
    change: Any,
    what: str,
) -> tuple[Mapping[str, Any], Any]:
    """Apply `change(owner, state) -> (patch, result)` to the family's EcsTaskDefinition, guarded by its
    resourceVersion and retried on a conflict; the object as written and the change's result."""
    owner = family_object(ctx, family)
    if owner is None:
        raise ClientException(DOES_NOT_EXIST)
    for _ in range(CLAIM_ATTEMPTS):
        patch, result = change(owner, _state(owner))
        if patch is None:
            return owner, result
        metadata = dict(patch.get("metadata") or {})
        metadata["resourceVersion"] = owner["metadata"]["resourceVersion"]
        try:
            written = ctx.kube.merge_patch(
                KIND, str(owner["metadata"]["name"]), None, {**patch, "metadata": metadata}
            )
        except KubeError as error:
            if error.status != 409:
                with kube_errors(what):
                    raise
            fresh = _fresh(ctx, owner)
            if fresh is None:
                raise ClientException(DOES_NOT_EXIST) from None
            owner = fresh
            continue
        await_cached(ctx, KIND, "", str(owner["metadata"]["name"]), written)
        return written or owner, result
    raise ClientException(f"{what}: too many concurrent changes, try again")


def _claim(ctx: Context, family: str, request: dict[str, Any]) -> int:
    """Claim the next revision number of `family` with `request` as its definition (creating the
    EcsTaskDefinition for a new family); the number claimed."""
    tags = list(request.get("tags") or ())

    def annotations(state: FamilyState, existing: list[Revision]) -> tuple[dict[str, str], int]:
        number = next_number(state, existing)
        found = {labels.LATEST_REVISION: str(number)}
        tagged = tags_annotation({**state.tags, number: tags}) if tags else None
        if tagged:
            found[labels.REVISION_TAGS] = tagged
        return found, number

    for _ in range(CLAIM_ATTEMPTS):
        owner = family_object(ctx, family)
        if owner is not None:
            break
        values, number = annotations(_state(None), revisions(ctx, family))
        name = _free_name(ctx, family)
        body = {
            "apiVersion": f"{API_GROUP}/{API_VERSION}",
            "kind": KIND,
            "metadata": {"name": name, "annotations": values},
            "spec": request,
        }
        try:
            created = ctx.kube.create(body)
        except KubeError as error:
            if error.status != 409:
                with kube_errors(f"task definition {family}"):
                    raise
            ctx.store.wait(lambda: family_object(ctx, family) is not None, ctx.wait_seconds)
            continue
        await_cached(ctx, KIND, "", name, created)
        return number

    def change(owner: Mapping[str, Any], state: FamilyState) -> tuple[dict[str, Any], int]:
        values, number = annotations(state, revisions(ctx, family))
        return {
            "metadata": {"annotations": values},
            "spec": merge_patch(owner.get("spec") or {}, request),
        }, number

    _, number = _update(ctx, family, change, f"task definition {family}")
    return int(number)


def _free_name(ctx: Context, family: str) -> str:
    """The family's EcsTaskDefinition name (its derived name, or that with a suffix when another family's
    object, written with kubectl, has it)."""
    name = task_definition_object_name(family)
    suffix = 2
    candidate = name
    while ctx.store.get(KIND, "", candidate) is not None:
        candidate = task_definition_object_name(f"{family}-{suffix}")
        suffix += 1
    return candidate


def _write_record(ctx: Context, revision: Revision) -> None:
    """The revision's record as the operator writes it (so the operator's next pass writes nothing)."""
    obj = controller_revision(
        revision.family, revision.number, revision.data, revision.status, account_namespace()
    )
    if ctx.registry is None:
        return
    intent = to_apply([obj], {})
    if intent:
        with kube_errors(f"the record of task definition {revision.task_definition}"):
            written = ctx.registry.apply(intent[0])
        await_cached(ctx, store.REVISION, account_namespace(), str(obj["metadata"]["name"]), written)


def register_task_definition(
    ctx: Context, request: RegisterTaskDefinitionRequest
) -> RegisterTaskDefinitionResponse:
    family = request["family"]
    check_name("family", family)
    try:
        definition = check_task_definition_request(request)
    except SpecError as error:
        raise refusal(error, ClientException) from None
    check_tagging(ctx, KIND, "", request.get("tags"))
    number = _claim(ctx, family, dict(request))
    revision = Revision(family, number, {k: v for k, v in definition.items() if k != "tags"}, ACTIVE, "")
    _write_record(ctx, revision)
    if ctx.registry is None:
        ctx.store.wait(
            lambda: any(r.name for r in revisions(ctx, family) if r.number == number), RECORD_SECONDS
        )
    registered = next((r for r in revisions(ctx, family) if r.number == number), revision)
    return cast(
        RegisterTaskDefinitionResponse,
        {"taskDefinition": _describe(ctx, registered), "tags": [dict(t) for t in request.get("tags") or ()]},
    )


def _set_status(ctx: Context, reference: str, annotation: str, wanted: str) -> Revision:
    """Add the revision `reference` names to the numbers of `annotation` (deregister or delete) and write
    its record's new status."""
    family, number = identifiers.task_definition_reference(identifiers.name_in(reference, "task-definition"))
    if number is None:
        raise InvalidParameterException(
            "taskDefinition: name the revision (family:revision or its full ARN), as ECS requires"
        )
    found = next((r for r in revisions(ctx, family) if r.number == number), None)
    if found is None:
        raise ClientException(DOES_NOT_EXIST)

    def change(owner: Mapping[str, Any], state: FamilyState) -> tuple[dict[str, Any] | None, None]:
        numbers = set(state.deleted if annotation == labels.DELETE_REVISIONS else state.deregistered)
        if number in numbers:
            return None, None
        value = format_numbers(numbers | {number})
        return {"metadata": {"annotations": {annotation: value}}}, None

    _update(ctx, family, change, f"task definition {family}:{number}")
    changed = Revision(found.family, found.number, found.data, wanted, found.name, found.registered_at)
    if found.name:
        _write_record(ctx, changed)
    return changed


def describe_task_definition(
    ctx: Context, request: DescribeTaskDefinitionRequest
) -> DescribeTaskDefinitionResponse:
    ctx.authorizer.check("get", KIND)
    found = resolve_revision(ctx, request["taskDefinition"])
    if found is None:
        raise ClientException(NOT_FOUND)
    response: dict[str, Any] = {"taskDefinition": _describe(ctx, found)}
    if "TAGS" in (request.get("include") or ()):
        response["tags"] = _tags(ctx, found)
    return cast(DescribeTaskDefinitionResponse, response)


def _families(ctx: Context, prefix: str | None) -> Iterator[tuple[str, list[Revision]]]:
    """Every family (with its revisions, oldest first) whose name starts with `prefix`."""
    names = {store.family_of_revision(o) for o in ctx.store.in_namespace(store.REVISION, account_namespace())}
    names |= {family_name(o) for o in ctx.store.in_namespace(KIND, "")}
    for family in sorted(str(n) for n in names if n):
        if not prefix or family.startswith(prefix):
            found = revisions(ctx, family)
            if found:
                yield family, found


def list_task_definitions(ctx: Context, request: ListTaskDefinitionsRequest) -> ListTaskDefinitionsResponse:
    ctx.authorizer.check("list", KIND)
    status = request.get("status") or ACTIVE
    listed = [
        r for _, found in _families(ctx, request.get("familyPrefix")) for r in found if r.status == status
    ]
    chunk, token = page(
        listed,
        lambda r: f"{r.family}:{r.number:010d}",
        request.get("nextToken"),
        request.get("maxResults"),
        100,
        descending=request.get("sort") == "DESC",
    )
    found_arns = [ctx.partition.task_definition(r.family, r.number) for r in chunk]
    return cast(ListTaskDefinitionsResponse, paged("taskDefinitionArns", found_arns, token))


def list_task_definition_families(
    ctx: Context, request: ListTaskDefinitionFamiliesRequest
) -> ListTaskDefinitionFamiliesResponse:
    ctx.authorizer.check("list", KIND)
    status = request.get("status") or ACTIVE
    families = [
        family
        for family, found in _families(ctx, request.get("familyPrefix"))
        if status == "ALL" or any(r.active for r in found) == (status == ACTIVE)
    ]
    chunk, token = page(families, str, request.get("nextToken"), request.get("maxResults"), 100)
    return cast(ListTaskDefinitionFamiliesResponse, paged("families", chunk, token))


def deregister_task_definition(
    ctx: Context, request: DeregisterTaskDefinitionRequest
) -> DeregisterTaskDefinitionResponse:
    revision = _set_status(ctx, request["taskDefinition"], labels.DEREGISTER, INACTIVE)
    result = {**_describe(ctx, revision), "deregisteredAt": ctx.clock()}
    return cast(DeregisterTaskDefinitionResponse, {"taskDefinition": result})


def delete_task_definitions(
    ctx: Context, request: DeleteTaskDefinitionsRequest
) -> DeleteTaskDefinitionsResponse:
    """Only INACTIVE revisions can be deleted, as in ECS: they are DELETE_IN_PROGRESS while a service or a
    task still runs them, then gone; their numbers are never registered again."""
    references = list(request["taskDefinitions"])
    if len(references) > 10:
        raise InvalidParameterException("taskDefinitions: at most 10 task definitions per call")
    deleted = []
    failures = []
    for reference in references:
        family, number = identifiers.task_definition_reference(
            identifiers.name_in(reference, "task-definition")
        )
        if number is None:
            raise InvalidParameterException(
                f"taskDefinitions: {reference!r} names no revision (family:revision or its full ARN)"
            )
        found = resolve_revision(ctx, reference)
        arn = ctx.partition.task_definition(family, number)
        if found is None:
            failures.append({"arn": arn, "reason": "TASK_DEFINITION_NOT_FOUND", "detail": DOES_NOT_EXIST})
        elif found.status == ACTIVE:
            failures.append({"arn": arn, "reason": "TASK_DEFINITION_ACTIVE", "detail": STILL_ACTIVE})
        else:
            revision = _set_status(ctx, reference, labels.DELETE_REVISIONS, DELETE_IN_PROGRESS)
            deleted.append({**_describe(ctx, revision), "deleteRequestedAt": ctx.clock()})
    return cast(DeleteTaskDefinitionsResponse, {"taskDefinitions": deleted, "failures": failures})


# --- tags of a revision (TagResource and friends on a task definition ARN) -------------------------


def revision_of_arn(ctx: Context, arn: str) -> Revision | None:
    family, number = identifiers.task_definition_reference(arn)
    if number is None:
        return None
    return next((r for r in revisions(ctx, family) if r.number == number), None)


def revision_tags(ctx: Context, revision: Revision) -> list[dict[str, str]]:
    ctx.authorizer.check("get", KIND)
    return _tags(ctx, revision)


def set_revision_tags(ctx: Context, revision: Revision, tags: list[dict[str, str]]) -> None:
    def change(owner: Mapping[str, Any], state: FamilyState) -> tuple[dict[str, Any] | None, None]:
        if list(state.tags.get(revision.number) or ()) == tags:
            return None, None
        value = tags_annotation({**state.tags, revision.number: tags})
        return {"metadata": {"annotations": {labels.REVISION_TAGS: value}}}, None

    _update(ctx, revision.family, change, f"tags of task definition {revision.task_definition}")
