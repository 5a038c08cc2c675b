"""Task definitions are regional: a family is an EcsTaskDefinition (cluster-scoped), its revisions are
immutable ControllerRevisions in the account namespace, usable from every cluster.

A revision `<family>:<N>` is the ControllerRevision `<family object name>-<N>`: `data` is the definition
(the normalized RegisterTaskDefinition request without its tags), `revision` is N, the label
`ecs.operator.dev/status` is ACTIVE, INACTIVE or DELETE_IN_PROGRESS. It has no owner: deleting the
EcsTaskDefinition does not erase the history, as in ECS.

What may change lives on the EcsTaskDefinition, written by whoever registers, deregisters, deletes or tags
(with their own Kubernetes rights):
- `ecs.operator.dev/latest-revision: N`: the highest number ever registered. Numbers are claimed there and
  never reused, also after revisions are deleted;
- `ecs.operator.dev/deregister: "1,3-5"`: the INACTIVE revisions (removing a number reactivates it);
- `ecs.operator.dev/delete: "2"`: revisions deleted (DeleteTaskDefinitions): DELETE_IN_PROGRESS until no
  service or task uses them, then the ControllerRevision goes;
- `ecs.operator.dev/revision-tags: {"3": [{"key": …, "value": …}]}`: each revision's tags.
The records (ControllerRevisions) are derived from these by the operator, and at once by the ECS API.

Everything here is pure.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import labels
from ecs_operator.identifiers import revision_name, task_definition_reference
from ecs_operator.naming import family_name, task_definition_object_name

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
STATUSES = (ACTIVE, INACTIVE, DELETE_IN_PROGRESS)


@dataclass(frozen=True)
class Revision:
    family: str
    number: int
    data: Mapping[str, Any]
    status: str
    name: str  # the ControllerRevision's name ("" while only claimed)
    registered_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def task_definition(self) -> str:
        return revision_name(self.family, self.number)


class NumbersError(ValueError):
    pass


DeregisterError = NumbersError


def revision_object_name(family: str, number: int) -> str:
    return f"{task_definition_object_name(family)}-{number}"


_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def family_label(family: str) -> str:
    """A label value for a family: the family itself when it fits the label syntax, else a digest."""
    if _LABEL_VALUE.match(family):
        return family
    return "sha256-" + hashlib.sha256(family.encode()).hexdigest()[:40]


def definition(request: Mapping[str, Any]) -> dict[str, Any]:
    """What a revision stores: the normalized request without its tags (tags may change, data may not)."""
    return {k: v for k, v in request.items() if k != "tags"}


def canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(definition(data), sort_keys=True, separators=(",", ":"))


# --- the annotations of an EcsTaskDefinition ------------------------------------------------------


def parse_numbers(value: str | None, annotation: str = labels.DEREGISTER) -> set[int]:
    """`"1,3-5"` -> {1, 3, 4, 5}; anything else names the annotation and the rule."""
    if not value or not value.strip():
        return set()
    numbers: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        if not low.isdigit() or int(low) < 1 or (dash and (not high.isdigit() or int(high) < int(low))):
            raise NumbersError(
                f"metadata.annotations[{annotation}]: {part!r} is not a revision number "
                '(expected a comma-separated list of positive integers or ranges, e.g. "1,3-5")'
            )
        numbers.update(range(int(low), int(high if dash else low) + 1))
    return numbers


parse_deregistered = parse_numbers


def format_numbers(numbers: Iterable[int]) -> str:
    """{1, 3, 4, 5} -> "1,3-5" (what `parse_numbers` reads back)."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = previous = None
    for number in [*ordered, None]:
        if number is not None and previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = number
    return ",".join(parts)


@dataclass(frozen=True)
class FamilyState:
    """What an EcsTaskDefinition's annotations say about its family's revisions."""

    latest: int  # the highest number claimed (0: none)
    deregistered: frozenset[int]
    deleted: frozenset[int]
    tags: Mapping[int, list[dict[str, str]]]

    def status_of(self, number: int) -> str:
        if number in self.deleted:
            return DELETE_IN_PROGRESS
        return INACTIVE if number in self.deregistered else ACTIVE


