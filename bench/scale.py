"""The ECS API and the console at two sizes of one cluster, side by side in one run.

    python bench/scale.py --from 1000 --to 5000

One cluster is filled with `--from` services (desiredCount 1, so as many running tasks), the reads are
measured, then it is filled up to `--to` (ECS's quota of services per cluster is 5000) and the same reads
are measured again, by the same clients against the same processes. What is measured:

- the ECS API (`ecs-operator api serve`): p50/p99 latency of DescribeServices (10 random services),
  ListServices (the first page, ECS's default 10) and ListTasks (the first page, 100 tasks) with
  `--clients` concurrent boto3 clients, `--calls` calls each;
- the console (`ecs-operator console`, a person signed in with the shipped console-view role): the
  server's own time (`Server-Timing`) of the cluster's page (its Services tab: the cluster's summary with
  DescribeClusters' statistics, a page of 100 services) and of a service's page, `--renders` times each.

Also, at each size once every service runs, the operator's writes over `--rest-seconds` (the audit log)
and its RSS. Target (issue 24): each p50 at `--to` within 1.5 times its p50 at `--from`; at 5000 services
the operator's RSS under 350 MiB and no write at rest. One line per read:

  scale op=ListTasks from=1000 to=5000 from_p50_ms=… to_p50_ms=… ratio_p50=… from_p99_ms=… to_p99_ms=…
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api import client, latencies
from console import populate, server_ms, sessions_secret, sign_in, viewer_token
from ecs_operator.console.process import ConsoleProcess
from ecs_operator.localcluster.audit import AuditLog
from ecs_operator.subprocesses import ApiProcess, OperatorProcess, create_key, kubectl_binary
from harness import (
    CLUSTER,
    add_capacity,
    bench_cluster,
    cleanup,
    kube,
    log,
    new_client,
    service_name,
)

DESCRIBE_BATCH = 10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="small", type=int, default=1000, help="services first (default 1000)")
    parser.add_argument("--to", dest="large", type=int, default=5000, help="services then (default 5000)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20, help="calls per client per operation (default 20)")
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument(
        "--rest-seconds", type=float, default=60, help="the operator's writes counted at rest, per size"
    )
    parser.add_argument("--timeout", type=float, default=3600)
    return parser.parse_args(argv)


def api_calls(services: int) -> dict[str, Callable[[Any, random.Random], Any]]:
    names = [service_name(i) for i in range(services)]
    return {
        "DescribeServices": lambda ecs, rng: ecs.describe_services(
            cluster=CLUSTER, services=rng.sample(names, DESCRIBE_BATCH)
        ),
        "ListServices": lambda ecs, rng: ecs.list_services(cluster=CLUSTER),
        "ListTasks": lambda ecs, rng: ecs.list_tasks(cluster=CLUSTER),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(
    services: int, args: argparse.Namespace, ecs: Callable[[], Any], console: str, session: Any
) -> dict[str, list[float]]:
    """Every read's latencies (ms) with `services` services in the cluster."""
    found: dict[str, list[float]] = {}
    for name, call in api_calls(services).items():
        log(f"{services} services: {name} with {args.clients} clients")
        found[name] = latencies(ecs, args.clients, args.calls, call)
    pages = {
        "ConsoleClusterPage": f"{console}/clusters/{CLUSTER}/services",
        "ConsoleServicePage": f"{console}/clusters/{CLUSTER}/services/{service_name(services // 2)}",
    }
    for name, url in pages.items():
        log(f"{services} services: {name}")
        server_ms(session, url, 3)  # warm: the first access reviews of this user
        found[name] = server_ms(session, url, args.renders)
    return found


def at_rest(services: int, seconds: float, audit: AuditLog | None, operator: OperatorProcess) -> None:
    """The operator with every service converged: its writes over `seconds` (audit log) and its RSS."""
    start = audit.mark() if audit else 0
    time.sleep(seconds)  # the idle window itself is what is measured
    rest = audit.count(start, audit.mark()) if audit else None
    print(
        f"scale op=OperatorAtRest services={services} seconds={seconds:.0f} "
        f"rest_writes={rest.writes if rest else 'n/a'} rss_mib={operator.rss_mib():.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ecs-scale-bench-"))
    with bench_cluster(None) as bench:
        api_client = new_client(bench.kubeconfig)
        admin = kube(api_client)
        kubectl = [kubectl_binary(), f"--kubeconfig={bench.kubeconfig}"]
        cleanup(admin, args.timeout)
        add_capacity(api_client, args.large + 10)
        operator = OperatorProcess(bench.kubeconfig, work / "operator.log")
        api = ApiProcess(bench.kubeconfig, work / "api.log")
        console = ConsoleProcess(bench.kubeconfig, work / "console.log", auth="token")
        operator.start()
        try:
            api.start()
            sessions_secret(kubectl)
            console.start()
            key = create_key(bench.kubeconfig, f"bench-{os.getpid()}", "ecs-bench", ("system:masters",))
            ecs = lambda: client(api.url, key["AWS_ACCESS_KEY_ID"], key["AWS_SECRET_ACCESS_KEY"])  # noqa: E731
            session = sign_in(console.url, viewer_token(kubectl))
            results = {}
            for size in (args.small, args.large):
                began = time.monotonic()
                populate(admin, size, args.timeout)
                log(f"{size} services running after {time.monotonic() - began:.0f}s")
                at_rest(size, args.rest_seconds, bench.audit, operator)
                results[size] = measure(size, args, ecs, console.url, session)
            for name in results[args.small]:
                small, large = results[args.small][name], results[args.large][name]
                s50, l50 = percentile(small, 0.5), percentile(large, 0.5)
                print(
                    f"scale op={name} from={args.small} to={args.large} from_p50_ms={s50:.1f} "
                    f"to_p50_ms={l50:.1f} ratio_p50={l50 / s50:.2f} "
                    f"from_p99_ms={percentile(small, 0.99):.1f} to_p99_ms={percentile(large, 0.99):.1f} "
                    f"api_rss_mib={api.rss_mib():.0f} "
                    f"console_rss_mib={console.rss_mib():.0f}",
                    flush=True,
                )
        finally:
            console.stop()
            api.stop()
            if not bench.started_here:  # a cluster of its own goes down as it is
                cleanup(admin, args.timeout)
            operator.stop()
            log(f"logs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
