"""A browser-like HTTP client of the console (cookies, CSRF token, Origin) that reads pages as parsed HTML."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from bs4 import BeautifulSoup, Tag
from ecs_operator.localcluster.ports import free_port

from tests.integration.waiting import wait_for

TIMEOUT = 120
NAMESPACE = "ecs-operator-system"
SERVICE_ACCOUNT = "ecs-console"
USERNAME = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


class ConsoleClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Origin"] = url
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=TIMEOUT, allow_redirects=False, **kwargs)

    def page(self, path: str, status: int = 200) -> BeautifulSoup:
        """The page at `path` (following redirects), parsed; its CSRF token is kept for the next POST."""
        response = self.http.get(self.url + path, timeout=TIMEOUT)
        assert response.status_code == status, f"GET {path}: {response.status_code}\n{response.text[:2000]}"
        return self.parse(response)

    def parse(self, response: requests.Response) -> BeautifulSoup:
        soup = BeautifulSoup(response.text, "html.parser")
        body = soup.body
        if isinstance(body, Tag) and body.get("hx-headers"):
            self.csrf = json.loads(str(body["hx-headers"]))["X-CSRF-Token"]
        return soup

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> requests.Response:
        fields = {"csrf": self.csrf, **data} if csrf else data
        return self.http.post(self.url + path, data=fields, timeout=TIMEOUT, allow_redirects=False)

    def submit(self, path: str, data: dict[str, str]) -> BeautifulSoup:
        """POST a form, expect the redirect after success, and return the page it leads to."""
        response = self.post(path, data)
        assert response.status_code == 303, f"POST {path}: {response.status_code}\n{response.text[:3000]}"
        return self.page(response.headers["Location"])

    def sign_in(self, token: str) -> None:
        form = BeautifulSoup(self.http.get(self.url + "/signin", timeout=TIMEOUT).text, "html.parser")
        field = form.find("input", attrs={"name": "csrf"})
        assert isinstance(field, Tag)
        response = self.http.post(
            self.url + "/signin",
            data={"csrf": str(field["value"]), "token": token, "next": "/clusters"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        assert response.status_code == 303, f"sign-in: {response.status_code}\n{response.text[:2000]}"
        self.parse(self.get(response.headers["Location"]))  # whatever the user may see there


def web_service(cluster: Any, desired: int = 3, **extra: Any) -> str:
    """Service `web` in the test's cluster, steady, on a task definition family of the test's own (which
    this returns)."""
    from tests.integration.operator_helpers import service, task_definition

    family = str(cluster.family("web"))
    cluster.apply(task_definition(family), service("web", family, desired=desired, **extra))
    cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    return family


def text(soup: BeautifulSoup | Tag, selector: str) -> str:
    found = soup.select_one(selector)
    assert found is not None, f"no {selector!r} in the page"
    return " ".join(found.get_text(" ").split())


def rows(soup: BeautifulSoup | Tag, selector: str) -> list[Tag]:
    return list(soup.select(selector))


def flash(soup: BeautifulSoup) -> str:
    return " ".join(" ".join(f.get_text(" ").split()) for f in soup.select(".flash"))


@dataclass
class User:
    name: str
    token: str


class Users:
    """ServiceAccounts of a test's namespace that people sign in as, bound to the shipped user roles."""

    def __init__(self, kubectl: Kubectl, namespace: str) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.cluster_bindings: list[str] = []

    def make(self, name: str, *, namespace_role: str | None = None, cluster_role: str | None = None) -> User:
        self.kubectl("create", "serviceaccount", name, "-n", self.namespace)
        username = f"system:serviceaccount:{self.namespace}:{name}"
        if namespace_role:
            self.kubectl(
                "create", "rolebinding", f"{name}-{namespace_role.rsplit(':', 1)[-1]}", "-n", self.namespace,
                f"--clusterrole={namespace_role}", f"--serviceaccount={self.namespace}:{name}",
            )  # fmt: skip
        if cluster_role:
            binding = f"{self.namespace}-{name}"[:63]
            self.kubectl(
                "create", "clusterrolebinding", binding, f"--clusterrole={cluster_role}",
                f"--serviceaccount={self.namespace}:{name}",
            )  # fmt: skip
            self.cluster_bindings.append(binding)
        if namespace_role or cluster_role:
            wait_for(
                lambda: self.kubectl(
                    "auth", "can-i", "list", "ecsservices.ecs.operator.dev", "-n", self.namespace,
                    f"--as={username}", check=False,
                ).stdout.strip() == "yes",
                timeout=60,
                message=f"{username}'s bindings in effect",
            )  # fmt: skip
        token = self.kubectl("create", "token", name, "-n", self.namespace, "--duration=1h").stdout.strip()
        return User(username, token)

    def remove(self) -> None:
        for binding in self.cluster_bindings:
            self.kubectl("delete", "clusterrolebinding", binding, "--ignore-not-found", check=False)


def error_of(response: requests.Response) -> str:
    """The error message a refused POST shows (status 4xx, the form again with the message)."""
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:2000]}"
    return text(BeautifulSoup(response.text, "html.parser"), "#error")


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
    from ecs_operator.console.kubecalls import named
    from ecs_operator.console.signin import KubeconfigSignIn, TokenSignIn
    from ecs_operator.console.state import Console
    from ecs_operator.ecsapi.store import InformerStore
    from ecs_operator.kube import Kube, new_api_client

    api_client = named(new_api_client(kubeconfig))
    store = InformerStore(lambda: Kube(named(new_api_client(kubeconfig))))
    store.start()
    assert store.wait_synced(120), "the console's caches did not sync"
    signin = (
        TokenSignIn(api_client) if auth == "token" else KubeconfigSignIn(api_client, secrets.token_hex(16))
    )
    server = InProcessConsole(Console(store=store, signin=signin))
    server.start()
    return server, store
