"""The console's URLs, built in one place (templates and redirects), every name quoted."""

from __future__ import annotations

from urllib.parse import quote


def _q(value: object) -> str:
    return quote(str(value), safe="")


def cluster(name: str, tab: str = "services") -> str:
    return f"/clusters/{_q(name)}/{tab}"


def service(cluster_name: str, name: str, action: str = "") -> str:
    return f"/clusters/{_q(cluster_name)}/services/{_q(name)}" + (f"/{action}" if action else "")


def task(cluster_name: str, task_id: str, action: str = "") -> str:
    return f"/clusters/{_q(cluster_name)}/tasks/{_q(task_id)}" + (f"/{action}" if action else "")


def family(cluster_name: str, name: str, action: str = "") -> str:
    return f"/clusters/{_q(cluster_name)}/task-definitions/{_q(name)}" + (f"/{action}" if action else "")


def revision(cluster_name: str, name: str, number: object, action: str = "") -> str:
    return family(cluster_name, name, str(int(str(number)))) + (f"/{action}" if action else "")


def run_task(cluster_name: str, task_definition: str = "") -> str:
    suffix = f"?taskDefinition={_q(task_definition)}" if task_definition else ""
    return f"/clusters/{_q(cluster_name)}/run-task{suffix}"


GLOBALS = {
    "cluster_url": cluster,
    "service_url": service,
    "task_url": task,
    "family_url": family,
    "revision_url": revision,
    "run_task_url": run_task,
}
