"""The console is safe to put in front of people: Kubernetes RBAC decides what each sees and may do (a
read-only token gets a read-only console, a forged POST is refused by the API server and said so), every
form is CSRF-protected, the session cookie is HttpOnly and SameSite=Strict, values from the cluster render
as text, no Secret value is ever shown and no token is ever logged."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup

from tests.integration.console_helpers import (
    USERNAME,
    ConsoleClient,
    InProcessConsole,
    User,
    Users,
    error_of,
    rows,
    text,
    web_service,
)
from tests.integration.operator_helpers import Cluster, run_task, service, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.console_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
SCRIPT = "<script>alert('xss')</script>"


def service_and_job(cluster: Cluster) -> tuple[str, str]:
    """Service `web` and task `job`, on families of the test's own (returned)."""
    web, job = cluster.family("web"), cluster.family("job")
    cluster.apply(task_definition(web), service("web", web, desired=1), task_definition(job))
    cluster.apply(run_task("job", job))
    cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    return web, job


def first_task(client: ConsoleClient, cluster: Cluster, group: str) -> str:
    def found() -> str | None:
        page = client.page(f"/clusters/{cluster.name}/tasks")
        ids = [
            str(r["data-task"]) for r in rows(page, "tr[data-task]") if text(r, "td:nth-child(5)") == group
        ]
        return ids[0] if ids else None

    return wait_for(found, timeout=60, message=f"a task of {group}")


def test_a_read_only_token_gets_a_read_only_console(
    ecs_cluster: Cluster, viewer: User, sign_in: Callable[[User], ConsoleClient], kubectl: Kubectl
) -> None:
    cluster = ecs_cluster
    web, job_family = service_and_job(cluster)
    client = sign_in(viewer)
    base = f"/clusters/{cluster.name}"
    service_task = first_task(client, cluster, "service:web")
    job = first_task(client, cluster, f"family:{job_family}")

    for path in (
        f"{base}/services/web", f"{base}/tasks/{service_task}", f"{base}/tasks/{job}", f"{base}/tasks",
        f"{base}/infrastructure", f"{base}/task-definitions", f"{base}/task-definitions/{web}",
        f"{base}/task-definitions/{web}/1",
    ):  # fmt: skip
        page = client.page(path)
        actions = page.select("main form, #update, #delete, #stop, #run, #new-revision, #deregister")
        assert actions == [], f"{path} offers {actions}"
        assert not page.select("main a[href*='run-task']"), path
    for path in (
        f"{base}/services/web/update", f"{base}/services/web/delete", f"{base}/tasks/{job}/stop",
        f"{base}/run-task", f"{base}/task-definitions/{web}/new-revision",
    ):  # fmt: skip
        page = client.page(path)
        assert page.select_one("#not-allowed") is not None and not page.select("main button[type=submit]"), (
            path
        )

    generation = cluster.get("ecsservice", "web")["metadata"]["generation"]  # type: ignore[index]
    arn = str(
        rows(client.page(f"{base}/infrastructure"), "tr[data-instance] td.mono")[0].get_text()
    )  # the instance id
    forged = {
        f"{base}/services/web/update": (
            {"desiredCount": "9", "taskDefinition": f"{web}:1"},
            "patch",
            "ecsservices",
        ),
        f"{base}/services/web/delete": ({"force": "on"}, "delete", "ecsservices"),
        f"{base}/tasks/{service_task}/stop": ({"reason": "forged"}, "patch", "ecsservices"),
        f"{base}/tasks/{job}/stop": ({"reason": "forged"}, "patch", "ecstasks"),
        f"{base}/run-task": (
            {"taskDefinition": f"{web}:1", "count": "1", "launchType": "EC2"},
            "create",
            "ecstasks",
        ),
        f"{base}/task-definitions/{web}/new-revision": (
            {
                "json": json.dumps(
                    {"family": web, "containerDefinitions": [{"name": "a", "image": "x", "memory": 64}]}
                )
            },
            "patch",
            "ecstaskdefinitions",
        ),
        f"{base}/task-definitions/{web}/1/deregister": ({}, "patch", "ecstaskdefinitions"),
        f"{base}/infrastructure": ({"containerInstance": arn, "status": "DRAINING"}, "patch", "nodes"),
    }
    for path, (data, verb, resource) in forged.items():
        response = client.post(path, data)  # with the session's own CSRF token: only RBAC refuses it
        assert response.status_code == 403, f"{path}: {response.status_code}"
        message = error_of(response)
        assert f'cannot {verb} resource "{resource}"' in message, f"{path}: {message}"
        assert viewer.name in message

    assert cluster.get("ecsservice", "web")["metadata"]["generation"] == generation  # type: ignore[index]
    assert [t["metadata"]["name"] for t in cluster.items("ecstasks")] == ["job"]
    assert len(cluster.revisions(web)) == 1
    for obj in cluster.items("ecstasks") + cluster.items("ecsservices"):
        assert "ecs.operator.dev/stop-tasks" not in (obj["metadata"].get("annotations") or {})
    node = json.loads(kubectl("get", "node", f"ci-{cluster.name}"[:63], "-o", "json").stdout)
    assert "ecs.operator.dev/container-instance-status" not in node["metadata"].get("annotations", {})


