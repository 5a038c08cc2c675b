"""The ECS API against moto's ECS server, side by side in one run, on the same calls.

Reads: p50/p99 latency of DescribeServices (10 services per call), ListTasks and DescribeTasks (10 tasks
per call) with `--clients` concurrent boto3 clients, `--services` services (desiredCount 1, so as many
tasks) in one cluster on each side. End to end: RegisterTaskDefinition -> CreateService -> stable through
the endpoint, against `kubectl apply` of the same EcsTaskDefinition and EcsService -> the same state
(`--rounds` each, median). One summary line per operation on standard output:

  api op=DescribeServices clients=50 ours_p50_ms=… moto_p50_ms=… ratio_p50=… ours_p99_ms=… moto_p99_ms=…
  api op=CreateServiceEndToEnd rounds=5 ours_s=… kubectl_s=… ratio=…

The endpoint runs as `ecs-operator api serve` (admin kubeconfig, a key of a user in system:masters), the
operator as `ecs-operator run`, moto as `python -m moto.server`; each answers the same boto3 calls.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ecs_operator.localcluster.ports import free_port
from ecs_operator.subprocesses import ApiProcess, OperatorProcess, create_key, kubectl_binary
from harness import (
    CLUSTER,
    FAMILY,
    add_capacity,
    bench_cluster,
    cleanup,
    custom_resource,
    kube,
    log,
    new_client,
    service_name,
    task_definition_spec,
    wait_until,
)

REGION = "us-east-1"
MOTO_TASKS_PER_CALL = 10
BATCH = 10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20, help="calls per client per operation (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="end-to-end creations per side (default 5)")
    parser.add_argument("--timeout", type=float, default=900)
    return parser.parse_args(argv)


class Process:
    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        with log_path.open("ab") as out:
            self.popen = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def client(endpoint: str, key_id: str, secret: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ecs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(max_pool_connections=4, retries={"max_attempts": 1}),
    )


def run_parallel(count: int, job: Callable[[int], None], workers: int = 32) -> None:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(job, range(count)))


def populate_ours(ecs: Any, services: int, timeout: float) -> list[str]:
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(**task_definition_spec())
    run_parallel(
        services,
        lambda i: ecs.create_service(
            cluster=CLUSTER, serviceName=service_name(i), taskDefinition=FAMILY, desiredCount=1
        ),
    )

    def all_running() -> list[str]:
        arns = [a for p in ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER) for a in p["taskArns"]]
        return arns if len(arns) >= services else []

    return list(wait_until(all_running, timeout, f"{services} service tasks listed by the API", interval=5))


def populate_moto(ecs: Any, ec2: Any, services: int) -> list[str]:
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(**task_definition_spec())
    image = ec2.describe_images()["Images"][0]["ImageId"]
    for _ in range(max(1, services // 400 + 1)):
        instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m5.24xlarge")[
            "Instances"
        ][0]
        document = {
            "instanceId": instance["InstanceId"], "availabilityZone": "us-east-1a", "region": REGION,
            "instanceType": "m5.24xlarge", "imageId": image, "privateIp": "10.0.0.1",
            "accountId": "123456789012",
        }  # fmt: skip
        ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=json.dumps(document))
    run_parallel(
        services,
        lambda i: ecs.create_service(
            cluster=CLUSTER, serviceName=service_name(i), taskDefinition=FAMILY, desiredCount=1
        ),
    )
    # moto never starts a service's tasks: RunTask puts as many tasks in its cluster for the task reads.
    for start in range(0, services, MOTO_TASKS_PER_CALL):
        ecs.run_task(cluster=CLUSTER, taskDefinition=FAMILY, count=min(MOTO_TASKS_PER_CALL, services - start))
    return [a for p in ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER) for a in p["taskArns"]]


Call = Callable[[Any, random.Random], Any]


def latencies(
    make_client: Callable[[], Any], clients: int, calls: int, call: Callable[[Any, random.Random], Any]
) -> list[float]:
    results: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def worker(index: int) -> None:
        ecs = make_client()
        rng = random.Random(index)
        call(ecs, rng)  # a warm connection before the clock starts
        start.wait()
        mine = []
        for _ in range(calls):
            began = time.perf_counter()
            call(ecs, rng)
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def read_calls(services: int, tasks: list[str]) -> dict[str, Call]:
    names = [service_name(i) for i in range(services)]
    return {
        "DescribeServices": lambda ecs, rng: ecs.describe_services(
            cluster=CLUSTER, services=rng.sample(names, BATCH)
        ),
        "ListTasks": lambda ecs, rng: ecs.list_tasks(cluster=CLUSTER),
        "DescribeTasks": lambda ecs, rng: ecs.describe_tasks(cluster=CLUSTER, tasks=rng.sample(tasks, BATCH)),
    }


def stable(ecs: Any, name: str) -> bool:
    services = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
    return (
        bool(services)
        and len(services[0]["deployments"]) == 1
        and services[0]["runningCount"] == services[0]["desiredCount"]
    )


def end_to_end_api(ecs: Any, family: str, timeout: float) -> float:
    began = time.monotonic()
    spec = {**task_definition_spec(), "family": family}
    ecs.register_task_definition(**spec)
    ecs.create_service(cluster=CLUSTER, serviceName=family, taskDefinition=family, desiredCount=1)
    wait_until(lambda: stable(ecs, family), timeout, f"service {family} stable", interval=0.2)
    return time.monotonic() - began


def end_to_end_kubectl(kubectl: list[str], api_client: Any, family: str, timeout: float) -> float:
    from ecs_operator.kube import Kube

    documents = [
        custom_resource("EcsTaskDefinition", family, {**task_definition_spec(), "family": family}, CLUSTER),
        custom_resource(
            "EcsService",
            family,
            {"serviceName": family, "taskDefinition": family, "desiredCount": 1},
            CLUSTER,
        ),
    ]
    client = Kube(api_client)
    began = time.monotonic()
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": documents})
    subprocess.run(
        [*kubectl, "apply", "--server-side", "-f", "-"],
        input=listed,
        text=True,
        check=True,
        capture_output=True,
    )

    def ready() -> bool:
        status = (client.get("EcsService", family, CLUSTER) or {}).get("status") or {}
        deployments = status.get("deployments") or []
        return (
            len(deployments) == 1
            and status.get("runningCount") == 1
            and any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ()
            )
        )

    wait_until(ready, timeout, f"EcsService {family} Ready", interval=0.2)
    return time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ecs-api-bench-"))
    with bench_cluster(None) as bench:
        api_client = new_client(bench.kubeconfig)
        admin = kube(api_client)
        kubectl = [kubectl_binary(), f"--kubeconfig={bench.kubeconfig}"]
        cleanup(admin, args.timeout)
        add_capacity(api_client, args.services + 2 * args.rounds + 10)
        operator = OperatorProcess(bench.kubeconfig, work / "operator.log")
        operator.start()
        env = {**os.environ, "KUBECONFIG": bench.kubeconfig}
        moto_port = free_port()
        ours_process = ApiProcess(bench.kubeconfig, work / "api.log")
        moto_process = Process(
            [sys.executable, "-m", "moto.server", "-p", str(moto_port)], env, work / "moto.log"
        )
        try:
            ours_process.start()
            wait_until(lambda: answers(f"http://127.0.0.1:{moto_port}/moto-api/"), 120, "moto")
            key = create_key(bench.kubeconfig, f"bench-{os.getpid()}", "ecs-bench", ("system:masters",))
            key_id, secret = key["AWS_ACCESS_KEY_ID"], key["AWS_SECRET_ACCESS_KEY"]
            ours = lambda: client(ours_process.url, key_id, secret)  # noqa: E731
            moto = lambda: client(f"http://127.0.0.1:{moto_port}", "moto", "moto")  # noqa: E731
            import boto3

            moto_ec2 = boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name=REGION,
                                    aws_access_key_id="moto", aws_secret_access_key="moto")  # fmt: skip
            log(f"creating {args.services} services through the API and in moto")
            began = time.monotonic()
            our_tasks = populate_ours(ours(), args.services, args.timeout)
            log(f"the API's {len(our_tasks)} tasks are listed after {time.monotonic() - began:.0f}s")
            moto_tasks = populate_moto(moto(), moto_ec2, args.services)
            log(f"moto has {len(moto_tasks)} tasks")
            for name in ("DescribeServices", "ListTasks", "DescribeTasks"):
                ours_ms = latencies(
                    ours, args.clients, args.calls, read_calls(args.services, our_tasks)[name]
                )
                moto_ms = latencies(
                    moto, args.clients, args.calls, read_calls(args.services, moto_tasks)[name]
                )
                o50, m50 = percentile(ours_ms, 0.5), percentile(moto_ms, 0.5)
                print(
                    f"api op={name} clients={args.clients} calls={len(ours_ms)} ours_p50_ms={o50:.1f} "
                    f"moto_p50_ms={m50:.1f} ratio_p50={o50 / m50:.2f} "
                    f"ours_p99_ms={percentile(ours_ms, 0.99):.1f} "
                    f"moto_p99_ms={percentile(moto_ms, 0.99):.1f}",
                    flush=True,
                )
            api_times = [end_to_end_api(ours(), f"e2e-api-{i}", args.timeout) for i in range(args.rounds)]
            kubectl_times = [
                end_to_end_kubectl(kubectl, api_client, f"e2e-kubectl-{i}", args.timeout)
                for i in range(args.rounds)
            ]
            o, k = statistics.median(api_times), statistics.median(kubectl_times)
            print(
                f"api op=CreateServiceEndToEnd services={args.services} rounds={args.rounds} "
                f"ours_s={o:.2f} kubectl_s={k:.2f} ratio={o / k:.2f} "
                f"api_rss_mib={ours_process.rss_mib():.0f}",
                flush=True,
            )
        finally:
            ours_process.stop()
            moto_process.stop()
            cleanup(admin, args.timeout)
            operator.stop()
            log(f"logs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
