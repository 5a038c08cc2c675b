"""The operator installed as users install it, running as a Pod on the real node: its ServiceAccount, the
restricted Pod Security profile, and the samples converged by it."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from ecs_operator.localcluster import cluster
from ecs_operator.localcluster.realnode.layout import NODE_NAME

from tests.integration.realnode.conftest import OPERATOR_NAMESPACE, REPO_ROOT
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.realnode]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
SERVICE_ACCOUNT = f"system:serviceaccount:{OPERATOR_NAMESPACE}:ecs-operator"


def operator_pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    pods = json.loads(
        kubectl(
            "get", "pods", "-n", OPERATOR_NAMESPACE, "-l", "app.kubernetes.io/name=ecs-operator", "-o", "json"
        ).stdout
    )["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def leader_pod(kubectl: Kubectl) -> dict[str, Any] | None:
    """The replica holding the leader Lease (its identity starts with the Pod's name), if one does."""
    lease = json.loads(kubectl("get", "lease", "ecs-operator", "-n", OPERATOR_NAMESPACE, "-o", "json").stdout)
    holder = str(lease["spec"].get("holderIdentity") or "")
    found = [p for p in operator_pods(kubectl) if holder.startswith(p["metadata"]["name"] + "_")]
    return found[0] if len(found) == 1 else None


def test_the_operator_runs_on_the_real_node_as_its_service_account_under_restricted(
    kubectl: Kubectl, installed_operator: str
) -> None:
    pods = operator_pods(kubectl)
    assert len(pods) == 2, "two replicas, after a rolling update of both"
    for replica in pods:
        assert replica["spec"]["nodeName"] == NODE_NAME
        assert replica["spec"]["serviceAccountName"] == "ecs-operator"
        (status,) = replica["status"]["containerStatuses"]
        assert status["ready"] and status["imageID"]  # a real image, run by containerd; caches listed
    pod: dict[str, Any] = wait_for(
        lambda: leader_pod(kubectl), timeout=60, message="a replica holding the Lease"
    )
    namespace = json.loads(kubectl("get", "namespace", OPERATOR_NAMESPACE, "-o", "json").stdout)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    name = pod["metadata"]["name"]
    assert kubectl("exec", "-n", OPERATOR_NAMESPACE, name, "--", "id", "-u").stdout.strip() == "65532"
    read_only = kubectl("exec", "-n", OPERATOR_NAMESPACE, name, "--", "touch", "/opt/x", check=False)
    assert read_only.returncode != 0 and "Read-only file system" in read_only.stderr
    # The API server's audit log: the operator's requests come from the Pod's IP, as its ServiceAccount.
    audit = cluster.layout().audit_log

    def requests_from_the_pod() -> list[dict[str, Any]]:
        found = []
        for line in audit.read_text(errors="replace").splitlines():
            if pod["status"]["podIP"] in line and SERVICE_ACCOUNT in line:
                found.append(json.loads(line))
        return found

    seen = wait_for(requests_from_the_pod, timeout=60, message="the operator's requests in the audit log")
    assert {entry["user"]["username"] for entry in seen} == {SERVICE_ACCOUNT}


def test_the_installed_operator_converges_the_samples(kubectl: Kubectl, installed_operator: str) -> None:
    samples = str(REPO_ROOT / "manifests" / "local" / "samples")
    kubectl("apply", "--server-side", "-f", str(REPO_ROOT / "manifests" / "samples" / "cluster.yaml"))
    try:
        kubectl("wait", "--for=condition=Ready", "ecscluster/demo", "--timeout=60s")
        kubectl("apply", "--server-side", "-k", samples)
        for service in ("web", "web-fargate"):
            kubectl("wait", "--for=condition=Ready", f"ecsservice/{service}", "-n", "demo", "--timeout=180s")
        pods = json.loads(
            kubectl("get", "pods", "-n", "demo", "-l", "ecs.operator.dev/service=web", "-o", "json").stdout
        )["items"]
        assert {p["spec"]["nodeName"] for p in pods} == {NODE_NAME} and len(pods) == 3
        # nginx from Debian really serves the sample's port 80; its health check (curl) passed.
        with urllib.request.urlopen(f"http://{pods[0]['status']['podIP']}/", timeout=5) as response:
            assert response.status == 200 and b"nginx" in response.read()
        wait_for(
            lambda: (
                json.loads(kubectl("get", "ecstask", "db-migrate", "-n", "demo", "-o", "json").stdout)
                .get("status", {})
                .get("tasks")
            ),
            timeout=60,
            message="the db-migrate task reported",
        )
    finally:
        kubectl("delete", "-k", samples, "--ignore-not-found", "--timeout=180s", check=False)
