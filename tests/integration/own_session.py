"""Suites that install an operator in the cluster (the real node's, kind's) run in a pytest session of their
own: beside the other tests' operator, two operators would reconcile the same objects. Without what they
need they skip, unless their environment variable says `required` (CI), which makes that a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def mark_own_session(
    items: list[pytest.Item], directory: Path, marker: pytest.MarkDecorator, what: str, command: str
) -> None:
    """Give the suite in `directory` its marker, and skip it when the session collected other tests too."""
    ours = [item for item in items if directory in Path(item.path).resolve().parents]
    for item in ours:
        item.add_marker(marker)
    if len(ours) < len(items):
        reason = (
            f"{what} need a session of their own (the operator they install would reconcile beside the "
            f"other tests' operator): `{command}`"
        )
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=reason))


def unavailable(required_env: str, what: str, reason: str) -> None:
    """Skip: `what` cannot run here; fail instead where `required_env` is `required`."""
    if os.environ.get(required_env) == "required":
        pytest.fail(f"{required_env}=required but {what} cannot run here: {reason}")
    pytest.skip(f"no {what}: {reason}")
