"""EcsTaskDefinition status: the family's revisions, ACTIVE and INACTIVE, and conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.revisions import Revision
from ecs_operator.status.conditions import merge_conditions, triple


def task_definition_status(
    previous: Mapping[str, Any], generation: int | None, family: str, revisions: Sequence[Revision], now: str
) -> dict[str, Any]:
    latest = max(r.number for r in revisions)
    active = sorted(r.number for r in revisions if r.active)
    inactive = sorted(r.number for r in revisions if not r.active)
    message = f"{family}:{latest} registered; ACTIVE revisions: {', '.join(map(str, active)) or 'none'}."
    conditions = triple(
        ready=True,
        progressing=False,
        degraded=False,
        reason="Registered",
        message=message,
        generation=generation,
    )
    return {
        "observedGeneration": generation,
        "family": family,
        "latestRevision": latest,
        "taskDefinition": f"{family}:{latest}",
        "activeRevisions": active,
        "inactiveRevisions": inactive,
        "conditions": merge_conditions(previous.get("conditions"), conditions, now),
    }
