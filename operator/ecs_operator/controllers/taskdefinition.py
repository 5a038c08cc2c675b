"""EcsTaskDefinition (cluster-scoped: task definitions are regional) -> its family's revisions, immutable
ControllerRevisions in the account namespace; status lists them ACTIVE, INACTIVE and DELETE_IN_PROGRESS.

A new spec (a new generation) whose definition differs from the latest revision registers the next number,
claimed on the EcsTaskDefinition (`revisions.py` says how numbers are never reused). The ECS API registers
the same way and writes the revision at once; this controller writes whatever record is missing, keeps
every record's status label as the annotations say, and deletes a DELETE_IN_PROGRESS revision once no
service or task runs it. Services and tasks watch their family's revisions, so a new revision reaches them
through the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ecs_operator import labels
from ecs_operator.account import account_namespace, account_namespace_object
from ecs_operator.api import SpecError, parse_task_definition
from ecs_operator.controllers.gather import now, spec_of
from ecs_operator.controllers.sources import revision_family, revisions_in_use
from ecs_operator.naming import family_name
from ecs_operator.plans.plan import to_apply
from ecs_operator.revisions import (
    DELETE_IN_PROGRESS,
    FamilyState,
    NumbersError,
    Revision,
    canonical,
    controller_revision,
    definition,
    family_state,
    from_controller_revision,
    next_number,
    tags_annotation,
)
from ecs_operator.runtime import (
    Controller,
    Deletion,
    Event,
    Key,
    Patch,
    Plan,
    View,
    Watch,
    register,
    via_index,
)
from ecs_operator.status.problems import not_mapped, spec_error, spec_error_message, with_not_mapped
from ecs_operator.status.taskdefinition import task_definition_status
from ecs_operator.translate import translate_task_definition

KIND = "EcsTaskDefinition"


@dataclass(frozen=True)
class TaskDefinitionSnapshot:
    now: str
    body: dict[str, Any] | None
    revisions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # the family's records
    account: dict[str, Any] | None = None  # the account namespace, where the records live
    in_use: frozenset[str] = frozenset()  # `family:N` of its DELETE_IN_PROGRESS revisions still running
    older_twin: str | None = None  # an older EcsTaskDefinition of the same family, which owns it


def gather_task_definition(key: Key, view: View) -> TaskDefinitionSnapshot:
    body = view.custom_resource(KIND, key)
    if body is None:
        return TaskDefinitionSnapshot(now(), None)
    family = family_name(body)
    records = view.children(["ControllerRevision"], "family", family)
    deleting = [
        from_controller_revision(r)
        for r in records.values()
        if (r["metadata"].get("labels") or {}).get(labels.REVISION_STATUS) == DELETE_IN_PROGRESS
    ]
    in_use = frozenset(
        r.task_definition
        for r in deleting
        if view.count("EcsService", "uses", r.task_definition)
        or view.count("EcsTask", "uses", r.task_definition)
    )
    return TaskDefinitionSnapshot(
        now(),
        body,
        records,
        view.cached("Namespace", ("", account_namespace())),
        in_use,
        _older_twin(view, body, family),
    )


def _older_twin(view: View, body: dict[str, Any], family: str) -> str | None:
    mine = (str(body["metadata"].get("creationTimestamp") or ""), str(body["metadata"]["name"]))
    twins = [
        (str(o["metadata"].get("creationTimestamp") or ""), str(o["metadata"]["name"]))
        for o in view.by_index(KIND, "family", family)
    ]
    older = [t for t in twins if t < mine]
    return min(older)[1] if older else None


def reconcile_task_definition(key: Key, snapshot: TaskDefinitionSnapshot) -> Plan | None:
    body = snapshot.body
    if body is None or body["metadata"].get("deletionTimestamp"):
        return None
    previous = body.get("status") or {}
    generation = body["metadata"].get("generation")

    def refuse(reason: str, message: str) -> Plan:
        refused, warnings = spec_error(previous, generation, reason, message, snapshot.now)
        return Plan(body, status=refused, events=tuple(warnings))

    try:
        request = parse_task_definition(spec_of(body)).to_ecs()
        state = family_state(body)
    except (SpecError, NumbersError) as error:
        reason = "InvalidAnnotation" if isinstance(error, NumbersError) else "InvalidSpec"
        if isinstance(error, NumbersError) and labels.DEREGISTER in str(error):
            reason = "InvalidDeregistration"
        return refuse(reason, spec_error_message(error))
    family = str(request["family"])
    if snapshot.older_twin is not None:
        return refuse(
            "DuplicateFamily",
            f"spec.family: family {family!r} is already defined by EcsTaskDefinition {snapshot.older_twin}",
        )
    existing = sorted(
        (r for r in map(from_controller_revision, snapshot.revisions.values()) if r.family == family),
        key=lambda r: r.number,
    )
    number = _to_register(body, state, existing, request)
    revisions = [Revision(r.family, r.number, r.data, state.status_of(r.number), r.name) for r in existing]
    if number is not None:
        revisions.append(Revision(family, number, definition(request), state.status_of(number), ""))
    gone = [
        r for r in revisions if r.status == DELETE_IN_PROGRESS and r.task_definition not in snapshot.in_use
    ]
    kept = [r for r in revisions if r not in gone]
    namespace = account_namespace()
    desired = [controller_revision(r.family, r.number, r.data, r.status, namespace) for r in kept]
    if snapshot.account is None:
        desired.insert(0, account_namespace_object(namespace))
    events = _events(previous, existing, number, kept)
    live = {
        **snapshot.revisions,
        **({("Namespace", namespace): snapshot.account} if snapshot.account else {}),
    }
    writes = Plan(
        body,
        apply=to_apply(desired, live),
        patches=_claim(key, body, state, number, request),
        delete=tuple(Deletion("ControllerRevision", namespace, r.name) for r in gone if r.name),
        events=tuple(events),
    )
    if not kept:  # every revision deleted: the family keeps its number, nothing to report
        return writes
    latest = kept[-1]
    translation = translate_task_definition(
        latest.data, revision=latest.number, cluster="", namespace=namespace
    )
    lines, not_mapped_events = not_mapped(previous, translation.warnings)
    status = task_definition_status(previous, generation, family, kept, snapshot.now)
    return replace(writes, events=(*events, *not_mapped_events), status=with_not_mapped(status, lines))


def _to_register(
    body: dict[str, Any], state: FamilyState, existing: list[Revision], request: dict[str, Any]
) -> int | None:
    """The number to register the spec under: the claimed one whose record is missing, the next one when a
    new spec differs from the latest revision, else None. Only a new generation registers: a revision
    deleted or deregistered is never registered again by itself."""
    if (body.get("status") or {}).get("observedGeneration") == body["metadata"].get("generation"):
        return None
    numbers = {r.number for r in existing}
    if state.latest and state.latest not in numbers and state.latest not in state.deleted:
        return state.latest
    latest = existing[-1] if existing else None
    if latest is not None and canonical(latest.data) == canonical(request):
        return None
    return next_number(state, existing)


def _claim(
    key: Key, body: dict[str, Any], state: FamilyState, number: int | None, request: dict[str, Any]
) -> tuple[Patch, ...]:
    """The claim of a number this pass registers (and the spec's tags for it), after its record is written."""
    if number is None or number <= state.latest:
        return ()
    annotations: dict[str, Any] = {labels.LATEST_REVISION: str(number)}
    if request.get("tags"):
        annotations[labels.REVISION_TAGS] = tags_annotation({**state.tags, number: list(request["tags"])})
    return (Patch(KIND, key[0], key[1], {"metadata": {"annotations": annotations}}),)


def _events(
    previous: dict[str, Any], existing: list[Revision], registered: int | None, revisions: list[Revision]
) -> list[Event]:
    """Registered for the revision this pass registers and for those another writer registered since the
    last status (the ECS API); Deregistered/Reactivated when a record's status changes."""
    events: list[Event] = []
    known = previous.get("latestRevision")
    before = {r.number: r.status for r in existing}
    for revision in revisions:
        name = revision.task_definition
        if revision.number == registered or (known is not None and revision.number > int(known)):
            events.append(Event("Normal", "Registered", f"Registered task definition {name}."))
        elif revision.number in before and before[revision.number] != revision.status:
            reason = "Reactivated" if revision.active else "Deregistered"
            events.append(Event("Normal", reason, f"Task definition {name} is now {revision.status}."))
    return events


CONTROLLER = register(
    Controller(
        kind=KIND,
        gather=gather_task_definition,
        reconcile=reconcile_task_definition,
        watches=(
            Watch("ControllerRevision", via_index(KIND, "family", revision_family)),
            Watch("EcsService", via_index(KIND, "family", lambda o: _families(o)), reads=revisions_in_use),
            Watch("EcsTask", via_index(KIND, "family", lambda o: _families(o)), reads=revisions_in_use),
        ),
        applies=("Namespace", "ControllerRevision"),
        deletes=("ControllerRevision",),
        patches=(KIND,),
        workers=4,
        debounce=0.5,
    )
)


def _families(obj: Any) -> list[str]:
    return sorted({reference.rpartition(":")[0] for reference in revisions_in_use(obj)})
