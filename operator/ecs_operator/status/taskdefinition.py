"""EcsTaskDefinition status: the family's revisions (ACTIVE, INACTIVE, DELETE_IN_PROGRESS) and conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.identifiers import revision_name
from ecs_operator.revisions import ACTIVE, DELETE_IN_PROGRESS, INACTIVE, Revision
from ecs_operator.status.conditions import merge_conditions, triple


def task_definition_status(
    previous: Mapping[str, Any], generation: int | None, family: str, revisions: Sequence[Revision], now: str
) -> dict[str, Any]:
    latest = max(r.number for r in revisions)

    def numbers(status: str) -> list[int]:
        return sorted(r.number for r in revisions if r.status == status)

    active = numbers(ACTIVE)
    listed = ", ".join(map(str, active)) or "none"
    message = f"{revision_name(family, latest)} registered; ACTIVE revisions: {listed}."
    conditions = triple(
        ready=True,
        progressing=False,
        degraded=False,
        reason="Registered",
        message=message,
        generation=generation,
    )
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "family": family,
        "latestRevision": latest,
        "taskDefinition": revision_name(family, latest),
        "activeRevisions": active,
        "inactiveRevisions": numbers(INACTIVE),
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
    }
    deleting = numbers(DELETE_IN_PROGRESS)
    if deleting:
        status["deleteInProgressRevisions"] = deleting
    return status