def test_forms_need_the_sessions_csrf_token_from_the_consoles_own_origin(
    ecs_cluster: Cluster, editor: User, console_server: InProcessConsole
) -> None:
    cluster = ecs_cluster
    web = web_service(cluster, desired=1)
    client = ConsoleClient(console_server.url)
    assert client.get("/clusters").headers["Location"] == "/signin?next=/clusters"
    assert client.get("/clusters/x/services", headers={"Accept": "text/event-stream"}).status_code == 204
    assert client.post("/signout", {}, csrf=False).status_code == 401

    without_cookie = ConsoleClient(console_server.url)
    refused = without_cookie.post("/signin", {"csrf": "guessed", "token": editor.token}, csrf=False)
    assert refused.status_code == 403 and "CSRF" in refused.text

    form = client.http.get(client.url + "/signin", timeout=60)
    assert "HttpOnly" in form.headers["Set-Cookie"] and "SameSite=Strict" in form.headers["Set-Cookie"]
    assert "script-src 'self'" in form.headers["Content-Security-Policy"]
    assert form.headers["X-Frame-Options"] == "DENY"
    token = BeautifulSoup(form.text, "html.parser").select_one("input[name=csrf]")["value"]  # type: ignore[index]
    signed_in = client.http.post(
        client.url + "/signin",
        data={"csrf": token, "token": editor.token, "next": "//evil.example/"},
        timeout=60,
        allow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/clusters"  # not off-site
    cookie = signed_in.headers["Set-Cookie"]
    assert "ecs_console_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert editor.token not in cookie

    path = f"/clusters/{cluster.name}/services/web/update"
    client.page(path)
    data = {"desiredCount": "4", "taskDefinition": f"{web}:1"}
    for response in (
        client.post(path, data, csrf=False),
        client.post(path, {**data, "csrf": "not-the-token"}, csrf=False),
        client.http.post(
            client.url + path,
            data={**data, "csrf": client.csrf},
            headers={"Origin": "https://evil.example"},
            timeout=60,
            allow_redirects=False,
        ),
    ):
        assert response.status_code == 403 and "CSRF" in response.text, response.text
    assert cluster.get("ecsservice", "web")["spec"]["desiredCount"] == 1  # type: ignore[index]
    header_only = client.http.post(
        client.url + path, data=data, headers={"X-CSRF-Token": client.csrf}, timeout=60, allow_redirects=False
    )
    assert header_only.status_code == 303  # htmx sends the token as a header

    session = client.http.cookies.get("ecs_console_session")
    client.post("/signout", {})
    assert client.get("/clusters").status_code == 303
    stale = ConsoleClient(console_server.url)
    stale.http.cookies.set("ecs_console_session", str(session))
    assert stale.get("/clusters").headers["Location"].startswith("/signin")


def test_values_from_the_cluster_render_as_text(
    ecs_cluster: Cluster, editor: User, sign_in: Callable[[User], ConsoleClient], kubectl: Kubectl
) -> None:
    cluster = ecs_cluster
    tags = [{"key": "owner", "value": SCRIPT}, {"key": "<b>key</b>", "value": "x"}]
    web_service(cluster, desired=1, tags=tags)
    injected = {
        "id": "xss-event",
        "createdAt": "2026-01-01T00:00:00Z",
        "message": f"{SCRIPT}<img src=x onerror=alert(1)>",
    }
    client = sign_in(editor)
    path = f"/clusters/{cluster.name}/services/web"

    def shown() -> BeautifulSoup | None:
        events = (cluster.status("ecsservice", "web").get("events")) or []
        if not any(e.get("id") == "xss-event" for e in events):  # the operator may have written over it
            patch = {"status": {"events": [injected, *events]}}
            kubectl(
                "patch", "ecsservice", "web", "-n", cluster.namespace, "--subresource=status", "--type=merge",
                "-p", json.dumps(patch),
            )  # fmt: skip
        page = client.page(path)
        return page if page.select_one("tr[data-event=xss-event]") else None

    page = wait_for(shown, timeout=60, message="the injected event on the service page")
    response = client.get(path)
    scripts = [s.get("src") for s in page.find_all("script")]
    assert scripts == [
        "/static/htmx-2.0.11.min.js",
        "/static/htmx-ext-sse-2.2.4.min.js",
        "/static/console.js",
    ]
    assert not page.select("main img, main b")
    assert text(page, "tr[data-event=xss-event] .message") == f"{SCRIPT}<img src=x onerror=alert(1)>"
    assert f"owner={SCRIPT}" in text(page, "#service_summary")
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in response.text
    assert "<script>alert" not in response.text


def test_no_secret_value_is_ever_shown(
    ecs_cluster: Cluster, editor: User, sign_in: Callable[[User], ConsoleClient], kubectl: Kubectl
) -> None:
    cluster = ecs_cluster
    value = "s3cr3t-value-never-shown"
    kubectl(
        "create", "secret", "generic", "db-password", "-n", cluster.namespace, f"--from-literal=value={value}"
    )
    web = cluster.family("web")
    definition = task_definition(web)
    definition["spec"]["containerDefinitions"][0]["secrets"] = [
        {
            "name": "DB_PASSWORD",
            "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf",
        }
    ]
    cluster.apply(definition, service("web", web, desired=1))
    cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    client = sign_in(editor)
    base = f"/clusters/{cluster.name}"
    task = first_task(client, cluster, "service:web")
    pages = [
        f"{base}/services/web", f"{base}/tasks/{task}", f"{base}/task-definitions/{web}/1",
        f"{base}/task-definitions/{web}/new-revision", f"{base}/tasks",
    ]  # fmt: skip
    for path in pages:
        body = client.get(path).text
        assert value not in body and "czNjcjN0" not in body, path  # nor its base64
    revision = json.loads(text(client.page(f"{base}/task-definitions/{web}/1"), "pre.json"))
    assert revision["containerDefinitions"][0]["secrets"][0]["valueFrom"].endswith(
        ":secret:db-password-AbCdEf"
    )
    can_read = kubectl("auth", "can-i", "get", "secrets", "-A", f"--as={USERNAME}", check=False)
    assert can_read.stdout.strip() == "no"


def test_people_without_rights_see_nothing_and_bad_tokens_are_refused(
    ecs_cluster: Cluster,
    users: Users,
    console_server: InProcessConsole,
    sign_in: Callable[[User], ConsoleClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cluster = ecs_cluster
    web_service(cluster, desired=1)
    nobody = users.make("nobody")
    client = ConsoleClient(console_server.url)
    form = BeautifulSoup(client.http.get(client.url + "/signin", timeout=60).text, "html.parser")
    token = str(form.select_one("input[name=csrf]")["value"])  # type: ignore[index]
    for bad in ("not-a-token", nobody.token[:-8] + "AAAAAAAA"):
        refused = client.http.post(client.url + "/signin", data={"csrf": token, "token": bad}, timeout=60)
        assert refused.status_code == 401
        assert "did not accept that token" in text(BeautifulSoup(refused.text, "html.parser"), "#error")

    client = sign_in(nobody)
    denied = client.get("/clusters")
    assert denied.status_code == 403
    message = text(BeautifulSoup(denied.text, "html.parser"), "#error")
    assert f"'{nobody.name}' may not list ecsclusters.ecs.operator.dev" in message
    assert client.get(f"/clusters/{cluster.name}/services/web").status_code == 403
    assert client.get(f"/clusters/{cluster.name}/services/web/update").status_code == 403
    write = client.post(f"/clusters/{cluster.name}/services/web/update", {"desiredCount": "3"})
    assert write.status_code == 403

    logged = caplog.text
    assert nobody.token not in logged and nobody.token[-40:] not in logged
