"""Kubernetes conditions every kind reports: Ready, Progressing and Degraded, built one way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, get_args

ConditionType = Literal["Ready", "Progressing", "Degraded"]
CONDITION_TYPES: tuple[str, ...] = get_args(ConditionType)
READY, PROGRESSING, DEGRADED = CONDITION_TYPES


def condition(
    condition_type: str, status: bool | None, reason: str, message: str, generation: int | None
) -> dict[str, Any]:
    value = "Unknown" if status is None else ("True" if status else "False")
    result: dict[str, Any] = {"type": condition_type, "status": value, "reason": reason, "message": message}
    if generation is not None:
        result["observedGeneration"] = generation
    return result


def triple(
    *,
    ready: bool,
    progressing: bool,
    degraded: bool,
    reason: str,
    message: str,
    generation: int | None,
    reasons: Mapping[str, str] | None = None,
    messages: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Ready, Progressing and Degraded sharing a reason and message (`reasons`/`messages` override one)."""
    values = {READY: ready, PROGRESSING: progressing, DEGRADED: degraded}
    return [
        condition(
            kind,
            values[kind],
            (reasons or {}).get(kind, reason),
            (messages or {}).get(kind, message),
            generation,
        )
        for kind in CONDITION_TYPES
    ]


def merge_conditions(
    previous: Sequence[Mapping[str, Any]] | None, current: Iterable[Mapping[str, Any]], now: str
) -> list[dict[str, Any]]:
    """`current` with lastTransitionTime kept from `previous` where the status value did not change."""
    before = {c.get("type"): c for c in previous or ()}
    merged = []
    for cond in current:
        item = dict(cond)
        old = before.get(item["type"])
        if old is not None and old.get("status") == item["status"] and old.get("lastTransitionTime"):
            item["lastTransitionTime"] = old["lastTransitionTime"]
        else:
            item["lastTransitionTime"] = now
        merged.append(item)
    return merged


def condition_of(conditions: Sequence[Mapping[str, Any]] | None, condition_type: str) -> Mapping[str, Any]:
    return next((c for c in conditions or () if c.get("type") == condition_type), {})


def condition_status(conditions: Sequence[Mapping[str, Any]] | None, condition_type: str) -> str | None:
    value = condition_of(conditions, condition_type).get("status")
    return str(value) if value is not None else None
