"""Loopback ports: picked free at `up` time (two clones can run side by side) and checked before use."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable, Mapping

from ecs_operator.localcluster.errors import LocalClusterError

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
        return True


def pick_ports(names: Iterable[str], fixed: Mapping[str, int]) -> dict[str, int]:
    """A distinct free port per name; names in `fixed` keep the port the user asked for."""
    chosen: dict[str, int] = {}
    for name in names:
        port = fixed.get(name)
        while port is None or port in chosen.values():
            port = free_port()
        chosen[name] = port
    return chosen


def check_free(ports: Mapping[str, int]) -> None:
    taken = [f"{port} ({name})" for name, port in ports.items() if not is_free(port)]
    if taken:
        raise LocalClusterError(
            f"port {', '.join(taken)} on {LOOPBACK} is already in use; stop the program using it "
            f"(`ss -ltnp | grep :<port>` shows it) or choose another port"
        )