def family_state(body: Mapping[str, Any] | None) -> FamilyState:
    """Raises NumbersError naming the annotation when one cannot be read."""
    annotations = ((body or {}).get("metadata") or {}).get("annotations") or {}
    latest = str(annotations.get(labels.LATEST_REVISION) or "0").strip()
    if not latest.isdigit():
        raise NumbersError(f"metadata.annotations[{labels.LATEST_REVISION}]: {latest!r} is not a number")
    return FamilyState(
        latest=int(latest),
        deregistered=frozenset(parse_numbers(annotations.get(labels.DEREGISTER), labels.DEREGISTER)),
        deleted=frozenset(parse_numbers(annotations.get(labels.DELETE_REVISIONS), labels.DELETE_REVISIONS)),
        tags=_revision_tags(annotations.get(labels.REVISION_TAGS)),
    )


def _revision_tags(value: str | None) -> dict[int, list[dict[str, str]]]:
    if not value:
        return {}
    try:
        loaded = json.loads(value)
        return {int(k): [dict(t) for t in v] for k, v in dict(loaded).items()}
    except (ValueError, TypeError, AttributeError):
        raise NumbersError(
            f"metadata.annotations[{labels.REVISION_TAGS}]: not a JSON object of revision number -> tags"
        ) from None


def tags_annotation(tags: Mapping[int, Sequence[Mapping[str, str]]]) -> str | None:
    """The `revision-tags` annotation for these tags (None when no revision has any)."""
    kept = {str(n): [dict(t) for t in found] for n, found in sorted(tags.items()) if found}
    return json.dumps(kept, sort_keys=True, separators=(",", ":")) if kept else None


def next_number(state: FamilyState, revisions: Iterable[Revision]) -> int:
    """The number the next registration of the family claims: never one used before."""
    return max([state.latest, *(r.number for r in revisions)]) + 1


# --- the records ---------------------------------------------------------------------------------


def controller_revision(
    family: str, number: int, data: Mapping[str, Any], status: str, namespace: str
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision_object_name(family, number),
            "namespace": namespace,
            "labels": {
                labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                labels.FAMILY: family_label(family),
                labels.REVISION: str(number),
                labels.REVISION_STATUS: status,
            },
            "annotations": {labels.REVISION_FAMILY: family},
        },
        "data": definition(data),
        "revision": number,
    }


def from_controller_revision(obj: Mapping[str, Any]) -> Revision:
    metadata = obj["metadata"]
    data = obj.get("data") or {}
    family = (metadata.get("annotations") or {}).get(labels.REVISION_FAMILY) or data.get("family", "")
    status = (metadata.get("labels") or {}).get(labels.REVISION_STATUS, ACTIVE)
    return Revision(
        family=family,
        number=int(obj["revision"]),
        data=data,
        status=status if status in STATUSES else ACTIVE,
        name=metadata["name"],
        registered_at=metadata.get("creationTimestamp"),
    )


def claimed(body: Mapping[str, Any], state: FamilyState, request: Mapping[str, Any]) -> Revision:
    """The revision an EcsTaskDefinition has claimed (`latest-revision`) and whose record is not written
    yet: its spec is the definition the claim registered."""
    return Revision(
        family=family_name(body),
        number=state.latest,
        data=definition(request),
        status=state.status_of(state.latest),
        name="",
        registered_at=None,
    )


def resolve(revisions: Iterable[Revision], reference: str) -> Revision | None:
    """`family:N` -> that revision whatever its status (a running service keeps it); `family` -> the latest
    ACTIVE revision."""
    family, number = task_definition_reference(reference)
    candidates = [r for r in revisions if r.family == family]
    if number is not None:
        return next((r for r in candidates if r.number == number), None)
    active = [r for r in candidates if r.active]
    return max(active, key=lambda r: r.number) if active else None
