"""EcsTaskDefinition -> immutable revisions (ControllerRevisions); status lists them ACTIVE and INACTIVE.

Every spec change registers the next revision; a spec equal to the latest registers nothing. The revisions
listed in the `ecs.operator.dev/deregister` annotation are INACTIVE. Services and tasks watch the
revisions of their family, so a new revision reaches them through the cache, not through a call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.api import SpecError, parse_task_definition
from ecs_operator.controllers.common import spec_of
from ecs_operator.controllers.sources import revision_owner
from ecs_operator.revisions import (
    DeregisterError,
    Revision,
    controller_revision,
    from_controller_revision,
    next_revision_number,
    parse_deregistered,
)
from ecs_operator.runtime import Controller, Event, Key, Plan, View, Watch, register
from ecs_operator.runtime.plan import to_apply
from ecs_operator.status.common import not_mapped, now, spec_error, spec_error_message, with_not_mapped
from ecs_operator.status.taskdefinition import task_definition_status
from ecs_operator.translate import translate_task_definition

KIND = "EcsTaskDefinition"


@dataclass(frozen=True)
class TaskDefinitionSnapshot:
    now: str
    body: dict[str, Any] | None
    revisions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # its ControllerRevisions


def gather_task_definition(key: Key, view: View) -> TaskDefinitionSnapshot:
    body = view.custom_resource(KIND, key)
    if body is None:
        return TaskDefinitionSnapshot(now(), None)
    return TaskDefinitionSnapshot(now(), body, view.children(["ControllerRevision"], "owner", key))


def reconcile_task_definition(key: Key, snapshot: TaskDefinitionSnapshot) -> Plan | None:
    body = snapshot.body
    if body is None or body["metadata"].get("deletionTimestamp"):
        return None
    previous = body.get("status") or {}
    generation = body["metadata"].get("generation")
    try:
        data = parse_task_definition(spec_of(body)).to_ecs()
        deregistered = parse_deregistered((body["metadata"].get("annotations") or {}).get(labels.DEREGISTER))
    except (SpecError, DeregisterError) as error:
        reason = "InvalidDeregistration" if isinstance(error, DeregisterError) else "InvalidSpec"
        refused, warnings = spec_error(previous, generation, reason, spec_error_message(error), snapshot.now)
        return Plan(body, status=refused, events=tuple(warnings))
    family = str(data["family"])
    existing = sorted(
        (r for r in map(from_controller_revision, snapshot.revisions.values()) if r.family == family),
        key=lambda r: r.number,
    )
    events: list[Event] = []
    number = next_revision_number(existing, data)
    registered = []
    if number is not None:
        registered = [Revision(family, number, data, number not in deregistered, "")]
        events.append(Event("Normal", "Registered", f"Registered task definition {family}:{number}."))
    revisions = [
        Revision(r.family, r.number, r.data, r.number not in deregistered, r.name)
        for r in [*existing, *registered]
    ]
    for before, after in zip(existing, revisions, strict=False):
        if before.active != after.active:
            state = "ACTIVE" if after.active else "INACTIVE"
            reason = "Reactivated" if after.active else "Deregistered"
            events.append(Event("Normal", reason, f"Task definition {after.task_definition} is now {state}."))
    desired = [controller_revision(body, family, r.number, r.data, r.active) for r in revisions]
    latest = revisions[-1]
    translation = translate_task_definition(
        latest.data, revision=latest.number, cluster=key[0], namespace=key[0]
    )
    lines, not_mapped_events = not_mapped(previous, translation.warnings)
    status = task_definition_status(previous, generation, family, revisions, snapshot.now)
    return Plan(
        body,
        apply=to_apply(desired, snapshot.revisions),
        events=(*events, *not_mapped_events),
        status=with_not_mapped(status, lines),
    )


CONTROLLER = register(
    Controller(
        kind=KIND,
        gather=gather_task_definition,
        reconcile=reconcile_task_definition,
        watches=(Watch("ControllerRevision", lambda revision, _: revision_owner(revision)),),
        applies=("ControllerRevision",),
        workers=4,
        debounce=0.5,
    )
)
