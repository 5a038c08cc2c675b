"""Starting component processes detached from the terminal, and stopping exactly those.

A component is started by a short-lived `sh` in a new session that backgrounds it and prints its pid, so
the component is not our child: it survives the `up` command, never becomes our zombie, and no terminal
signal (Ctrl-C, hang-up) reaches it. A pid is identified together with its start time, so a pid reused by
an unrelated process after a reboot or crash is never signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ecs_operator.localcluster.errors import LocalClusterError

LAUNCHER = 'log="$1"; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'
# kube-apiserver sometimes stays up long after it stopped listening when clients keep watches open;
# nothing here needs a clean shutdown (etcd runs without fsync anyway), so do not wait long.
STOP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    start_time: int
    args: tuple[str, ...]


PROC = Path("/proc")


def start_time_of(pid: int) -> int | None:
    """The process start time in clock ticks since boot (/proc/<pid>/stat field 22); None if gone.

    Without /proc (macOS) a live pid reads as start time 0: pid reuse then goes undetected.
    """
    if not PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after it are plain.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def is_running(record: ProcessRecord) -> bool:
    return start_time_of(record.pid) == record.start_time


def start(args: Sequence[str], log: Path) -> ProcessRecord:
    if not os.access(args[0], os.X_OK):
        raise LocalClusterError(
            f"{args[0]} is missing or not executable; run `ecs-operator local-cluster build`"
        )
    log.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["sh", "-c", LAUNCHER, "launcher", str(log), *args],
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        raise LocalClusterError(
            f"could not start {args[0]}: {result.stderr.strip() or result.stdout.strip()}"
        )
    pid = int(result.stdout.strip())
    started = start_time_of(pid)
    if started is None:
        raise LocalClusterError(f"{Path(args[0]).name} exited at once; its log: {log}")
    return ProcessRecord(pid=pid, start_time=started, args=tuple(args))


def stop(record: ProcessRecord, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM, then SIGKILL after `timeout`; returns once the process is gone."""
    if not is_running(record):
        return
    _signal(record, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_running(record):
        if time.monotonic() > deadline:
            _signal(record, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.05)


def _signal(record: ProcessRecord, signum: int) -> None:
    try:
        os.kill(record.pid, signum)
    except ProcessLookupError:
        pass


def record_of(pid: int) -> ProcessRecord | None:
    """The record of a running process (None when it is gone)."""
    started = start_time_of(pid)
    if started is None:
        return None
    try:
        args = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        args = []
    return ProcessRecord(pid=pid, start_time=started, args=tuple(args))


def matching(wanted: Callable[[list[str]], bool]) -> list[ProcessRecord]:
    """Running processes whose command line (a list of arguments) `wanted` accepts."""
    found: list[ProcessRecord] = []
    if not PROC.is_dir():
        return found
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
        except OSError:
            continue
        if not args or not wanted(args):
            continue
        started = start_time_of(int(entry.name))
        if started is not None:
            found.append(ProcessRecord(pid=int(entry.name), start_time=started, args=tuple(args)))
    return found


def strays(bin_dir: Path, owned_paths: set[str]) -> list[ProcessRecord]:
    """Processes running one of our binaries with a flag whose value is one of `owned_paths`.

    They are what a killed `up` started before it could record them. Values are compared whole, so the
    cluster in `.local` never claims the processes of another cluster in `.local/dev`.
    """

    def ours(args: list[str]) -> bool:
        values = {arg.split("=", 1)[1] for arg in args if "=" in arg}
        return args[0].startswith(f"{bin_dir}/") and bool(values & owned_paths)

    return matching(ours)
