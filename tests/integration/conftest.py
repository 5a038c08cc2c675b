"""Fixtures for integration tests: a real API server, kubectl, a client, a namespace per test, our CRDs.

The cluster is `$KUBECONFIG` when the caller sets one; otherwise the local control plane in the state folder
(`$ECS_OPERATOR_LOCAL_DIR`, default `<repo root>/.local`) is built if needed and brought up once per test run,
and brought down at the end only if this run started it.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from ecs_operator import subprocesses
from ecs_operator.localcluster import cluster

from tests.integration.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
CRDS_DIR = REPO_ROOT / "crds"
INTEGRATION_DIR = Path(__file__).resolve().parent
KUBECTL_TIMEOUT_SECONDS = 120


class Kubectl(Protocol):
    def __call__(
        self,
        *args: str,
        input: str | None = None,  # noqa: A002 (the fixture contract names it so)
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]: ...


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/integration/ is an integration test, marked or not. Tests that do not run the
    operator come first, before the session's operator starts: no test shares its objects with an operator
    that reconciles them unless that is what it tests (a CRD test patching a status by hand would race the
    operator's own status write)."""
    for item in items:
        if INTEGRATION_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: "ecs_operator" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[str]:
    configured = os.environ.get("KUBECONFIG")
    if configured:
        yield configured.split(os.pathsep)[0]
        return
    was_running = cluster.status().running
    cluster.up()
    try:
        yield str(cluster.layout().kubeconfig)
    finally:
        if not was_running:
            cluster.down()


@pytest.fixture(scope="session")
def kubectl(kubeconfig: str) -> Kubectl:
    binary = subprocesses.kubectl_binary()

    def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:  # noqa: A002
        result = subprocess.run(
            [binary, f"--kubeconfig={kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=KUBECTL_TIMEOUT_SECONDS,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited with {result.returncode}:\n{result.stderr}{result.stdout}"
            )
        return result

    return run


@pytest.fixture(scope="session")
def api_client(kubeconfig: str) -> Iterator[Any]:
    from kubernetes import config

    client = config.new_client_from_config(config_file=kubeconfig)
    try:
        yield client
    finally:
        client.close()


def namespace_name(test_name: str) -> str:
    """A valid, unique namespace name that says which test made it: `t-<test>-<random>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{slug}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(request: pytest.FixtureRequest, api_client: Any) -> Iterator[str]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(api_client)
    name = namespace_name(request.node.name)
    core.create_namespace({"metadata": {"name": name, "labels": {"ecs.operator.dev/test": "true"}}})

    def default_service_account() -> bool:
        try:
            core.read_namespaced_service_account("default", name)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    # Pods are refused until the ServiceAccount controller has made `default`.
    wait_for(default_service_account, timeout=60, message=f"ServiceAccount default in {name}")
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status != 404:
                raise


@pytest.fixture(scope="session")
def ecs_crds(kubeconfig: str) -> list[str]:
    """Every CRD in crds/, applied server-side as users install them, each Established."""
    names = subprocesses.install_crds(kubeconfig, CRDS_DIR)
    if not names:
        pytest.fail(f"{CRDS_DIR} holds no CustomResourceDefinition; run `make crds`")
    return names
