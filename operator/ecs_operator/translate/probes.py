"""ECS container health checks → exec probes.

ECS semantics kept: an essential container that turns unhealthy is replaced (liveness), an unhealthy task is
not in service (readiness), failures during `startPeriod` do not count (a startup probe that tolerates them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_INTERVAL = 30
DEFAULT_TIMEOUT = 5
DEFAULT_RETRIES = 3


@dataclass(frozen=True)
class HealthProbes:
    readiness: dict[str, Any]
    liveness: dict[str, Any]
    startup: dict[str, Any] | None


# Why a health check gives no probe: (member of the healthCheck at fault, message); None when it says so.
NoProbe = tuple[str, str] | None


def exec_command(command: list[str]) -> tuple[list[str] | None, NoProbe]:
    """The exec probe command of an ECS health check command, or (None, why not)."""
    if not command:
        return None, ("command", "empty: no probe")
    head, rest = command[0], list(command[1:])
    if head == "NONE":
        return None, None
    if head == "CMD":
        return (rest, None) if rest else (None, ("command", "nothing after CMD: no probe"))
    if head == "CMD-SHELL":
        if not rest:
            return None, ("command", "nothing after CMD-SHELL: no probe")
        return ["/bin/sh", "-c", " ".join(rest)], None
    # ECS registers it; Docker skips a check of a kind it does not know, so the container never has one.
    return None, (
        "command[0]",
        f"{head!r} is not CMD, CMD-SHELL or NONE: Docker ignores it, the check is not run",
    )


def check_is_run(health_check: Mapping[str, Any] | None) -> bool:
    """Whether the container has a health check Docker runs (so it can turn HEALTHY)."""
    command = (health_check or {}).get("command") or []
    return exec_command([str(part) for part in command])[0] is not None


def health_probes(
    health_check: Mapping[str, Any], *, grace_period: int = 0, always_startup: bool = False
) -> tuple[HealthProbes | None, NoProbe]:
    command, problem = exec_command([str(part) for part in health_check.get("command") or []])
    if command is None:
        return None, problem
    interval = int(health_check.get("interval") or DEFAULT_INTERVAL)
    timeout = int(health_check.get("timeout") or DEFAULT_TIMEOUT)
    retries = int(health_check.get("retries") or DEFAULT_RETRIES)
    start_period = int(health_check.get("startPeriod") or 0)

    def probe(**extra: int) -> dict[str, Any]:
        body: dict[str, Any] = {"exec": {"command": list(command)}}
        body.update({"periodSeconds": interval, "timeoutSeconds": timeout, "failureThreshold": retries})
        body.update({k: v for k, v in extra.items() if v})
        return body

    startup = None
    if start_period or always_startup:
        startup = probe(failureThreshold=math.ceil(start_period / interval) + retries)
    return HealthProbes(
        readiness=probe(successThreshold=1),
        liveness=probe(initialDelaySeconds=grace_period),
        startup=startup,
    ), None
