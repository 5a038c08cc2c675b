"""What one request costs the control plane: CPU per request of each kind the convergence bench makes.

    python bench/request_costs.py [--count 1000]

On a local control plane of its own (its processes run on this machine, so their CPU is read from /proc),
the bench sends `--count` requests of each kind below with 32 workers, in this order, and reads the CPU
that kube-apiserver, etcd, the controller manager, the scheduler and kwok used from the first request
until two seconds after the last (what the request set off, such as scheduling a Pod and kwok starting
it, is counted with it):

- a GET of an EcsTask (what every request costs: TLS, authentication, authorization, audit, encoding);
- a ServiceAccount apply (a small built-in object);
- an EcsTask apply, then a merge-patch of its status with what the operator writes for a running task;
- the floor's Pod of one task (server-side applied; scheduled and started);
- an EcsService apply, then a merge-patch of its status as the operator writes it for a steady service;
- the floor's Deployment and Service of one service (available; the Service gets a NodePort).

The summary line gives the milliseconds of CPU per request (all processes together) and what they imply:
`tasks_least` is what a run of tasks must cost at least, relative to its floor, when each task is an
EcsTask created and its status written once (the operator's own CPU and watches not included);
`services_least` the same for services.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import harness
from converge import SERVICES, TASKS, floor_objects
from cpu import control_plane_pids, cpu_seconds
from harness import CLUSTER, log

NAMESPACE = "bench-requests"
FLOOR_NAMESPACE = "bench-requests-floor"
SETTLE_SECONDS = 2.0
NOW = "2026-01-01T00:00:00Z"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="requests of each kind")
    parser.add_argument("--concurrency", type=int, default=32, help="parallel requests")
    return parser.parse_args(argv)


def condition(kind: str, status: str, reason: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": reason, "lastTransitionTime": NOW}


CONDITIONS = [condition("Ready", "True", "Running"), condition("Progressing", "False", "Running")]
CONDITIONS.append(condition("Degraded", "False", "Healthy"))


def task_status(name: str) -> dict[str, Any]:
    """What the operator writes for a standalone task that runs (status/task.py)."""
    return {
        "observedGeneration": 1,
        "conditions": CONDITIONS,
        "tasks": [
            {
                "taskArn": f"arn:aws:ecs:us-east-1:000000000000:task/{CLUSTER}/{name}",
                "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING",
                "taskDefinitionArn": f"arn:aws:ecs:us-east-1:000000000000:task-definition/{harness.FAMILY}:1",
                "createdAt": NOW,
                "startedAt": NOW,
                "containers": [
                    {"name": "app", "lastStatus": "RUNNING", "image": "registry.k8s.io/pause:3.10"}
                ],
            }
        ],
    }


def service_status(name: str) -> dict[str, Any]:
    """What the operator writes for a steady service with one task (status/service.py)."""
    deployment = f"ecs-svc/{abs(hash(name)) % 10**19:019d}"
    return {
        "observedGeneration": 1,
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": 1,
        "pendingCount": 0,
        "taskDefinition": f"{harness.FAMILY}:1",
        "selector": f"ecs.operator.dev/service={name}",
        "conditions": CONDITIONS,
        "deployments": [
            {
                "id": deployment,
                "status": "PRIMARY",
                "taskDefinition": f"{harness.FAMILY}:1",
                "desiredCount": 1,
                "pendingCount": 0,
                "runningCount": 1,
                "failedTasks": 0,
                "rolloutState": "COMPLETED",
                "rolloutStateReason": f"ECS deployment {deployment} completed.",
                "createdAt": NOW,
                "updatedAt": NOW,
            }
        ],
        "events": [
            {"id": "0" * 32, "createdAt": NOW, "message": f"(service {name}) has reached a steady state."}
        ],
        "taskNames": [f"{name}-0"],
    }


def measure(
    what: str, count: int, concurrency: int, pids: dict[str, int], send: Callable[[int], Any]
) -> float:
    """CPU milliseconds per request of the control plane for `count` calls of `send`."""
    before = cpu_seconds(pids)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(send, range(count)):
            pass
    wall = time.monotonic() - started
    time.sleep(SETTLE_SECONDS)
    after = cpu_seconds(pids)
    per_process = {name: (after[name] - before[name]) * 1000 / count for name in pids}
    total = sum(per_process.values())
    detail = " ".join(f"{name}={ms:.2f}" for name, ms in per_process.items())
    log(f"{what}: {total:.2f} ms of CPU per request ({detail}); {count} in {wall:.1f}s")
    return total


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.environ.get("KUBECONFIG"):
        log("request_costs.py reads the control plane's CPU from /proc, on a local cluster of its own:")
        log("unset KUBECONFIG")
        return 2
    os.environ["ECS_OPERATOR_LOCAL_DIR"] = str(harness.DEFAULT_STATE_DIR.parent / "bench-requests")
    count, concurrency = args.count, args.concurrency
    with harness.bench_cluster(None) as bench:
        api_client = harness.new_client(bench.kubeconfig)
        client = harness.kube(api_client)
        harness.add_capacity(api_client, 2 * count)
        pids = control_plane_pids(bench.state_dir) if bench.state_dir else {}
        for namespace in (NAMESPACE, FLOOR_NAMESPACE):
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        tasks = floor_objects(TASKS, count, FLOOR_NAMESPACE)
        services = floor_objects(SERVICES, count, FLOOR_NAMESPACE)

        def custom(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
            return harness.custom_resource(kind, name, spec, NAMESPACE)

        def apply_all(objects: list[dict[str, Any]]) -> None:
            for obj in objects:
                client.apply(obj)

        def account(index: int) -> None:
            client.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": name_in(f"sa-{index}")})

        def name_in(name: str) -> dict[str, str]:
            return {"name": name, "namespace": NAMESPACE}

        task, service = harness.task_name, harness.service_name
        ms = {}
        client.apply(custom("EcsTask", task(0), harness.task_spec(0)))
        ms["get"] = measure(
            "GET EcsTask", count, concurrency, pids, lambda i: client.get("EcsTask", task(0), NAMESPACE)
        )
        ms["small_apply"] = measure("apply ServiceAccount", count, concurrency, pids, account)
        ms["task_create"] = measure(
            "apply EcsTask",
            count,
            concurrency,
            pids,
            lambda i: client.apply(custom("EcsTask", task(i), harness.task_spec(i))),
        )
        ms["task_status"] = measure(
            "EcsTask status merge-patch",
            count,
            concurrency,
            pids,
            lambda i: client.patch_status("EcsTask", task(i), NAMESPACE, task_status(task(i))),
        )
        ms["pod"] = measure(
            "the floor's Pod of a task", count, concurrency, pids, lambda i: apply_all(tasks[i])
        )
        ms["service_create"] = measure(
            "apply EcsService",
            count,
            concurrency,
            pids,
            lambda i: client.apply(custom("EcsService", service(i), harness.service_spec(i, desired=0))),
        )
        ms["service_status"] = measure(
            "EcsService status merge-patch",
            count,
            concurrency,
            pids,
            lambda i: client.patch_status("EcsService", service(i), NAMESPACE, service_status(service(i))),
        )
        ms["service_floor"] = measure(
            "the floor's Deployment and Service of a service",
            count,
            concurrency,
            pids,
            lambda i: apply_all(services[i]),
        )
        for namespace in (NAMESPACE, FLOOR_NAMESPACE):
            client.delete("Namespace", namespace)
    tasks_least = (ms["pod"] + ms["task_create"] + ms["task_status"]) / ms["pod"]
    services_least = (ms["service_floor"] + ms["service_create"] + ms["service_status"]) / ms["service_floor"]
    summary = " ".join(f"{key}_ms={value:.2f}" for key, value in ms.items())
    print(
        f"requests count={count} {summary} tasks_least={tasks_least:.2f} services_least={services_least:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
