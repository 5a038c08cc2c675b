"""Task definitions are regional: a family's revisions, read from the caches, and what a reference
(`family`, `family:N`, an ARN) resolves to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator import identifiers
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.store import oldest_live
from ecs_operator.resources import SpecError, parse_task_definition
from ecs_operator.revisions import (
    NumbersError,
    Revision,
    claimed,
    family_state,
    from_controller_revision,
    resolve,
)

Obj = Mapping[str, Any]


def family_object(ctx: Context, family: str) -> Obj | None:
    """The EcsTaskDefinition that defines `family` (the oldest, when two claim it)."""
    return oldest_live(ctx.store.find(store.TASK_DEFINITION, family))


def revisions(ctx: Context, family: str) -> list[Revision]:
    """A family's revisions, oldest first, each with the status its EcsTaskDefinition gives it now (the
    records follow within a moment); a number claimed whose record is not written yet reads as its spec."""
    records = [from_controller_revision(o) for o in ctx.store.find(store.REVISION, family)]
    found = {r.number: r for r in records if r.family == family}
    owner = family_object(ctx, family)
    if owner is not None:
        try:
            state = family_state(owner)
        except NumbersError:
            state = None
        if state is not None:
            found = {
                n: Revision(r.family, r.number, r.data, state.status_of(n), r.name, r.registered_at)
                for n, r in found.items()
            }
            if state.latest and state.latest not in found and state.latest not in state.deleted:
                try:
                    request = parse_task_definition(owner.get("spec") or {})
                    found[state.latest] = claimed(owner, state, request)
                except SpecError:
                    pass
    return [found[n] for n in sorted(found)]


def resolve_revision(ctx: Context, reference: str) -> Revision | None:
    """`family`, `family:N` or an ARN -> the revision (`family` alone: the latest ACTIVE one)."""
    family, _ = identifiers.task_definition_reference(reference)
    return resolve(revisions(ctx, family), reference)
