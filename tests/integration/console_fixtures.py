"""Fixtures that run the console in the test process, in its in-cluster mode, authenticated as its own
ServiceAccount under the ClusterRole of manifests/console (so every test proves that role sufficient),
and the people who sign in to it: ServiceAccounts bound to the shipped user roles.

Load with `pytest_plugins = ["tests.integration.console_fixtures"]` (it loads the operator fixtures).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.console_helpers import (
    NAMESPACE,
    SERVICE_ACCOUNT,
    USERNAME,
    ConsoleClient,
    InProcessConsole,
    User,
    Users,
    start_console,
)

pytest_plugins = ["tests.integration.rbac", "tests.integration.operator_fixtures"]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
CONSOLE_MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "console"


@pytest.fixture(scope="session")
def console_identity(kubectl: Kubectl, operator_identity: str) -> Iterator[str]:
    """The console's ServiceAccount, ClusterRole, Role (its sessions Secret), bindings, the sessions Secret
    and the user roles (in the operator's namespace, which operator_identity made); yields its username."""
    from tests.integration.rbac import component_identity, installed  # a plugin module, loaded by then

    manifests = component_identity(CONSOLE_MANIFESTS)
    with installed(
        kubectl, manifests, USERNAME, "create", "subjectaccessreviews.authorization.k8s.io"
    ) as name:
        yield name


@pytest.fixture(scope="session")
def console_kubeconfig(
    kubeconfig: str, kubectl: Kubectl, console_identity: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from tests.integration.rbac import service_account_kubeconfig  # a plugin module, loaded by then

    path = tmp_path_factory.mktemp("console-sa") / "kubeconfig"
    return service_account_kubeconfig(kubeconfig, kubectl, SERVICE_ACCOUNT, NAMESPACE, path)


@pytest.fixture(scope="session")
def console_server(console_kubeconfig: Path, ecs_crds: Any, ecs_operator: Any) -> Iterator[InProcessConsole]:
    """The console in its in-cluster (token) mode, as its ServiceAccount, with the operator running."""
    server, store = start_console(str(console_kubeconfig), "token")
    yield server
    server.stop()
    store.stop()


@pytest.fixture
def users(kubectl: Kubectl, namespace: str, console_identity: str) -> Iterator[Users]:
    made = Users(kubectl, namespace)
    yield made
    made.remove()


@pytest.fixture
def editor(users: Users) -> User:
    """May read everything the console shows and press every button. Bound cluster-wide: task definitions
    are regional (cluster-scoped EcsTaskDefinitions), so registering and deregistering them is a right no
    binding in one cluster's namespace can give."""
    return users.make("editor", cluster_role="ecs-operator:console-edit")


@pytest.fixture
def viewer(users: Users) -> User:
    return users.make("viewer", cluster_role="ecs-operator:console-view")


@pytest.fixture
def sign_in(console_server: InProcessConsole) -> Callable[[User], ConsoleClient]:
    def signed_in(user: User) -> ConsoleClient:
        client = ConsoleClient(console_server.url)
        client.sign_in(user.token)
        return client

    return signed_in
