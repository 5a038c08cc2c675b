"""Fixtures that run the operator (`ecs-operator run`, a real subprocess) against the test cluster.

Load with `pytest_plugins = ["tests.integration.operator_fixtures"]` (it loads `tests.integration.rbac`).
Builds on the control-plane fixtures `kubeconfig`, `kubectl` and `ecs_crds` and the per-test `namespace`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.operator_helpers import API, Cluster, node_manifest
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.rbac"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OperatorProcess:
    """One `ecs-operator run` subprocess; stop() and start() again for restart tests."""

    COMMAND = (sys.executable, "-m", "ecs_operator", "run")

    kubeconfig: str
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    metrics_port: int = field(default_factory=free_port)
    liveness_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def liveness_url(self) -> str:
        return f"http://127.0.0.1:{self.liveness_port}/healthz"

    def start(self) -> None:
        assert self.process is None, "already running"
        env = {**os.environ, "KUBECONFIG": self.kubeconfig, **self.extra_env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *self.COMMAND,
                "--bind",
                "127.0.0.1",
                "--metrics-port",
                str(self.metrics_port),
                "--liveness-port",
                str(self.liveness_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        log.close()
        wait_for(self._alive, timeout=60, message=f"operator liveness endpoint (log: {self.log_path})")

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"operator exited with {self.process.returncode}; log:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.liveness_url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, hard: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as response:
            return str(response.read().decode())

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def ecs_operator(
    kubeconfig: str, ecs_crds: Any, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The operator, authenticated as its ServiceAccount bound to the shipped ClusterRole (so every test
    also proves the RBAC sufficient); ECS_OPERATOR_TESTS_AS_ADMIN=1 runs it with the admin kubeconfig."""
    if os.environ.get("ECS_OPERATOR_TESTS_AS_ADMIN") == "1":
        operator_config = str(kubeconfig)
    else:
        operator_config = str(request.getfixturevalue("operator_kubeconfig"))
    operator = OperatorProcess(
        kubeconfig=operator_config, log_path=tmp_path_factory.mktemp("operator") / "log"
    )
    operator.start()
    yield operator
    operator.stop()


@pytest.fixture
def ecs_cluster(
    kubectl: Callable[..., subprocess.CompletedProcess[str]], namespace: str, ecs_operator: OperatorProcess
) -> Iterator[Cluster]:
    """An EcsCluster named like the test namespace (so it owns it) with one container instance."""
    cluster = Cluster(kubectl, namespace)
    node = f"ci-{namespace}"[:63]
    cluster.apply(
        node_manifest(node, {"ecs.operator.dev/cluster": namespace, "ecs.operator.dev/capacity": "ec2"}),
        {
            "apiVersion": API,
            "kind": "EcsCluster",
            "metadata": {"name": namespace},
            "spec": {"clusterName": namespace},
        },
    )
    cluster.wait_condition("ecscluster", namespace, "Ready")
    yield cluster
    # Services and tasks carry the operator's finalizer: remove them while the operator runs, then the
    # cluster (which owns the namespace), so nothing is left stuck when the session's operator stops.
    kubectl("delete", "ecsservices,ecstasks", "--all", "-n", namespace, "--timeout=120s", check=False)
    kubectl("delete", "ecscluster", namespace, "--ignore-not-found", "--timeout=60s", check=False)
    kubectl("delete", "node", node, "--wait=false", "--ignore-not-found", check=False)
