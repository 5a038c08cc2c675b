"""The AWS CLI's waiters, run on the operations layer: botocore's acceptor rules (copied into
`model.WAITERS`), evaluated with JMESPath exactly as botocore's `Waiter` does."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jmespath

from ecs_operator.awsmodel.ecs import WAITERS
from ecs_operator.ecsapi.errors import EcsError

# `kubectl ecs wait <name>` -> botocore's waiter name.
NAMES = {
    "services-stable": "ServicesStable",
    "services-inactive": "ServicesInactive",
    "tasks-running": "TasksRunning",
    "tasks-stopped": "TasksStopped",
}


class WaiterError(Exception):
    """The waiter reached a failure state or ran out of attempts (botocore's wording)."""


def _matches(acceptor: Mapping[str, Any], response: Mapping[str, Any] | None, error: EcsError | None) -> bool:
    matcher = acceptor["matcher"]
    expected = acceptor["expected"]
    if matcher == "error":
        return error is not None and (expected is True or error.code == expected)
    if response is None:
        return False
    found = jmespath.search(acceptor["argument"], response)
    if matcher == "path":
        return bool(found == expected)
    if matcher == "pathAll":
        return isinstance(found, list) and bool(found) and all(v == expected for v in found)
    if matcher == "pathAny":
        return isinstance(found, list) and any(v == expected for v in found)
    raise ValueError(f"unknown matcher {matcher}")


def wait(
    name: str,
    call: Callable[[str, dict[str, Any]], dict[str, Any]],
    request: dict[str, Any],
    delay: float | None = None,
    max_attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll `call(operation, request)` by the waiter's rules; the last response on success."""
    waiter = WAITERS[name]
    delay = waiter["delay"] if delay is None else delay
    attempts = waiter["maxAttempts"] if max_attempts is None else max_attempts
    for attempt in range(1, attempts + 1):
        response: dict[str, Any] | None = None
        error: EcsError | None = None
        try:
            response = call(waiter["operation"], request)
        except EcsError as caught:
            error = caught
        state = next((a["state"] for a in waiter["acceptors"] if _matches(a, response, error)), None)
        if state == "success":
            return response or {}
        if state == "failure":
            raise WaiterError(f"Waiter {name} failed: Waiter encountered a terminal failure state")
        if error is not None:
            raise WaiterError(f"Waiter {name} failed: {error.code}: {error.message}")
        if attempt < attempts:
            sleep(delay)
    raise WaiterError(f"Waiter {name} failed: Max attempts exceeded")
