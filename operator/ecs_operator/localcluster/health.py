"""Probing components over loopback HTTP(S) until they answer, with a timeout and a useful failure."""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ecs_operator.localcluster.build import log_tail
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.pki import Pki

PROBE_TIMEOUT_SECONDS = 2.0


def client_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
    return context


def unverified_context() -> ssl.SSLContext:
    """For the controller manager's and scheduler's health endpoints, served by self-signed certificates."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def probe(url: str, context: ssl.SSLContext | None = None) -> tuple[bool, str]:
    """(answered 200, body or error text)."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS, context=context) as response:
            body: bytes = response.read()
            return response.status == 200, body.decode(errors="replace")
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}: {error.read().decode(errors='replace')[-300:]}"
    except (urllib.error.URLError, OSError) as error:
        return False, str(error)


def wait_until(
    description: str,
    check: Callable[[], tuple[bool, str]],
    timeout: float,
    still_alive: Callable[[], bool],
    log: Path,
) -> None:
    """Poll `check` until it passes; fail early when the process died, with the tail of its log."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        ok, last = check()
        if ok:
            return
        if not still_alive():
            raise LocalClusterError(
                f"{description}: the process exited; last lines of {log}:\n{log_tail(log)}{port_hint(log)}"
            )
        if time.monotonic() > deadline:
            raise LocalClusterError(
                f"{description}: not ready after {timeout:.0f}s (last answer: {last}); "
                f"last lines of {log}:\n{log_tail(log)}"
            )
        time.sleep(0.1)


def port_hint(log: Path) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    if "address already in use" in text:
        return "\na port it needs is already in use: stop the program holding it and run `up` again"
    return ""
