"""CPU time of the local control plane's processes (and the bench's own), read from /proc.

Only meaningful on the local cluster, whose processes run on this machine; elsewhere nothing is found and
nothing is reported.
"""

from __future__ import annotations

import os
from pathlib import Path

from ecs_operator.subprocesses import process_cpu_seconds

PROCESSES = (
    "kube-apiserver",
    "etcd",
    "kube-controller",
    "kube-scheduler",
    "kwok",
)  # as /proc's comm has them


def control_plane_pids() -> dict[str, int]:
    found: dict[str, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                name = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if name in PROCESSES:
                found[name] = int(entry)
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds of each process so far; one that has gone is left out."""
    used = {}
    for name, pid in pids.items():
        try:
            used[name] = process_cpu_seconds(pid)
        except OSError:
            continue
    return used


def used_since(pids: dict[str, int], before: dict[str, float]) -> dict[str, float]:
    """CPU seconds since `before` of the processes that were there then and still are."""
    now = cpu_seconds(pids)
    return {name: now[name] - before[name] for name in now if name in before}


def describe(used: dict[str, float]) -> str:
    """`12.3s: kube-apiserver 7.5, kwok 2.2, …`, largest first."""
    largest_first = sorted(used.items(), key=lambda kv: -kv[1])
    parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in largest_first)
    return f"{sum(used.values()):.1f}s: {parts}"
