"""Task definition revisions, stored as ControllerRevisions owned by their EcsTaskDefinition.

Each revision is immutable: `data` is the normalized ECS JSON (`spec.to_ecs()`), `revision` is N, and the
name is `<EcsTaskDefinition name>-<N>` (the last `-` separates N, so names never collide). A revision is
ACTIVE unless its number is listed in the EcsTaskDefinition annotation `ecs.operator.dev/deregister`
(e.g. `"1,3"`): the operator then labels it `ecs.operator.dev/status=INACTIVE`. Services already running an
INACTIVE revision keep running it; a service naming only the family gets the latest ACTIVE revision.

Everything here is pure: the operator reads the revisions from its watch cache and applies what
`controller_revision` builds.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import labels
from ecs_operator.translate.metadata import owner_identity, owner_references

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"

_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_ARN = re.compile(r"^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition/(?P<ref>.+)$")


@dataclass(frozen=True)
class Revision:
    family: str
    number: int
    data: Mapping[str, Any]
    active: bool
    name: str

    @property
    def task_definition(self) -> str:
        return f"{self.family}:{self.number}"


class DeregisterError(ValueError):
    pass


def revision_name(owner_name: str, number: int) -> str:
    return f"{owner_name}-{number}"


def family_label(family: str) -> str:
    """A label value for a family: the family itself when it fits the label syntax, else a digest."""
    if _LABEL_VALUE.match(family):
        return family
    return "sha256-" + hashlib.sha256(family.encode()).hexdigest()[:40]


def canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def parse_deregistered(value: str | None) -> set[int]:
    """`"1,3, 4"` -> {1, 3, 4}; anything else names the annotation and the rule."""
    if not value or not value.strip():
        return set()
    numbers = set()
    for part in value.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise DeregisterError(
                f"metadata.annotations[{labels.DEREGISTER}]: {part!r} is not a revision number "
                '(expected a comma-separated list of positive integers, e.g. "1,3")'
            )
        numbers.add(int(part))
    return numbers


def next_revision_number(existing: Sequence[Revision], data: Mapping[str, Any]) -> int | None:
    """The number to register `data` under, or None when it equals the latest revision (nothing to do)."""
    if not existing:
        return 1
    latest = max(existing, key=lambda r: r.number)
    if canonical(latest.data) == canonical(data):
        return None
    return latest.number + 1


def parse_reference(reference: str) -> tuple[str, int | None]:
    """`family`, `family:N` or a task definition ARN -> (family, N or None)."""
    match = _ARN.match(reference)
    if match:
        reference = match.group("ref")
    family, sep, number = reference.rpartition(":")
    if sep and number.isdigit():
        return family, int(number)
    return reference, None


def resolve(revisions: Iterable[Revision], reference: str) -> Revision | None:
    """`family:N` -> that revision whatever its status; `family` -> the latest ACTIVE revision."""
    family, number = parse_reference(reference)
    candidates = [r for r in revisions if r.family == family]
    if number is not None:
        return next((r for r in candidates if r.number == number), None)
    active = [r for r in candidates if r.active]
    return max(active, key=lambda r: r.number) if active else None


def controller_revision(
    owner: Mapping[str, Any], family: str, number: int, data: Mapping[str, Any], active: bool
) -> dict[str, Any]:
    metadata = owner["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision_name(metadata["name"], number),
            "namespace": metadata["namespace"],
            "labels": {
                labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                labels.FAMILY: family_label(family),
                labels.REVISION: str(number),
                labels.REVISION_STATUS: ACTIVE if active else INACTIVE,
            },
            "annotations": {labels.REVISION_FAMILY: family},
            "ownerReferences": owner_references(owner_identity(owner)),
        },
        "data": dict(data),
        "revision": number,
    }


def from_controller_revision(obj: Mapping[str, Any]) -> Revision:
    metadata = obj["metadata"]
    data = obj.get("data") or {}
    family = (metadata.get("annotations") or {}).get(labels.REVISION_FAMILY) or data.get("family", "")
    return Revision(
        family=family,
        number=int(obj["revision"]),
        data=data,
        active=(metadata.get("labels") or {}).get(labels.REVISION_STATUS, ACTIVE) == ACTIVE,
        name=metadata["name"],
    )
