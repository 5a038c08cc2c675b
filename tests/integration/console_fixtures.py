"""Fixtures that run the console in the test process, in its in-cluster mode, authenticated as its own
ServiceAccount under the ClusterRole of manifests/console (so every test proves that role sufficient),
and the people who sign in to it: ServiceAccounts bound to the shipped user roles.

Load with `pytest_plugins = ["tests.integration.console_fixtures"]` (it loads the operator fixtures).
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.localcluster.ports import free_port

from tests.integration.console_helpers import ConsoleClient, User, Users
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.rbac", "tests.integration.operator_fixtures"]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
CONSOLE_MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "console"
IDENTITY_FILES = ("serviceaccount.yaml", "clusterrole.yaml", "clusterrolebinding.yaml", "user-roles.yaml")
NAMESPACE = "ecs-operator-system"
SERVICE_ACCOUNT = "ecs-console"
USERNAME = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"


def console_identity_manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for name in IDENTITY_FILES:
        documents += [d for d in yaml.safe_load_all((CONSOLE_MANIFESTS / name).read_text()) if d]
    return documents


@pytest.fixture(scope="session")
def console_identity(kubectl: Kubectl, operator_identity: str) -> Iterator[str]:
    """The console's ServiceAccount, ClusterRole, binding and the user roles (in the operator's namespace,
    which operator_identity made); yields its username."""
    manifests = console_identity_manifests()
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yaml.safe_dump_all(manifests))
    wait_for(
        lambda: (
            kubectl(
                "auth", "can-i", "create", "subjectaccessreviews.authorization.k8s.io", f"--as={USERNAME}",
                check=False,
            ).stdout.strip()
            == "yes"
        ),
        timeout=60,
        message=f"{USERNAME} authorized by the ClusterRole",
    )  # fmt: skip
    yield USERNAME
    from tests.integration.rbac import remove  # a plugin module: imported once pytest has loaded it

    remove(kubectl, manifests)


@pytest.fixture(scope="session")
def console_kubeconfig(
    kubeconfig: str, kubectl: Kubectl, console_identity: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from tests.integration.rbac import token_kubeconfig  # a plugin module: imported once pytest loaded it

    token = kubectl("create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE, "--duration=6h").stdout.strip()
    return token_kubeconfig(kubeconfig, token, tmp_path_factory.mktemp("console-sa") / "kubeconfig")


@dataclass
class InProcessConsole:
    """The console app on a free port, served by its own event loop on a thread of the test process."""

    console: Any
    port: int = field(default_factory=free_port)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), daemon=True)
        self._thread.start()
        assert ready.wait(60), "the console did not start"

    async def _serve(self, ready: threading.Event) -> None:
        from aiohttp import web
        from ecs_operator.console.app import build_app
        from ecs_operator.console.security import AccessLogger

        runner = web.AppRunner(build_app(self.console), access_log_class=AccessLogger)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=60)


def start_console(kubeconfig: str, auth: str) -> tuple[InProcessConsole, Any]:
    """A console whose caches and reviews use `kubeconfig`; `auth` token or kubeconfig (its key is
    `console.signin._key`); returns the server and the store to stop."""
    from ecs_operator.console.signin import KubeconfigSignIn, TokenSignIn
    from ecs_operator.console.state import Console
    from ecs_operator.ecsapi.store import InformerStore
    from ecs_operator.kube import Kube, new_api_client

    api_client = new_api_client(kubeconfig)
    store = InformerStore(lambda: Kube(new_api_client(kubeconfig)))
    store.start()
    assert store.wait_synced(120), "the console's caches did not sync"
    signin = (
        TokenSignIn(api_client) if auth == "token" else KubeconfigSignIn(api_client, secrets.token_hex(16))
    )
    server = InProcessConsole(Console(store=store, signin=signin))
    server.start()
    return server, store


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
    """May read everything the console shows, and write in the test's cluster only (so a new revision is
    registered there, not in every cluster other tests left behind)."""
    return users.make(
        "editor", namespace_role="ecs-operator:console-edit", cluster_role="ecs-operator:console-view"
    )


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
