"""What the real node needs from the host, and the host state it changes: cgroups, mounts, kernel settings.

The kubelet sets six kernel settings to the values it expects (it refuses to run otherwise). They are not
namespaced, so the host's values are recorded once, before the first real node on the machine starts (two
clones may each run one), and the last real node to go down writes them back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from ecs_operator.localcluster.errors import LocalClusterError

CGROUP_ROOT = Path("/sys/fs/cgroup")
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
# command -> the Debian package that has it
COMMANDS = {
    "containerd": "containerd",
    "ctr": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "ip": "iproute2",
    "nsenter": "util-linux",
    "podman": "podman",
    "debootstrap": "debootstrap",
    "openssl": "openssl",
}
APT_PACKAGES = (
    "containerd runc containernetworking-plugins iptables podman buildah debootstrap uidmap "
    "fuse-overlayfs slirp4netns netavark aardvark-dns conntrack"
)
KUBELET_SYSCTLS = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)
PROC_SYS = Path("/proc/sys")
# On tmpfs: a reboot resets both the kernel settings and the record.
KERNEL_RECORD = Path("/run/ecs-operator/kernel-settings.json")


def missing_prerequisites(cni_dir: Path) -> list[str]:
    problems = []
    if os.geteuid() != 0:
        problems.append("the real node needs root (network namespaces, mounts, cgroups)")
    missing = sorted({package for command, package in COMMANDS.items() if shutil.which(command) is None})
    if missing:
        problems.append(f"missing commands from the Debian packages {', '.join(missing)}")
    absent = [plugin for plugin in CNI_PLUGINS if not (cni_dir / plugin).exists()]
    if absent:
        problems.append(
            f"missing CNI plugins in {cni_dir}: {', '.join(absent)} (containernetworking-plugins)"
        )
    return problems


def check_prerequisites(cni_dir: Path) -> None:
    problems = missing_prerequisites(cni_dir)
    if problems:
        raise LocalClusterError(
            "the real node cannot start here: " + "; ".join(problems) + f". On Debian 12, as root: "
            f"`apt-get install --no-install-recommends {APT_PACKAGES}` (see docs/local-cluster.md)"
        )


def _sysctl_path(name: str) -> Path:
    return PROC_SYS / name.replace(".", "/")


def read_sysctls(names: Iterable[str] | None = None) -> dict[str, str]:
    """The current values of `names`, by default the kubelet's six."""
    wanted = KUBELET_SYSCTLS if names is None else names
    return {name: _sysctl_path(name).read_text(encoding="ascii").strip() for name in wanted}


def remember_kernel_settings(record: Path = KERNEL_RECORD) -> None:
    """Keep the host's values of the kubelet's kernel settings, unless a running real node kept them."""
    if not record.exists():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(read_sysctls()), encoding="utf-8")


def restore_kernel_settings(others_running: bool, record: Path = KERNEL_RECORD) -> list[str]:
    """Put the recorded values back once no real node runs any more; return `name=value` of each written."""
    if others_running or not record.exists():
        return []
    restored = restore_sysctls(json.loads(record.read_text(encoding="utf-8")))
    record.unlink()
    try:
        record.parent.rmdir()
    except OSError:
        pass  # holds something else
    return restored


def restore_sysctls(values: dict[str, str]) -> list[str]:
    """Write back the recorded values that differ now; return `name=value` for each one written."""
    restored = []
    for name, value in values.items():
        path = _sysctl_path(name)
        if path.read_text(encoding="ascii").strip() != value:
            path.write_text(value, encoding="ascii")
            restored.append(f"{name}={value}")
    return restored


def cgroup_dirs(name: str) -> list[Path]:
    """`<hierarchy>/<name>` in every mounted hierarchy (v1 controllers, the named systemd one, v2)."""
    found = []
    for hierarchy in sorted(CGROUP_ROOT.iterdir()) if CGROUP_ROOT.is_dir() else []:
        if (hierarchy / "cgroup.procs").exists():
            found.append(hierarchy / name)
    if (CGROUP_ROOT / "cgroup.procs").exists() and not found:
        found.append(CGROUP_ROOT / name)
    return found


def create_cgroups(name: str) -> None:
    """The kubelet's cgroupRoot must exist in every hierarchy before it starts."""
    for directory in cgroup_dirs(name):
        directory.mkdir(exist_ok=True)
        for inherited in ("cpuset.cpus", "cpuset.mems"):
            parent, child = directory.parent / inherited, directory / inherited
            if child.exists() and not child.read_text().strip():
                child.write_text(parent.read_text())


def pids_in_cgroups(name: str) -> set[int]:
    pids: set[int] = set()
    for directory in cgroup_dirs(name):
        if not directory.is_dir():
            continue
        for procs in directory.rglob("cgroup.procs"):
            try:
                pids.update(int(line) for line in procs.read_text().split())
            except OSError:
                continue
    return pids


def kill_cgroups(name: str, timeout: float = 20.0) -> int:
    """SIGKILL every process in the cgroups until none is left; return how many were signalled."""
    signalled: set[int] = set()
    deadline = time.monotonic() + timeout
    while pids := pids_in_cgroups(name):
        for pid in pids - signalled:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        signalled |= pids
        if time.monotonic() > deadline:
            raise LocalClusterError(f"processes {sorted(pids)} in cgroup {name} survive SIGKILL")
        time.sleep(0.1)
    return len(signalled)


def remove_cgroups(name: str) -> None:
    for directory in cgroup_dirs(name):
        if not directory.is_dir():
            continue
        for child in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            child.rmdir()
        directory.rmdir()


def _unescape(field: str) -> str:
    """Mount points in /proc/self/mountinfo escape space, tab, newline and backslash as octal."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounts_under(directory: Path, mountinfo: str | None = None) -> list[Path]:
    """Mount points at or below `directory`, deepest first."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    prefix = str(directory.absolute())
    points = {_unescape(line.split()[4]) for line in text.splitlines() if len(line.split()) > 4}
    below = [Path(p) for p in points if p == prefix or p.startswith(prefix + "/")]
    return sorted(below, key=lambda path: (-len(path.parts), str(path)))


def unmount_all(directory: Path) -> list[Path]:
    """Unmount everything at or below `directory` (lazily if busy); return what was mounted."""
    unmounted: list[Path] = []
    for _ in range(5):
        points = mounts_under(directory)
        if not points:
            return unmounted
        for point in points:
            result = subprocess.run(["umount", str(point)], capture_output=True, check=False)
            if result.returncode != 0:
                subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
            unmounted.append(point)
    left = mounts_under(directory)
    if left:
        raise LocalClusterError(f"could not unmount {', '.join(map(str, left))}")
    return unmounted
