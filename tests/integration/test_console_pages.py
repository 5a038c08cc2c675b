"""Every page of the console and every action, against the real control plane with the operator running,
through the console in its in-cluster mode (as its ServiceAccount) signed in as a person whose rights
are the shipped user roles. Pages are read as parsed HTML; what they show is what the ECS operations
describe, which is what the custom resources hold."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup

from tests.integration.console_helpers import ConsoleClient, Users, error_of, flash, rows, text, web_service
from tests.integration.operator_helpers import Cluster, run_task, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.console_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def health(page: BeautifulSoup) -> dict[str, str]:
    return {field: text(page, f"#health [data-field={field}]") for field in ("desired", "running", "pending")}


def page_where(client: ConsoleClient, path: str, selector: str, wanted: str) -> BeautifulSoup | None:
    page = client.page(path)
    return page if text(page, selector) == wanted else None


def service_page_shows(
    client: ConsoleClient, cluster: Cluster, wanted: dict[str, str]
) -> BeautifulSoup | None:
    page = client.page(f"/clusters/{cluster.name}/services/web")
    return page if health(page) == wanted else None


def test_every_page_shows_what_the_operations_describe(
    ecs_cluster: Cluster, editor: Any, sign_in: Callable[[Any], ConsoleClient], kubectl: Kubectl
) -> None:
    cluster = ecs_cluster
    web = web_service(cluster)
    job = cluster.family("job")
    cluster.apply(task_definition(job, image="busybox:1.36"), run_task("job", job))
    client = sign_in(editor)
    name = cluster.name

    clusters = client.page("/clusters")
    (row,) = rows(clusters, f"tr[data-cluster={name}]")
    assert text(row, ".status") == "ACTIVE"
    assert "EC2 · 1 instance" in text(row, "td:last-child")

    services = client.page(f"/clusters/{name}/services")
    assert text(services, "h1") == name
    (row,) = rows(services, "tr[data-service=web]")
    assert text(row, ".status") == "ACTIVE"
    assert row.select_one("[data-running]")["data-desired"] == "3"  # type: ignore[index]
    assert f"{web}:1" in row.get_text()

    def groups() -> list[str]:
        found = rows(client.page(f"/clusters/{name}/tasks"), "tr[data-task]")
        return sorted(text(t, "td:nth-child(5)") for t in found)

    wanted = [f"family:{job}", "service:web", "service:web", "service:web"]
    wait_for(lambda: groups() == wanted, timeout=60, message="3 service tasks and the job on the Tasks tab")
    assert client.page(f"/clusters/{name}/tasks?status=STOPPED").select("tr[data-task]") == []

    infrastructure = client.page(f"/clusters/{name}/infrastructure")
    (instance,) = rows(infrastructure, "tr[data-instance]")
    assert instance["data-instance"] == f"ci-{name}"[:63]
    assert text(instance, ".status") == "ACTIVE"
    assert "/ 4096 units" in instance.get_text() and "/ 16384 MiB" in instance.get_text()

    # Task definitions are regional: the page lists the account's families, this test's among them.
    families = client.page(f"/clusters/{name}/task-definitions")
    assert {r["data-family"] for r in rows(families, "tr[data-family]")} >= {job, web}

    def described_alike() -> BeautifulSoup | None:
        page = client.page(f"/clusters/{name}/services/web")
        events = [e["message"] for e in cluster.status("ecsservice", "web")["events"]]  # newest first
        return page if [text(e, ".message") for e in rows(page, "#events tr[data-event]")] == events else None

    page = wait_for(described_alike, timeout=30, message="the service's events, newest first")
    assert health(page) == {"desired": "3", "running": "3", "pending": "0"}
    (deployment,) = rows(page, "[data-deployment]")
    assert deployment["data-rollout"] == "COMPLETED" and f"{web}:1" in deployment.get_text()
    assert deployment.select_one("progress")["value"] == "3"  # type: ignore[index]
    assert text(page, "#events tr[data-event] .message") == "(service web) has reached a steady state."
    configuration = json.loads(text(page, "#configuration pre"))
    assert configuration == cluster.get("ecsservice", "web")["spec"]  # type: ignore[index]
    assert page.select_one("#update") is not None and page.select_one("#delete") is not None
    service_tasks = rows(page, "#service_tasks tr[data-task]")
    assert len(service_tasks) == 3

    task_id = str(service_tasks[0]["data-task"])
    task = client.page(f"/clusters/{name}/tasks/{task_id}")
    assert text(task, "#last-status") == "RUNNING"
    (container,) = rows(task, "tr[data-container=app]")
    assert text(container, ".status") == "RUNNING"
    pods = {p["metadata"]["uid"].replace("-", ""): p["metadata"]["name"] for p in cluster.items("pods")}
    assert text(task, "#pod-name") == pods[task_id]
    assert task.select_one("#stop") is not None
    logs = client.get(f"/clusters/{name}/tasks/{task_id}/logs?container=app", headers={"HX-Request": "true"})
    assert logs.status_code == 200
    partial = BeautifulSoup(logs.text, "html.parser")
    assert partial.select_one("[data-logs]") is not None and partial.find("html") is None
    assert client.get(f"/clusters/{name}/tasks/{task_id}/logs?container=nope").status_code == 400

    family = client.page(f"/clusters/{name}/task-definitions/{web}")
    (revision,) = rows(family, "tr[data-revision]")
    assert text(revision, ".status") == "ACTIVE"
    described = json.loads(text(client.page(f"/clusters/{name}/task-definitions/{web}/1"), "pre.json"))
    assert described["taskDefinitionArn"].endswith(f":task-definition/{web}:1")
    assert described["containerDefinitions"][0]["image"] == "nginx:1.27"

    new = client.page(f"/clusters/{name}/task-definitions/{web}/new-revision")
    assert json.loads(text(new, "textarea"))["family"] == web
    run = client.page(f"/clusters/{name}/run-task?taskDefinition={web}:1")
    assert run.select_one("option[selected]")["value"] == f"{web}:1"  # type: ignore[index]
    update = client.page(f"/clusters/{name}/services/web/update")
    assert update.select_one("#desiredCount")["value"] == "3"  # type: ignore[index]
    assert update.select_one("option[selected]")["value"] == f"{web}:1"  # type: ignore[index]
    delete = client.page(f"/clusters/{name}/services/web/delete")
    assert delete.select_one("input[name=force][required]") is not None
    stop = client.page(f"/clusters/{name}/tasks/{task_id}/stop")
    assert stop.select_one("#stop-form input[name=reason]") is not None

    assert client.get(f"/clusters/{name}/services/nope").status_code == 404
    assert client.get("/clusters/no-such-cluster/services").status_code == 404
    assert client.get(f"/clusters/{name}/task-definitions/{web}/9").status_code == 404


def test_update_service_scales_and_rolls_a_new_revision(
    ecs_cluster: Cluster, editor: Any, sign_in: Callable[[Any], ConsoleClient]
) -> None:
    cluster = ecs_cluster
    web = web_service(cluster)
    client = sign_in(editor)
    path = f"/clusters/{cluster.name}/services/web"

    refused = client.post(f"{path}/update", {"desiredCount": "many", "taskDefinition": f"{web}:1"})
    assert refused.status_code == 400
    assert "desiredCount: 'many' is not a whole number" in text(
        BeautifulSoup(refused.text, "html.parser"), "#error"
    )

    page = client.submit(f"{path}/update", {"desiredCount": "5", "taskDefinition": f"{web}:1"})
    assert "desired count 5" in flash(page)
    assert cluster.get("ecsservice", "web")["spec"]["desiredCount"] == 5  # type: ignore[index]
    wait_for(
        lambda: service_page_shows(client, cluster, {"desired": "5", "running": "5", "pending": "0"}),
        timeout=90,
        message="5 running tasks on the service page",
    )

    form = client.page(f"/clusters/{cluster.name}/task-definitions/{web}/new-revision")
    request = json.loads(text(form, "textarea"))
    request["containerDefinitions"][0]["environment"] = [{"name": "COLOUR", "value": "blue"}]
    revision = client.submit(
        f"/clusters/{cluster.name}/task-definitions/{web}/new-revision", {"json": json.dumps(request)}
    )
    assert f"Registered task definition {web}:2" in flash(revision)
    assert json.loads(text(revision, "pre.json"))["containerDefinitions"][0]["environment"] == [
        {"name": "COLOUR", "value": "blue"}
    ]

    client.submit(f"{path}/update", {"desiredCount": "5", "taskDefinition": f"{web}:2"})

    seen: list[str] = []

    def rolled() -> BeautifulSoup | None:
        page = client.page(path)
        deployments = rows(page, "[data-deployment]")
        first_event = text(page, "#events tr[data-event] .message")
        seen[:] = [text(page, "#deployments"), first_event]
        import sys

        print(seen, file=sys.stderr)
        done = (
            len(deployments) == 1
            and f"{web}:2" in deployments[0].get_text()
            and deployments[0]["data-rollout"] == "COMPLETED"
            and first_event == "(service web) has reached a steady state."
        )
        return page if done else None

    page = wait_for(rolled, timeout=120, message=f"the deployment of {web}:2 completed, steady state: {seen}")
    assert health(page)["running"] == "5"
    messages = [text(e, ".message") for e in rows(page, "#events tr[data-event]")]
    assert any("deployment completed" in m for m in messages)


def test_new_revision_is_refused_in_admissions_words_then_deregistered(
    ecs_cluster: Cluster, editor: Any, sign_in: Callable[[Any], ConsoleClient], kubectl: Kubectl
) -> None:
    cluster = ecs_cluster
    web = cluster.family("web")
    cluster.apply(task_definition(web))
    client = sign_in(editor)
    family = f"/clusters/{cluster.name}/task-definitions/{web}"
    wait_for(lambda: client.get(f"{family}/1").status_code == 200, timeout=60, message=f"{web}:1 registered")

    broken = json.loads(text(client.page(f"{family}/new-revision"), "textarea"))
    broken["containerDefinitions"][0]["essential"] = False
    refused = client.post(f"{family}/new-revision", {"json": json.dumps(broken)})
    assert refused.status_code == 400
    message = text(BeautifulSoup(refused.text, "html.parser"), "#error")
    assert message == "containerDefinitions: at least one container must be essential"
    elsewhere = cluster.family("broken")
    admission = kubectl(
        "apply", "--dry-run=server", "-f", "-", check=False,
        input=yaml.safe_dump({**task_definition(elsewhere), "spec": {**broken, "family": elsewhere}}),
    )  # fmt: skip
    assert admission.returncode != 0
    assert message in admission.stderr, admission.stderr

    unknown = client.post(f"{family}/new-revision", {"json": json.dumps({**broken, "bogus": 1})})
    assert error_of(unknown) == "bogus: unknown member: ECS has no such field here"
    not_json = client.post(f"{family}/new-revision", {"json": f'{{"family": "{web}",'})
    assert error_of(not_json).startswith("taskDefinition JSON: Expecting") and "line 1" in error_of(not_json)
    assert len(cluster.revisions(web)) == 1

    described = json.loads(text(client.page(f"{family}/1"), "pre.json"))
    pasted = {**described, "cpu": "256", "memory": "512"}  # describe output, output-only members and all
    page = client.submit(f"{family}/new-revision", {"json": json.dumps(pasted)})
    assert f"{web}:2" in flash(page) and text(page, "#revision .status") == "ACTIVE"

    page = client.submit(f"{family}/1/deregister", {})
    assert "deregistered" in flash(page)
    page = wait_for(
        lambda: page_where(client, f"{family}/1", "#revision .status", "INACTIVE"),
        timeout=60,
        message=f"{web}:1 INACTIVE (the operator marks the revision)",
    )
    assert page.select_one("#deregister") is None and page.select_one("#run") is None
    statuses = {
        r["data-revision"]: text(r, ".status") for r in rows(client.page(family), "tr[data-revision]")
    }
    assert statuses == {"2": "ACTIVE", "1": "INACTIVE"}


def test_run_a_task_and_stop_it(
    ecs_cluster: Cluster, editor: Any, sign_in: Callable[[Any], ConsoleClient]
) -> None:
    cluster = ecs_cluster
    job = cluster.family("job")
    cluster.apply(task_definition(job, image="busybox:1.36"))
    client = sign_in(editor)
    run = f"/clusters/{cluster.name}/run-task"
    wait_for(
        lambda: client.page(run).select(f"option[value='{job}:1']"), timeout=60, message=f"{job}:1 to run"
    )

    refused = client.post(run, {"taskDefinition": f"{job}:1", "count": "11", "launchType": "EC2"})
    assert error_of(refused) == "count: 11 is more than 10, RunTask's limit"
    refused = client.post(run, {"taskDefinition": f"{job}:1", "launchType": "ECS"})
    assert error_of(refused) == "launchType: 'ECS' is not one of EC2, FARGATE"
    page = client.submit(run, {"taskDefinition": f"{job}:1", "count": "1", "launchType": "EC2"})
    assert "Started 1 task" in flash(page)
    task_path = str(page.select_one("a#stop")["href"]).removesuffix("/stop")  # type: ignore[index]
    assert text(page, ".summary") and f"{job}:1" in text(page, "#task_summary")

    page = client.submit(f"{task_path}/stop", {"reason": "stopped from the console"})
    assert "is stopping" in flash(page)

    def stopped() -> BeautifulSoup | None:
        page = client.page(task_path)
        return page if text(page, "#stop-code") == "UserInitiated" else None

    page = wait_for(stopped, timeout=60, message="stopCode UserInitiated on the task page")
    assert text(page, "#stopped-reason") == "stopped from the console"
    assert page.select_one("#stop") is None


def test_drain_and_activate_a_container_instance(
    ecs_cluster: Cluster, users: Users, sign_in: Callable[[Any], ConsoleClient], kubectl: Kubectl
) -> None:
    cluster = ecs_cluster
    admin = users.make("admin", cluster_role="ecs-operator:console-edit")
    client = sign_in(admin)
    path = f"/clusters/{cluster.name}/infrastructure"
    (instance,) = rows(client.page(path), "tr[data-instance]")
    arn = str(instance.select_one("input[name=containerInstance]")["value"])  # type: ignore[index]
    node = str(instance["data-instance"])

    page = client.submit(path, {"containerInstance": arn, "status": "DRAINING"})
    assert "is draining" in flash(page)
    status = f"tr[data-instance='{node}'] .status"
    wait_for(
        lambda: page_where(client, path, status, "DRAINING"), timeout=60, message="the instance DRAINING"
    )
    annotations = json.loads(kubectl("get", "node", node, "-o", "json").stdout)["metadata"]["annotations"]
    assert annotations["ecs.operator.dev/container-instance-status"] == "DRAINING"

    page = client.submit(path, {"containerInstance": arn, "status": "ACTIVE"})
    assert "active again" in flash(page)
    wait_for(
        lambda: page_where(client, path, status, "ACTIVE"), timeout=60, message="the instance ACTIVE again"
    )
    gone = client.post(path, {"containerInstance": arn, "status": "GONE"})
    assert error_of(gone) == "status: 'GONE' is not one of ACTIVE, DRAINING"


def test_delete_a_service(ecs_cluster: Cluster, editor: Any, sign_in: Callable[[Any], ConsoleClient]) -> None:
    cluster = ecs_cluster
    web_service(cluster, desired=1)
    client = sign_in(editor)
    path = f"/clusters/{cluster.name}/services/web"

    refused = client.post(f"{path}/delete", {})
    assert refused.status_code == 400
    assert error_of(refused) == "The service cannot be stopped while it is scaled above 0."
    page = client.submit(f"{path}/delete", {"force": "on"})
    assert "Service web is DRAINING" in flash(page)
    wait_for(
        lambda: page_where(client, path, "#service_summary .status", "INACTIVE"),
        timeout=90,
        message="the deleted service INACTIVE",
    )
    assert client.page(path).select_one("#update") is None
