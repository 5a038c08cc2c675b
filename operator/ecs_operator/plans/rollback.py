"""Which revision a service runs: the one it names, unless the deployment circuit breaker's rollback
returns to the last deployment whose rollout COMPLETED while the service still names the one that FAILED.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator.revisions import Revision, resolve
from ecs_operator.status.deployments import failed, last_completed


@dataclass(frozen=True)
class Choice:
    target: Revision  # the revision the service names
    chosen: Revision  # the one to run: the target, or the last completed one after a failed rollout


def circuit_breaker(service: Mapping[str, Any]) -> tuple[bool, bool]:
    """(enabled, rollback) of the service's deployment circuit breaker."""
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    return bool(breaker.get("enable")), bool(breaker.get("enable") and breaker.get("rollback"))


def choose_revision(
    reference: str, revisions: Sequence[Revision], previous: Sequence[Mapping[str, Any]], rollback: bool
) -> Choice | None:
    """The revision `reference` names, and the one to run; None when the reference resolves to nothing."""
    target = resolve(revisions, reference)
    if target is None:
        return None
    if rollback and failed(previous, target.task_definition):
        completed = last_completed(previous)
        return Choice(target, (resolve(revisions, completed) if completed else None) or target)
    return Choice(target, target)
