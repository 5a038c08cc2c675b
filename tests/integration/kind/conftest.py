"""The kind test session: a kind cluster of its own made by the make targets users run.

`make kind-up kind-load kind-deploy` (with KIND_CLUSTER=ecs-operator-test and a kubeconfig of the session,
so neither a developer's `ecs-operator` cluster nor ~/.kube/config is touched), then the tests in
test_kind.py in order, the last of which runs `make kind-down` and checks nothing is left. The operator runs
in the cluster here, so these tests need a session of their own (`make kind-test`; `make test` runs it when
ECS_OPERATOR_KIND is set). Without podman (or a Docker engine) and Go they are skipped, unless
ECS_OPERATOR_KIND=required (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ecs_operator.localcluster import operator_image

from tests.integration import own_session
from tests.integration.own_session import mark_own_session

KIND_DIR = Path(__file__).resolve().parent
REPO_ROOT = KIND_DIR.parents[2]
REQUIRED_ENV = "ECS_OPERATOR_KIND"
CLUSTER = "ecs-operator-test"
MAKE_TIMEOUT_SECONDS = 3600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_own_session(items, KIND_DIR, pytest.mark.kind, "kind tests", "make kind-test")


def unavailable(reason: str) -> None:
    own_session.unavailable(REQUIRED_ENV, "kind", reason)


def make(*targets: str, kubeconfig: Path) -> float:
    """Run make targets as a user would, for this session's cluster; return the seconds they took."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KIND_CLUSTER": CLUSTER}
    began = time.monotonic()
    result = subprocess.run(
        ["make", *targets, f"KIND_CLUSTER={CLUSTER}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=MAKE_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        raise AssertionError(f"make {' '.join(targets)} exited with {result.returncode}:\n{output}")
    return time.monotonic() - began


@pytest.fixture(scope="session")
def kind_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's kind cluster, up with the operator deployed; deleted at the end if a test left it."""
    if shutil.which("go") is None:
        unavailable("`go` is not on PATH (kind and the node image are built from Go modules)")
    if shutil.which("podman") is None and operator_image.docker_engine() is None:
        unavailable("neither podman nor a Docker engine")
    kubeconfig = tmp_path_factory.mktemp("kind") / "kubeconfig"
    try:
        for target in ("kind-up", "kind-load", "kind-deploy"):
            print(f"make {target}: {make(target, kubeconfig=kubeconfig):.0f} s")
        yield kubeconfig
    finally:
        make("kind-down", kubeconfig=kubeconfig)  # a no-op when the last test took it down


@pytest.fixture(scope="session")
def kubeconfig(kind_kubeconfig: Path) -> str:
    return str(kind_kubeconfig)
