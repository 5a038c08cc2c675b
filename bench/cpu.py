"""CPU time of the local control plane's processes (and the bench's own), read from /proc.

Only meaningful on the local cluster, whose processes run on this machine; elsewhere nothing is found and
nothing is reported.
"""

from __future__ import annotations

from pathlib import Path

from ecs_operator.subprocesses import process_cpu_seconds


def control_plane_pids(state_dir: Path) -> dict[str, int]:
    """The processes of the local cluster in `state_dir`, as its state file records them (several local
    clusters may run on one machine: finding them by name would mix them up)."""
    from ecs_operator.localcluster import cluster, state

    recorded = state.load(cluster.layout(state_dir).state_file)
    if recorded is None:
        return {}
    return {name: record.pid for name, record in recorded.processes.items()}


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
