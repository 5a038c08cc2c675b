"""Running podman on machines without a Docker engine, with a containers.conf that fits the host.

Two host limits break podman's defaults: a root that cannot raise RLIMIT_NOFILE (podman asks containers for
1048576 open files) and cgroups in hybrid mode, which crun refuses. The file written here asks for the
limits the host allows and, on cgroup v1 or hybrid hosts, for runc. It is passed in `CONTAINERS_CONF` to
our podman commands only; the system's configuration is left alone.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ecs_operator.localcluster import versions
from ecs_operator.localcluster.errors import LocalClusterError

CGROUP_V2_ONLY = Path("/sys/fs/cgroup/cgroup.controllers")
TIMEOUT_SECONDS = 1800


def containers_conf(nofile: int, nproc: int, cgroup_v2_only: bool) -> str:
    lines = [
        "# Written by ecs-operator for its own podman commands (see localcluster/podman.py).",
        "[containers]",
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]',
        "[engine]",
        'events_logger = "file"',
    ]
    if not cgroup_v2_only:
        lines.append('runtime = "runc"')
    if not Path("/run/systemd/system").is_dir():
        lines.append('cgroup_manager = "cgroupfs"')
    return "\n".join(lines) + "\n"


def _hard_limit(which: int, fallback: int) -> int:
    hard = resource.getrlimit(which)[1]
    return fallback if hard == resource.RLIM_INFINITY else min(hard, fallback)


def config_file() -> Path:
    text = containers_conf(
        nofile=_hard_limit(resource.RLIMIT_NOFILE, 1048576),
        nproc=_hard_limit(resource.RLIMIT_NPROC, 32768),
        cgroup_v2_only=CGROUP_V2_ONLY.exists(),
    )
    path = versions.cache_root() / "podman" / "containers.conf"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def binary() -> str:
    found = shutil.which("podman")
    if found is None:
        raise LocalClusterError(
            "`podman` was not found on PATH; it builds the images here when no Docker engine runs "
            "(Debian: `apt-get install podman buildah runc`)"
        )
    return found


def environment() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(config_file())}


def run(args: Sequence[str], *, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    """`podman <args>`; output captured (or passed through with `capture=False`); failures explained."""
    result = subprocess.run(
        [binary(), *args],
        env=environment(),
        capture_output=capture,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT_SECONDS,
    )
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip()[-2000:] if capture else "(its output is above)"
        raise LocalClusterError(f"`podman {' '.join(args)}` exited with {result.returncode}: {detail}")
    return result


def image_exists(name: str) -> bool:
    return run(["image", "exists", name], check=False).returncode == 0


def image_label(name: str, label: str) -> str | None:
    result = run(["image", "inspect", "--format", f'{{{{index .Labels "{label}"}}}}', name], check=False)
    value = result.stdout.strip()
    return value if result.returncode == 0 and value and value != "<no value>" else None
