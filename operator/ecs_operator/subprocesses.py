"""The operator, the ECS API and the console as subprocesses: how tests, benchmarks and the demo start them
(the processes themselves start in `ecs_operator.run`, `ecsapi.command` and `console.command`).

`OperatorProcess` runs `ecs-operator run` as a subprocess on free loopback ports, logging to a file, and waits
for its liveness endpoint; several of them are replicas electing a leader. `ApiProcess` does the same for
`ecs-operator api serve` and its `/healthz`; `install_crds` applies `crds/` server-side (as users install
them) and waits until every CRD is Established.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ecs_operator import NAMESPACE as LEASE_NAMESPACE
from ecs_operator.localcluster import ports, versions

START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0


class LaunchError(Exception):
    """The operator exited or never became live, or the CRDs could not be installed."""


def kubectl_binary() -> str:
    """The kubectl built with the local control plane, else the one on PATH."""
    cached = versions.bin_dir() / "kubectl"
    if cached.exists():
        return str(cached)
    found = shutil.which("kubectl")
    if not found:
        raise LaunchError("kubectl not found: `make cluster-build` builds one, or put kubectl on PATH")
    return found


def install_crds(kubeconfig: str, crds_dir: Path, timeout: float = 60.0) -> list[str]:
    """Apply every CRD in `crds_dir` server-side and wait until each is Established; their names."""
    kubectl = [kubectl_binary(), f"--kubeconfig={kubeconfig}"]

    def run(*args: str) -> str:
        result = subprocess.run([*kubectl, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LaunchError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    run("apply", "--server-side", "--force-conflicts", "-f", str(crds_dir))
    run("wait", "--for=condition=Established", f"--timeout={timeout:.0f}s", "-f", str(crds_dir))
    listed = json.loads(run("get", "-f", str(crds_dir), "-o", "json"))
    return [str(item["metadata"]["name"]) for item in listed.get("items") or ()]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen[bytes], hard: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(log_path: Path, lines: int) -> str:
    if not log_path.exists():
        return ""
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`command` in its own session, its output appended to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def wait_ready(ready: Callable[[], bool], timeout: float, what: str, log_path: Path) -> None:
    """Until `ready()` (which raises if the process has exited), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise LaunchError(f"{what} in {timeout:.0f}s; see {log_path}")
        time.sleep(0.2)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LaunchError("VmRSS missing from /proc/<pid>/status")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far (OSError once it has gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


LEADER_METRIC = re.compile(r'^ecs_operator_leader\{identity="([^"]+)"\} (\S+)$', re.MULTILINE)


def ensure_namespace(kubeconfig: str, namespace: str) -> None:
    """Create `namespace` if `kubeconfig`'s user may and it is missing (installing manifests/operator
    makes the operator's); otherwise leave it to whoever installed it."""
    subprocess.run(
        [kubectl_binary(), f"--kubeconfig={kubeconfig}", "create", "namespace", namespace],
        capture_output=True,
        check=False,
        timeout=60,
    )


@dataclass
class OperatorProcess:
    """One `ecs-operator run` subprocess (`name`: its Pod name, the start of its identity in the Lease);
    stop() and start() again for restart tests."""

    kubeconfig: str
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    metrics_port: int = field(default_factory=ports.free_port)
    liveness_port: int = field(default_factory=ports.free_port)
    process: subprocess.Popen[bytes] | None = None
    name: str = "ecs-operator"
    lease_namespace: str = LEASE_NAMESPACE

    @property
    def metrics_url(self) -> str:
        return f"http://{ports.LOOPBACK}:{self.metrics_port}/metrics"

    @property
    def liveness_url(self) -> str:
        return f"http://{ports.LOOPBACK}:{self.liveness_port}/healthz"

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> float:
        """Start and wait until the liveness endpoint answers; returns when it was started (monotonic)."""
        if self.process is not None:
            raise LaunchError("the operator is already running")
        ensure_namespace(self.kubeconfig, self.lease_namespace)
        env = {**os.environ, "KUBECONFIG": self.kubeconfig, "POD_NAME": self.name, **self.extra_env}
        command = [
            sys.executable, "-m", "ecs_operator", "run", "--bind", ports.LOOPBACK,
            "--metrics-port", str(self.metrics_port), "--liveness-port", str(self.liveness_port),
            "--leader-election-namespace", self.lease_namespace,
        ]  # fmt: skip
        started = time.monotonic()
        self.process = spawn(command, env, self.log_path)
        wait_ready(self.alive, timeout, "the operator did not become live", self.log_path)
        return started

    def alive(self) -> bool:
        if self.process is None:
            return False
        if self.process.poll() is not None:
            raise LaunchError(f"the operator exited with {self.process.returncode}; log:\n{self.log_tail()}")
        return _answers(self.liveness_url)

    def ready(self) -> bool:
        """Its watch caches have listed everything (`/readyz`, what a Pod's readiness probe asks)."""
        return self.alive() and _answers(f"http://{ports.LOOPBACK}:{self.metrics_port}/readyz")

    def leader(self) -> tuple[str, bool]:
        """Its identity in the Lease, and whether it holds the Lease now (from its metrics)."""
        found = LEADER_METRIC.search(self.metrics())
        if found is None:
            raise LaunchError("the operator's metrics have no ecs_operator_leader line")
        return found.group(1), float(found.group(2)) == 1.0

    def stop(self, hard: bool = False) -> None:
        """SIGTERM (kopf's graceful shutdown: it gives the Lease up) or, with `hard`, SIGKILL."""
        if self.process is None:
            return
        _stop(self.process, hard)
        self.process = None

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as response:
            return str(response.read().decode())

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise LaunchError("the operator is not running")
        return int(self.process.pid)

    def rss_mib(self) -> float:
        return _rss_mib(self.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU time the operator has used so far."""
        return process_cpu_seconds(self.pid)

    def problems(self) -> list[str]:
        """Log lines at level error or critical (JSON log format), and tracebacks."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if line.startswith("Traceback"):
                    found.append(line)
                continue
            if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
                found.append(line)
        return found


def create_key(
    kubeconfig: str,
    name: str,
    user: str,
    groups: tuple[str, ...] = (),
    namespace: str = "ecs-operator-system",
) -> dict[str, str]:
    """`ecs-operator api create-key` as a user runs it; its output must be exactly the two lines
    `AWS_ACCESS_KEY_ID=…` and `AWS_SECRET_ACCESS_KEY=…`, returned as a dict."""
    command = [
        sys.executable, "-m", "ecs_operator", "api", "create-key", "--name", name, "--user", user,
        "--namespace", namespace, *(a for g in groups for a in ("--group", g)),
    ]  # fmt: skip
    env = {**os.environ, "KUBECONFIG": kubeconfig}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=60)
    lines = result.stdout.splitlines()
    names = [line.partition("=")[0] for line in lines]
    if result.returncode != 0 or names != ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]:
        raise LaunchError(f"create-key failed or printed more than the two lines: {result.stderr.strip()}")
    return dict(line.split("=", 1) for line in lines)


