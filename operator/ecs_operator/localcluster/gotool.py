"""Finding the `go` client and checking it is new enough for the pinned modules."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.versions import MINIMUM_GO

INSTALL_HINT = "install Go {minimum} or newer from https://go.dev/dl/ and put its bin folder on PATH"


def parse_go_version(text: str) -> tuple[int, int, int]:
    """`go1.26.8` (from `go env GOVERSION`) -> (1, 26, 8); `go1.26` -> (1, 26, 0)."""
    match = re.fullmatch(r"go(\d+)\.(\d+)(?:\.(\d+))?\S*", text.strip())
    if not match:
        raise LocalClusterError(f"cannot read the Go version from {text.strip()!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def minimum_text() -> str:
    return ".".join(str(part) for part in MINIMUM_GO)


def find_go() -> str:
    """The path of a `go` client new enough for the pinned modules; else a LocalClusterError saying why."""
    go = shutil.which("go")
    hint = INSTALL_HINT.format(minimum=minimum_text())
    if go is None:
        raise LocalClusterError(
            f"`go` was not found on PATH; the control plane is built from Go modules: {hint}"
        )
    result = subprocess.run(
        [go, "env", "GOVERSION"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    if result.returncode != 0:
        raise LocalClusterError(f"`{go} env GOVERSION` failed: {result.stderr.strip()}; {hint}")
    found = parse_go_version(result.stdout)
    if found[:2] < MINIMUM_GO:
        raise LocalClusterError(
            f"{go} is Go {'.'.join(map(str, found))}, but Kubernetes {minimum_text()}+ modules need "
            f"Go {minimum_text()} or newer: {hint}"
        )
    return go
