"""Helpers of the operator integration tests: ECS objects to apply and kubectl views of one ECS cluster."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import yaml
from ecs_operator.localcluster import resourcemetrics

from tests.integration.waiting import wait_for

API = "ecs.operator.dev/v1alpha1"
NAMESPACED_KINDS = ("EcsTaskDefinition", "EcsService", "EcsTask")


class Cluster:
    """kubectl helpers scoped to one test namespace / ECS cluster."""

    def __init__(self, kubectl: Callable[..., subprocess.CompletedProcess[str]], name: str) -> None:
        self.kubectl = kubectl
        self.name = name
        self.namespace = name

    def apply(self, *objects: dict[str, Any]) -> None:
        """Server-side apply; namespaced ECS objects land in this cluster's namespace."""
        placed = [in_namespace(o, self.namespace) if o["kind"] in NAMESPACED_KINDS else o for o in objects]
        self.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(placed))

    def get(self, kind: str, name: str, namespaced: bool = True) -> dict[str, Any] | None:
        args = ["get", kind, name, "-o", "json", "--ignore-not-found"]
        if namespaced:
            args += ["-n", self.namespace]
        out = self.kubectl(*args).stdout.strip()
        return json.loads(out) if out else None

    def items(self, kind: str, selector: str | None = None) -> list[dict[str, Any]]:
        args = ["get", kind, "-n", self.namespace, "-o", "json"]
        if selector:
            args += ["-l", selector]
        return list(json.loads(self.kubectl(*args).stdout)["items"])

    def status(self, kind: str, name: str) -> dict[str, Any]:
        obj = self.get(kind, name)
        return dict((obj or {}).get("status") or {})

    def condition(self, kind: str, name: str, condition_type: str) -> dict[str, Any]:
        for cond in self.status(kind, name).get("conditions") or ():
            if cond.get("type") == condition_type:
                return dict(cond)
        return {}

    def is_true(self, kind: str, name: str, condition_type: str) -> bool:
        return self.condition(kind, name, condition_type).get("status") == "True"

    def wait_condition(
        self, kind: str, name: str, condition_type: str, timeout: float = 90
    ) -> dict[str, Any]:
        wait_for(
            lambda: self.is_true(kind, name, condition_type),
            timeout=timeout,
            message=f"{kind}/{name} {condition_type}=True (status: {self.status(kind, name)})",
        )
        return self.condition(kind, name, condition_type)

    def k8s_events(self, name: str) -> list[str]:
        out = self.kubectl(
            "get",
            "events",
            "-n",
            self.namespace,
            "--field-selector",
            f"involvedObject.name={name}",
            "-o",
            "json",
        ).stdout
        return [f"{e.get('reason')}: {e.get('message')}" for e in json.loads(out)["items"]]


def node_manifest(
    name: str, node_labels: dict[str, str], taints: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {
                "kwok.x-k8s.io/node": "fake",
                "node.alpha.kubernetes.io/ttl": "0",
                resourcemetrics.METRICS_PATH_ANNOTATION: resourcemetrics.kwok_metrics_path(name),
            },
            "labels": {
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "type": "kwok",
                **node_labels,
            },
        },
        "spec": {"taints": taints or []},
        "status": {
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
        },
    }


def task_definition(
    family: str, image: str = "nginx:1.27", *, env: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "essential": True,
        "cpu": 64,
        "memory": 128,
        "portMappings": [{"containerPort": 80, "protocol": "tcp", "name": "http"}],
    }
    if env:
        container["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    spec = {"family": family, "containerDefinitions": [container], **extra}
    return {"apiVersion": API, "kind": "EcsTaskDefinition", "metadata": {"name": family}, "spec": spec}


def service(name: str, task_def: str, desired: int = 2, **extra: Any) -> dict[str, Any]:
    spec = {"serviceName": name, "taskDefinition": task_def, "desiredCount": desired, **extra}
    return {"apiVersion": API, "kind": "EcsService", "metadata": {"name": name}, "spec": spec}


def run_task(name: str, task_def: str, count: int = 1, **extra: Any) -> dict[str, Any]:
    spec = {"taskDefinition": task_def, "count": count, **extra}
    return {"apiVersion": API, "kind": "EcsTask", "metadata": {"name": name}, "spec": spec}


def in_namespace(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    return {**obj, "metadata": {"namespace": namespace, **obj["metadata"]}}
