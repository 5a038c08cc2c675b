"""The console's one route table: every URL, its method and what serves it."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ecs_operator.console.pages import form_handler, page_handler
from ecs_operator.console.views import (
    cluster_infrastructure,
    cluster_services,
    cluster_taskdefinitions,
    cluster_tasks,
    clusters,
    run_task,
    service,
    service_delete,
    service_update,
    signin_page,
    task,
    task_logs,
    task_stop,
    taskdefinition_family,
    taskdefinition_new,
    taskdefinition_revision,
)

STATIC = Path(__file__).resolve().parent / "static"
CLUSTER = "/clusters/{cluster}"
SERVICE = CLUSTER + "/services/{service}"
TASK = CLUSTER + "/tasks/{task}"
FAMILY = CLUSTER + "/task-definitions/{family}"
REVISION = FAMILY + r"/{revision:\d+}"


async def cluster_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(request.path.rstrip("/") + "/services")


ROUTES = [
    web.get("/", signin_page.home),
    web.get("/healthz", signin_page.healthz),
    web.get("/signin", signin_page.form, name="signin"),
    web.post("/signin", signin_page.submit),
    web.post("/signout", signin_page.signout),
    web.get("/clusters", page_handler(clusters.PAGE)),
    web.get(CLUSTER, cluster_home),
    web.get(CLUSTER + "/services", page_handler(cluster_services.PAGE)),
    web.get(CLUSTER + "/tasks", page_handler(cluster_tasks.PAGE)),
    web.get(CLUSTER + "/infrastructure", page_handler(cluster_infrastructure.PAGE)),
    web.post(CLUSTER + "/infrastructure", form_handler(cluster_infrastructure.STATE)),
    web.get(CLUSTER + "/task-definitions", page_handler(cluster_taskdefinitions.PAGE)),
    web.get(CLUSTER + "/run-task", page_handler(run_task.PAGE)),
    web.post(CLUSTER + "/run-task", form_handler(run_task.FORM)),
    web.get(SERVICE, page_handler(service.PAGE)),
    web.get(SERVICE + "/update", page_handler(service_update.PAGE)),
    web.post(SERVICE + "/update", form_handler(service_update.FORM)),
    web.get(SERVICE + "/delete", page_handler(service_delete.PAGE)),
    web.post(SERVICE + "/delete", form_handler(service_delete.FORM)),
    web.get(TASK, page_handler(task.PAGE)),
    web.get(TASK + "/logs", page_handler(task_logs.PAGE)),
    web.get(TASK + "/stop", page_handler(task_stop.PAGE)),
    web.post(TASK + "/stop", form_handler(task_stop.FORM)),
    web.get(FAMILY, page_handler(taskdefinition_family.PAGE)),
    web.get(FAMILY + "/new-revision", page_handler(taskdefinition_new.PAGE)),
    web.post(FAMILY + "/new-revision", form_handler(taskdefinition_new.FORM)),
    web.get(REVISION, page_handler(taskdefinition_revision.PAGE)),
    web.post(REVISION + "/deregister", form_handler(taskdefinition_revision.DEREGISTER)),
    web.static("/static", STATIC),
]
