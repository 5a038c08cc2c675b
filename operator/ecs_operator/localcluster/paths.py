"""Where a cluster's state lives: `${ECS_OPERATOR_LOCAL_DIR:-<repo root>/.local}`."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "ECS_OPERATOR_LOCAL_DIR"
PROJECT_NAME = 'name = "ecs-operator"'


def repo_root(start: Path | None = None) -> Path:
    """The nearest ancestor of `start` (default: cwd) holding this project's pyproject.toml, else `start`."""
    origin = (start or Path.cwd()).absolute()
    for candidate in (origin, *origin.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and PROJECT_NAME in pyproject.read_text(encoding="utf-8"):
            return candidate
    return origin


def state_dir() -> Path:
    configured = os.environ.get(STATE_ENV)
    if configured:
        return Path(configured).expanduser().absolute()
    return repo_root() / ".local"
