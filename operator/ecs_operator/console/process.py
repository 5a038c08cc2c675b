"""`ecs-operator console` as a subprocess, as tests, the benchmark and `make demo` start it: a
`subprocesses.ServerProcess` that is ready once it has printed its URL and `/healthz` answers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from ecs_operator.localcluster import ports
from ecs_operator.subprocesses import START_TIMEOUT_SECONDS, ServerProcess

PRINTED = "ECS console: "


@dataclass
class ConsoleProcess(ServerProcess):
    """`auth`: kubeconfig (acts with `kubeconfig`; `signin_url` carries the key) or token (people sign in
    with bearer tokens; `kubeconfig` is the console's own identity)."""

    what: ClassVar[str] = "the console"

    auth: str = "kubeconfig"
    signin_url: str = ""

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        arguments = [
            "console", "--address", f"{ports.LOOPBACK}:{self.port}",
            "--auth", self.auth, "--kubeconfig", self.kubeconfig,
        ]  # fmt: skip
        self.launch(arguments, dict(os.environ), timeout)

    def ready(self) -> bool:
        if not super().ready():
            return False
        printed = [line for line in self.log_text().splitlines() if line.startswith(PRINTED)]
        if printed:
            self.signin_url = printed[-1].removeprefix(PRINTED).split(" ", 1)[0]
        return bool(printed)
