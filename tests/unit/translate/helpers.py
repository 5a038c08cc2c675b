"""Builders for small ECS inputs and accessors for the translated objects."""

from __future__ import annotations

from typing import Any

from ecs_operator.translate import Translation, translate_service, translate_task_definition


def container(name: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "nginx:1.27", "memory": 512, **fields}


def taskdef(*containers: dict[str, Any], **task: Any) -> dict[str, Any]:
    return {"family": "web", "containerDefinitions": list(containers) or [container()], **task}


def template(td: dict[str, Any], **options: Any) -> Translation:
    return translate_task_definition(td, revision=1, cluster="demo", namespace="demo", **options)


def pod_spec(td: dict[str, Any], **options: Any) -> dict[str, Any]:
    spec: dict[str, Any] = template(td, **options).objects[-1]["template"]["spec"]
    return spec


def first_container(td: dict[str, Any]) -> dict[str, Any]:
    spec = pod_spec(td)
    found: dict[str, Any] = (spec.get("initContainers") or spec["containers"])[0]
    return found


def service(td: dict[str, Any], **fields: Any) -> Translation:
    body = {"serviceName": "web", "taskDefinition": "web", "desiredCount": 3, **fields}
    return translate_service(body, td, revision=2, cluster="demo", namespace="demo", name="web")


def of_kind(translation: Translation, kind: str) -> list[dict[str, Any]]:
    return [o for o in translation.objects if o["kind"] == kind]


def paths(translation: Translation) -> list[str]:
    return [w.path for w in translation.warnings]
