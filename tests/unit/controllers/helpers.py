"""Snapshots for the pure reconcile functions: custom resources, revisions and live children by hand."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ecs_operator.revisions import ACTIVE, INACTIVE, Revision
from ecs_operator.runtime import Plan
from ecs_operator.runtime.execute import status_patch

from tests.unit.status_schema import assert_matches_crd

API = "ecs.operator.dev/v1alpha1"
NOW = "2026-11-30T12:00:00Z"
LATER = "2026-11-30T12:05:00Z"

TASK_DEFINITION = {
    "family": "web",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "nginx:1.27",
            "essential": True,
            "cpu": 64,
            "memory": 128,
            "portMappings": [{"containerPort": 80, "protocol": "tcp", "name": "http"}],
        }
    ],
}


def body(
    kind: str, name: str, spec: Mapping[str, Any], namespace: str = "demo", **metadata: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "generation": 1,
        "resourceVersion": "1",
        **metadata,
    }
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": API, "kind": kind, "metadata": meta, "spec": dict(spec)}


def revision(number: int, data: Mapping[str, Any] = TASK_DEFINITION, active: bool = True) -> Revision:
    status = ACTIVE if active else INACTIVE
    return Revision(str(data["family"]), number, dict(data), status, f"{data['family']}-{number}")


def live(objects: Iterable[Mapping[str, Any]], **status: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Applied objects as the cache would show them (with the API server's additions)."""
    found = {}
    for obj in objects:
        shown = copy.deepcopy(dict(obj))
        shown["metadata"]["uid"] = f"uid-{obj['kind']}-{obj['metadata']['name']}"
        shown["metadata"]["generation"] = 1
        shown["status"] = dict(status)
        found[(obj["kind"], obj["metadata"]["name"])] = shown
    return found


def after(plan: Plan) -> dict[str, Any]:
    """The custom resource once the plan's status and finalizers are written."""
    result = copy.deepcopy(dict(plan.body))
    if plan.status is not None:
        patch = status_patch(result.get("status"), plan.status)
        merged = {**(result.get("status") or {}), **patch}
        result["status"] = {k: v for k, v in merged.items() if v is not None}
        assert_matches_crd(str(result["kind"]), result["status"])
    if plan.finalizers is not None:
        result["metadata"]["finalizers"] = list(plan.finalizers)
    return result


def kinds(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(o["kind"] for o in objects)
