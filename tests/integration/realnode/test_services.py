"""Services on real containers: health check commands that really pass or fail (the circuit breaker rolls a
failing revision back), and a load-balanced service answering through its Kubernetes Service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.operator_helpers import Cluster, service
from tests.integration.realnode.workloads import describe, http_server, task_definition
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.realnode]

PORT = 8080


def web(cluster: Cluster, health_command: str) -> dict[str, Any]:
    """Task definition family `web` of the test's own (families are account-wide)."""
    check = {"command": ["CMD-SHELL", health_command], "interval": 5, "timeout": 2, "retries": 1}
    return task_definition(cluster.family("web"), http_server("web", PORT, essential=True, healthCheck=check))


PASSES = f"wget -q -O /dev/null http://127.0.0.1:{PORT}/"
FAILS = f"wget -q -O /dev/null http://127.0.0.1:{PORT}/missing-page"


def deployment(cluster: Cluster, task_def: str) -> dict[str, Any]:
    for entry in cluster.status("ecsservice", "web").get("deployments") or ():
        if entry.get("taskDefinition") == task_def:
            return dict(entry)
    return {}


def ready_pods(cluster: Cluster) -> list[dict[str, Any]]:
    return [
        pod
        for pod in cluster.items("pods", "ecs.operator.dev/service=web")
        if not pod["metadata"].get("deletionTimestamp")
        and all(c.get("ready") for c in pod.get("status", {}).get("containerStatuses") or [{}])
    ]


def test_a_failing_health_check_fails_the_rollout_and_the_breaker_rolls_back(real_cluster: Cluster) -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    family = real_cluster.family("web")
    real_cluster.apply(
        web(real_cluster, PASSES), service("web", family, desired=2, deploymentConfiguration=breaker)
    )
    real_cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    # The health check command really ran in each container and passed: the tasks are in service.
    healthy = ready_pods(real_cluster)
    assert len(healthy) == 2
    assert all(c["restartCount"] == 0 for pod in healthy for c in pod["status"]["containerStatuses"])

    real_cluster.apply(web(real_cluster, FAILS))

    wait_for(
        lambda: deployment(real_cluster, f"{family}:2").get("rolloutState") == "FAILED",
        timeout=240,
        message=f"rollout of {family}:2 FAILED; {describe(real_cluster, 'ecsservice', 'web')}",
    )
    failed = deployment(real_cluster, f"{family}:2")
    assert failed["failedTasks"] >= 3 and "circuit breaker" in failed["rolloutStateReason"]
    wait_for(
        lambda: (
            real_cluster.status("ecsservice", "web").get("taskDefinition") == f"{family}:1"
            and real_cluster.is_true("ecsservice", "web", "Ready")
            and len(ready_pods(real_cluster)) == 2
        ),
        timeout=180,
        message=f"rolled back to {family}:1; {describe(real_cluster, 'ecsservice', 'web')}",
    )
    messages = [e["message"] for e in real_cluster.status("ecsservice", "web")["events"]]
    assert any(f"rolling back to taskDefinition {family}:1" in m for m in messages), messages
    # The failures were the health check's: kubelet Events name the probe that failed.
    events = " ".join(
        f"{e['reason']} {e['message']}"
        for e in real_cluster.items("events")
        if e.get("involvedObject", {}).get("kind") == "Pod"
    )
    assert "Unhealthy" in events and "probe failed" in events


def test_a_load_balanced_service_answers_from_every_task(real_cluster: Cluster) -> None:
    balancer = {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1"}
    balancer |= {"containerName": "web", "containerPort": PORT}
    real_cluster.apply(
        web(real_cluster, PASSES),
        service("web", real_cluster.family("web"), desired=3, loadBalancers=[balancer]),
    )
    real_cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    tasks = {pod["metadata"]["name"] for pod in ready_pods(real_cluster)}
    assert len(tasks) == 3
    kube_service = real_cluster.get("service", "web")
    assert kube_service is not None
    address = f"http://{kube_service['spec']['clusterIP']}:{kube_service['spec']['ports'][0]['port']}/"
    client = sorted(tasks)[0]
    answered: set[str] = set()

    def every_task_answered() -> bool:
        # From inside a task, through the Service's cluster IP (kube-proxy's rules on the node).
        reply = real_cluster.kubectl(
            "exec", "-n", real_cluster.namespace, client, "-c", "web", "--",
            "timeout", "5", "wget", "-q", "-O", "-", address, check=False,
        )  # fmt: skip
        if reply.returncode == 0:
            answered.add(reply.stdout.strip())
        return answered == tasks

    wait_for(every_task_answered, timeout=60, interval=0.1, message=f"answers from {tasks} via {address}")
