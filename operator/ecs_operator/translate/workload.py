"""Pieces service and task translation share: task-definition overrides of the pool, tag propagation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.translate.placement import node_pool
from ecs_operator.translate.result import TranslationWarning


def pool_of(
    request: Mapping[str, Any],
    taskdef: Mapping[str, Any],
    default_strategy: Sequence[Mapping[str, Any]] | None,
) -> tuple[str, list[TranslationWarning]]:
    return node_pool(
        launch_type=str(request.get("launchType") or "") or None,
        strategy=request.get("capacityProviderStrategy") or None,
        default_strategy=default_strategy,
        compatibilities=[str(c) for c in taskdef.get("requiresCompatibilities") or ()],
        path="",
    )


def propagated_tags(request: Mapping[str, Any], taskdef: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The tags ECS would put on the tasks (`propagateTags`)."""
    propagate = request.get("propagateTags")
    if propagate == "SERVICE":
        return list(request.get("tags") or ())
    if propagate == "TASK_DEFINITION":
        return list(taskdef.get("tags") or ())
    return []
