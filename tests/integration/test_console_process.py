"""`ecs-operator console` as people run it: locally with their kubeconfig (it prints the URL that signs
the browser in, and nobody without the key gets in), and in the cluster's mode as its ServiceAccount,
where people sign in with bearer tokens that never reach the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ecs_operator.console.process import ConsoleProcess

from tests.integration.console_helpers import ConsoleClient, User, error_of, rows, text, web_service
from tests.integration.operator_helpers import Cluster
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.console_fixtures"]
pytestmark = pytest.mark.integration


def test_locally_it_prints_the_url_that_signs_in_and_acts_with_the_kubeconfig(
    kubeconfig: str, ecs_cluster: Cluster, tmp_path: Path
) -> None:
    cluster = ecs_cluster
    web_service(cluster, desired=1)
    console = ConsoleProcess(kubeconfig, tmp_path / "console.log")
    console.start()
    try:
        assert console.signin_url.startswith(f"{console.url}/signin?key=")
        stranger = ConsoleClient(console.url)
        assert stranger.get("/clusters").status_code == 303
        wrong = stranger.get("/signin?key=not-the-key")
        assert wrong.status_code == 401 and "not this console's key" in error_of(wrong)

        client = ConsoleClient(console.url)
        landed = client.http.get(console.signin_url, timeout=60, allow_redirects=False)
        assert landed.status_code == 303 and landed.headers["Location"] == "/clusters"  # the key left behind
        page = client.page(f"/clusters/{cluster.name}/services/web")
        assert text(page, "h1") == "web"
        assert page.select_one("#update") is not None  # the kubeconfig's admin may update
        assert rows(client.page("/clusters"), f"tr[data-cluster={cluster.name}]")
    finally:
        assert console.stop() == 0
    log = console.log_text()
    assert '"GET /clusters" 200' in log and "key=" not in log.replace(console.signin_url, "")


def test_in_the_cluster_people_sign_in_with_tokens_that_are_never_logged(
    console_kubeconfig: Path, ecs_crds: Any, editor: User, tmp_path: Path
) -> None:
    console = ConsoleProcess(str(console_kubeconfig), tmp_path / "console.log", auth="token")
    console.start()
    try:
        assert console.signin_url == f"{console.url}/"
        client = ConsoleClient(console.url)
        client.sign_in(editor.token)
        assert client.page("/clusters").select_one("main table, main .empty") is not None
        refused = ConsoleClient(console.url)
        form = refused.page("/signin")
        csrf = str(form.select_one("input[name=csrf]")["value"])  # type: ignore[index]
        answer = refused.http.post(
            console.url + "/signin", data={"csrf": csrf, "token": editor.token[:-4] + "AAAA"}, timeout=60
        )
        assert answer.status_code == 401
    finally:
        assert console.stop() == 0
    log = console.log_text()
    assert f"{editor.name} signed in (token)" in log and "a sign-in was refused" in log
    for secret in (editor.token, editor.token.rsplit(".", 1)[-1], editor.token[:-4] + "AAAA"):
        assert secret not in log


def test_in_the_cluster_a_sign_in_works_on_every_replica_and_survives_a_restart(
    console_kubeconfig: Path, ecs_cluster: Cluster, editor: User, tmp_path: Path
) -> None:
    """Two replicas as manifests/console runs them (token mode, the console's ServiceAccount, one sessions
    Secret): a browser signed in on one is signed in on the other, after a restart too; a message after a
    change shows on whichever replica serves the next page; signing out on one ends it on both."""
    cluster = ecs_cluster
    family = web_service(cluster, desired=1)
    first, second = (
        ConsoleProcess(str(console_kubeconfig), tmp_path / f"{name}.log", auth="token")
        for name in ("first", "second")
    )
    first.start()
    second.start()
    try:
        on_first = ConsoleClient(first.url)
        on_first.sign_in(editor.token)
        on_second = ConsoleClient(second.url)
        on_second.http.cookies.update(on_first.http.cookies)
        path = f"/clusters/{cluster.name}/services/web"
        assert text(on_second.page(path), "h1") == "web"

        on_second.page(f"{path}/update")
        changed = on_second.post(f"{path}/update", {"desiredCount": "2", "taskDefinition": f"{family}:1"})
        assert changed.status_code == 303, changed.text
        on_first.http.cookies.update(on_second.http.cookies)
        shown = on_first.page(changed.headers["Location"])
        assert "Service web updated: desired count 2" in text(shown, ".flash")

        first.stop()
        first.start()
        assert text(on_first.page(path), "h1") == "web", "the restart signed nobody out"

        on_second.page(path)
        assert on_second.post("/signout", {}).status_code == 303
        assert on_second.get(path).status_code == 303
        wait_for(
            lambda: on_first.get(path).status_code == 303,
            timeout=30,
            message="the session signed out on the second replica ended on the first",
        )
    finally:
        first.stop()
        second.stop()
    for log in (first.log_text(), second.log_text()):
        assert editor.token not in log
