"""Helpers of the operator integration tests: ECS objects to apply and kubectl views of one ECS cluster."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import yaml
from ecs_operator.account import account_namespace
from ecs_operator.naming import dns_label

from tests.integration.waiting import wait_for

API = "ecs.operator.dev/v1alpha1"
NAMESPACED_KINDS = ("EcsService", "EcsTask")
# Task definitions are regional (account-wide): their kind is cluster-scoped, their revisions live in the
# account namespace.
TASK_DEFINITION_KINDS = ("ecstaskdefinition", "ecstaskdefinitions", "ecstd")
FAMILY_LABEL = "ecs.operator.dev/family"


Kubectl = Callable[..., subprocess.CompletedProcess[str]]


class Families:
    """Task definition families of one test's own. Families are account-wide (regional, as in ECS), so two
    tests that both register `web` would share its revisions: `families("web")` is `web-<owner>`, a valid
    EcsTaskDefinition name. `remove()` deletes the EcsTaskDefinitions and their revision records, which
    outlive the test's namespace."""

    def __init__(self, kubectl: Kubectl, owner: str) -> None:
        self.kubectl = kubectl
        self.owner = owner
        self.names: set[str] = set()

    def __call__(self, base: str) -> str:
        name = dns_label(f"{base}-{self.owner}")
        self.names.add(name)
        return name

    def remove(self) -> None:
        for name in sorted(self.names):
            self.kubectl(
                "delete", "ecstaskdefinition", name, "--ignore-not-found", "--wait=false", check=False
            )
            self.kubectl(
                "delete", "controllerrevisions", "-n", account_namespace(), "-l", f"{FAMILY_LABEL}={name}",
                "--ignore-not-found", "--wait=false", check=False,
            )  # fmt: skip


class Cluster:
    """kubectl helpers scoped to one test namespace / ECS cluster."""

    def __init__(self, kubectl: Kubectl, name: str) -> None:
        self.kubectl = kubectl
        self.name = name
        self.namespace = name
        self.families = Families(kubectl, name)

    def family(self, base: str) -> str:
        """A task definition family of this cluster's test's own (see `Families`)."""
        return self.families(base)

    def apply(self, *objects: dict[str, Any]) -> None:
        """Server-side apply; namespaced ECS objects land in this cluster's namespace."""
        placed = [in_namespace(o, self.namespace) if o["kind"] in NAMESPACED_KINDS else o for o in objects]
        self.families.names.update(o["metadata"]["name"] for o in objects if o["kind"] == "EcsTaskDefinition")
        self.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(placed))

    def get(self, kind: str, name: str, namespaced: bool | None = None) -> dict[str, Any] | None:
        args = ["get", kind, name, "-o", "json", "--ignore-not-found"]
        if namespaced is None:
            namespaced = kind.lower() not in TASK_DEFINITION_KINDS
        if namespaced:
            args += ["-n", self.namespace]
        out = self.kubectl(*args).stdout.strip()
        return json.loads(out) if out else None

    def revisions(self, family: str) -> list[dict[str, Any]]:
        """The revision records (ControllerRevisions in the account namespace) of a family."""
        out = self.kubectl(
            "get",
            "controllerrevisions",
            "-n",
            account_namespace(),
            "-l",
            f"{FAMILY_LABEL}={family}",
            "-o",
            "json",
        ).stdout
        return list(json.loads(out)["items"])

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

    def k8s_events(self, name: str, namespace: str | None = None) -> list[str]:
        """Events about `name`: in this cluster's namespace, or (cluster-scoped objects) in `default`."""
        out = self.kubectl(
            "get",
            "events",
            "-n",
            namespace or self.namespace,
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
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
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
