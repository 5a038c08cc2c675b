"""What a status says about a spec the operator cannot honour, the same way for every kind: spec errors
(Degraded, naming the fields) and members Kubernetes cannot map (`notMapped`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.plans.plan import Event
from ecs_operator.status.conditions import DEGRADED, condition_of, merge_conditions, triple

NOT_MAPPED = "notMapped"


def spec_error(
    previous: Mapping[str, Any], generation: int | None, reason: str, message: str, now: str
) -> tuple[dict[str, Any], list[Event]]:
    """A spec that cannot be honoured: Degraded naming the fields, the rest of the status kept, and a
    Warning Event the first time this message is seen (not on every pass, not after a restart)."""
    status = dict(previous)
    status["observedGeneration"] = generation
    status["conditions"] = merge_conditions(
        previous.get("conditions"),
        triple(
            ready=False,
            progressing=False,
            degraded=True,
            reason=reason,
            message=message,
            generation=generation,
        ),
        now,
    )
    old = condition_of(previous.get("conditions"), DEGRADED)
    seen = old.get("status") == "True" and old.get("message") == message
    return status, [] if seen else [Event("Warning", reason, message)]


def spec_error_message(error: Exception) -> str:
    """A SpecError as one line per field (`path: message`), joined for a condition message."""
    return "; ".join(line for line in str(error).splitlines() if line.strip())


def not_mapped(previous: Mapping[str, Any], warnings: Sequence[Any]) -> tuple[list[str], list[Event]]:
    """The members Kubernetes cannot honour, as `path: message` lines for `status.notMapped`, and a
    `NotMapped` Warning Event when that list changes (never silently dropped, never repeated)."""
    lines = [f"{w.path}: {w.message}" for w in warnings]
    if not lines or lines == list(previous.get(NOT_MAPPED) or ()):
        return lines, []
    return lines, [Event("Warning", "NotMapped", "; ".join(lines))]


def with_not_mapped(status: dict[str, Any], lines: Sequence[str]) -> dict[str, Any]:
    if lines:
        status[NOT_MAPPED] = list(lines)
    return status
