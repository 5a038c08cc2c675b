"""`ecs-operator console` as a subprocess, as tests, the benchmark and `make demo` start it (the console's
counterpart of `launcher.ApiProcess`): a free loopback port, a log file, ready once `/healthz` answers and
the URL it prints is read."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ecs_operator.launcher import (
    START_TIMEOUT_SECONDS,
    LaunchError,
    _answers,
    _rss_mib,
    _stop,
    _tail,
    spawn,
    wait_ready,
)
from ecs_operator.localcluster import ports

PRINTED = "ECS console: "


@dataclass
class ConsoleProcess:
    """`auth`: kubeconfig (acts with `kubeconfig`; `signin_url` carries the key) or token (people sign in
    with bearer tokens; `kubeconfig` is the console's own identity)."""

    kubeconfig: str
    log_path: Path
    auth: str = "kubeconfig"
    port: int = field(default_factory=ports.free_port)
    process: subprocess.Popen[bytes] | None = None
    signin_url: str = ""

    @property
    def url(self) -> str:
        return f"http://{ports.LOOPBACK}:{self.port}"

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Start and wait until the URL is printed and `/healthz` answers (every watch cache has listed)."""
        if self.process is not None:
            raise LaunchError("the console is already running")
        command = [
            sys.executable, "-m", "ecs_operator", "console", "--address", f"{ports.LOOPBACK}:{self.port}",
            "--auth", self.auth, "--kubeconfig", self.kubeconfig,
        ]  # fmt: skip
        self.process = spawn(command, dict(os.environ), self.log_path)
        wait_ready(self.ready, timeout, "the console was not ready", self.log_path)

    def ready(self) -> bool:
        if self.process is None:
            return False
        if self.process.poll() is not None:
            raise LaunchError(f"the console exited with {self.process.returncode}; log:\n{self.log_tail()}")
        printed = [line for line in self.log_text().splitlines() if line.startswith(PRINTED)]
        if not printed:
            return False
        self.signin_url = printed[-1].removeprefix(PRINTED).split(" ", 1)[0]
        return _answers(f"{self.url}/healthz")

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
            raise LaunchError("the console is not running")
        return _rss_mib(self.process.pid)