@dataclass
class ServerProcess:
    """A server subprocess (`python -m ecs_operator ARGUMENTS…`) on a free loopback port, logging to a file,
    ready once `/healthz` answers: the ECS API and the console."""

    what: ClassVar[str] = "the server"

    kubeconfig: str
    log_path: Path
    port: int = field(default_factory=ports.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{ports.LOOPBACK}:{self.port}"

    def launch(self, arguments: list[str], env: dict[str, str], timeout: float) -> None:
        if self.process is not None:
            raise LaunchError(f"{self.what} is already running")
        self.process = spawn([sys.executable, "-m", "ecs_operator", *arguments], env, self.log_path)
        wait_ready(self.ready, timeout, f"{self.what} was not ready", self.log_path)

    def ready(self) -> bool:
        if self.process is None:
            return False
        if self.process.poll() is not None:
            raise LaunchError(f"{self.what} exited with {self.process.returncode}; log:\n{self.log_tail()}")
        return _answers(f"{self.url}/healthz")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """Stop it (SIGTERM, then SIGKILL); its exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        _stop(process)
        return process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def rss_mib(self) -> float:
        if self.process is None:
            raise LaunchError(f"{self.what} is not running")
        return _rss_mib(self.process.pid)


@dataclass
class ApiProcess(ServerProcess):
    """One `ecs-operator api serve` subprocess on a free loopback port, keys read from `keys_namespace`.
    With `detach`, `stop()` is left to whoever outlives the caller (`make demo KEEP=1`)."""

    what: ClassVar[str] = "the ECS API"

    keys_namespace: str = "ecs-operator-system"

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Start and wait until `/healthz` answers (every watch cache has listed)."""
        arguments = [
            "api",
            "serve",
            "--address",
            f"{ports.LOOPBACK}:{self.port}",
            "--namespace",
            self.keys_namespace,
        ]
        self.launch(arguments, {**os.environ, "KUBECONFIG": self.kubeconfig}, timeout)

    def create_key(self, name: str, user: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
        return create_key(self.kubeconfig, name, user, groups, self.keys_namespace)
