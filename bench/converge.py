"""Convergence benchmark: N EcsServices through the operator against the floor of applying what it produces.

    python bench/converge.py --services N

(a) floor: the Deployments and Services `convert` produces for the N services, server-side applied directly
with `--concurrency` workers; time until every Deployment exists and until every one is available.
(b) operator: `ecs-operator run` as a subprocess; one EcsCluster, one EcsTaskDefinition, then N EcsServices
(each with loadBalancers, so each gets a Service) applied with the same concurrency; time until every
Deployment exists and until every EcsService has runningCount == desiredCount and Ready.
Then: operator RSS, its API requests per service (from the API server's audit log), its writes in the 60 s
after convergence, and an idle restart (time until it watches again, writes made). Progress goes to
standard error; the last line on standard output is the summary.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import harness
from audit import AuditLog, Counts, is_operator
from harness import CLUSTER, FAMILY, Tracker, log

FLOOR_NAMESPACE = "bench-floor"
# The operator's handler worker pool (ecs_operator.handlers.settings.MAX_WORKERS): the floor and the bench's
# own applies use the same number of concurrent requests.
DEFAULT_CONCURRENCY = 32
REST_SECONDS = 60
RESTART_QUIET_SECONDS = 10
RESTART_WINDOW_SECONDS = 60


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, required=True, metavar="N", help="number of EcsServices")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="parallel applies")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for each phase")
    parser.add_argument("--audit-log", help="API server audit log (default: found next to the kubeconfig)")
    parser.add_argument("--rest-seconds", type=float, default=REST_SECONDS, help="idle window measured")
    parser.add_argument("--skip-restart", action="store_true", help="leave out the idle restart")
    return parser.parse_args(argv)


def floor_objects(count: int) -> list[list[dict[str, Any]]]:
    """Per service, what `convert` produces (the same translate calls as ecs_operator/convert.py)."""
    from ecs_operator.api import parse_service, parse_task_definition
    from ecs_operator.translate import translate_service

    taskdef = parse_task_definition(harness.task_definition_spec()).to_ecs()
    groups = []
    for index in range(count):
        service = parse_service(harness.service_spec(index)).to_ecs()
        translation = translate_service(
            service,
            taskdef,
            revision=1,
            cluster=CLUSTER,
            namespace=FLOOR_NAMESPACE,
            name=harness.service_name(index),
        )
        groups.append(translation.objects)
    return groups


def run_parallel(concurrency: int, jobs: list[Any], fn: Any) -> None:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(fn, jobs):
            pass


def wait_phase(
    tracker: Tracker, names: set[str], started: float, timeout: float, what: str
) -> tuple[float, float]:
    """Seconds from `started` until all exist and until all satisfy the tracker's predicate."""

    def progress() -> str:
        return f"{tracker.count_seen(names)} exist, {tracker.count_true(names)} done of {len(names)}"

    last_report = [0.0]

    def all_done() -> float | None:
        if time.monotonic() - last_report[0] > 10:
            last_report[0] = time.monotonic()
            log(f"{what}: {progress()}")
        return tracker.all_true_at(names)

    done_at = harness.wait_until(all_done, timeout, f"{what} ({progress()})", interval=0.2)
    seen_at = tracker.all_seen_at(names) or done_at
    return seen_at - started, done_at - started


def measure_floor(api_client: Any, count: int, concurrency: int, timeout: float) -> tuple[float, float]:
    client = harness.kube(api_client)
    groups = floor_objects(count)
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FLOOR_NAMESPACE}})
    names = {harness.service_name(i) for i in range(count)}
    deployments = Tracker(
        api_client, "apps", "v1", "deployments", FLOOR_NAMESPACE, harness.deployment_available
    ).start()
    started = time.monotonic()

    def apply_group(group: list[dict[str, Any]]) -> None:
        for obj in group:
            client.apply(obj)

    run_parallel(concurrency, groups, apply_group)
    exist_s, available_s = wait_phase(deployments, names, started, timeout, "floor")
    deployments.stop()
    log(f"floor: all Deployments exist after {exist_s:.1f}s, all available after {available_s:.1f}s")
    client.delete("Namespace", FLOOR_NAMESPACE)
    harness.wait_until(
        lambda: client.get("Namespace", FLOOR_NAMESPACE) is None, timeout, "the floor namespace to go"
    )
    return exist_s, available_s


def prepare_operator_cluster(api_client: Any, timeout: float) -> None:
    client = harness.kube(api_client)
    client.apply(harness.custom_resource("EcsCluster", CLUSTER, {"clusterName": CLUSTER}, None))
    harness.wait_until(
        lambda: harness.condition_true(client.get("EcsCluster", CLUSTER), "Ready"),
        timeout,
        "EcsCluster Ready",
    )
    client.apply(
        harness.custom_resource("EcsTaskDefinition", FAMILY, harness.task_definition_spec(), CLUSTER)
    )
    harness.wait_until(
        lambda: harness.condition_true(client.get("EcsTaskDefinition", FAMILY, CLUSTER), "Ready"),
        timeout,
        "EcsTaskDefinition Ready",
    )


def per_service(counts: Counts, services: int) -> str:
    return f"{counts.writes / services:.2f} writes, {counts.reads / services:.2f} reads per service"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    count = args.services
    names = {harness.service_name(i) for i in range(count)}
    with harness.bench_cluster(args.audit_log) as bench:
        audit: AuditLog | None = bench.audit
        if audit is None:
            log("no API server audit log: request counts are reported as n/a (use the local cluster)")
        api_client = harness.new_client(bench.kubeconfig)
        client = harness.kube(api_client)
        harness.add_capacity(api_client, count)
        log_dir = bench.state_dir or Path(bench.kubeconfig).resolve().parent
        operator = harness.Operator(bench.kubeconfig, log_dir / "bench-operator.log")
        operator.log_path.unlink(missing_ok=True)
        if client.list("EcsService", CLUSTER) or client.get("Namespace", FLOOR_NAMESPACE):
            log("removing what an earlier run left behind")
            operator.start()
            harness.cleanup(client, args.timeout, FLOOR_NAMESPACE)
            operator.stop()

        floor_exist_s, floor_s = measure_floor(api_client, count, args.concurrency, args.timeout)
        operator.start()
        try:
            prepare_operator_cluster(api_client, args.timeout)
            deployments = Tracker(
                api_client, "apps", "v1", "deployments", CLUSTER, harness.deployment_available
            ).start()
            services = Tracker(
                api_client, "ecs.operator.dev", "v1alpha1", "ecsservices", CLUSTER, harness.service_converged
            ).start()
            mark_start = audit.mark() if audit else 0
            started = time.monotonic()
            run_parallel(
                args.concurrency,
                list(range(count)),
                lambda i: client.apply(
                    harness.custom_resource(
                        "EcsService", harness.service_name(i), harness.service_spec(i), CLUSTER
                    )
                ),
            )
            log(f"operator: the {count} EcsServices were applied after {time.monotonic() - started:.1f}s")
            cpu_start = operator.cpu_seconds()
            _, operator_s = wait_phase(services, names, started, args.timeout, "operator")
            operator_exist_s = (deployments.all_seen_at(names) or started) - started
            mark_converged = audit.mark() if audit else 0
            cpu_converged = operator.cpu_seconds()
            log(
                f"operator: all Deployments exist after {operator_exist_s:.1f}s, "
                f"all EcsServices converged after {operator_s:.1f}s, "
                f"using {cpu_converged - cpu_start:.1f}s of CPU"
            )
            creation = audit.count(mark_start, mark_converged) if audit else None
            if creation:
                log(
                    f"operator requests during creation: {per_service(creation, count)}; "
                    + creation.describe()
                )

            time.sleep(args.rest_seconds)  # the idle window itself is what is measured
            rest = audit.count(mark_converged, audit.mark()) if audit else None
            if rest:
                log(f"operator requests in {args.rest_seconds:.0f}s at rest: {rest.describe() or 'none'}")
            rss = operator.rss_mib()
            rest_cpu = operator.cpu_seconds() - cpu_converged
            log(f"operator CPU at rest: {rest_cpu:.1f}s in {args.rest_seconds:.0f}s")
            still = services.count_true(names)
            log(f"operator RSS {rss:.1f} MiB; {still}/{count} EcsServices still converged")

            restart_writes: int | None = None
            if not args.skip_restart:
                restart_writes = measure_restart(operator, audit, services, names, args.timeout)
            deployments.stop()
            services.stop()
            problems = operator.problems()
            if problems:
                log(f"{len(problems)} error lines in the operator log, first: {problems[0]}")
        finally:
            if not bench.started_here:
                harness.cleanup(client, args.timeout, FLOOR_NAMESPACE)
            operator.stop()
        ratio = operator_s / floor_s if floor_s else float("nan")
        print(
            f"floor: exist {floor_exist_s:.2f}s available {floor_s:.2f}s; "
            f"operator: exist {operator_exist_s:.2f}s converged {operator_s:.2f}s"
        )
        if creation:
            print(f"operator requests during creation: {per_service(creation, count)}")
        print(
            f"converge services={count} floor_s={floor_s:.2f} operator_s={operator_s:.2f} ratio={ratio:.2f} "
            f"rss_mib={rss:.1f} writes_per_service={fmt(creation.writes / count if creation else None)} "
            f"rest_writes={fmt(rest.writes if rest else None)} restart_writes={fmt(restart_writes)}"
        )
    return 0


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def measure_restart(
    operator: harness.Operator, audit: AuditLog | None, services: Tracker, names: set[str], timeout: float
) -> int | None:
    """Restart the operator with everything converged: time until it watches EcsServices, writes made."""
    operator.stop()
    mark = audit.mark() if audit else 0
    started = operator.start()
    if audit is None:
        return None

    def watching(event: dict[str, Any]) -> bool:
        return (
            is_operator(event)
            and event.get("verb") == "watch"
            and (event.get("objectRef") or {}).get("resource") == "ecsservices"
        )

    harness.wait_until(lambda: audit.first(mark, watching), timeout, "the operator to watch EcsServices")
    watch_s = time.monotonic() - started
    log(f"restart: watching EcsServices again {watch_s:.1f}s after the start")
    # Count for a window, longer while the operator still writes (its resume handlers may be running).
    window_end = time.monotonic() + RESTART_WINDOW_SECONDS
    last_size, last_change = audit.mark(), time.monotonic()
    while time.monotonic() < window_end or time.monotonic() - last_change < RESTART_QUIET_SECONDS:
        time.sleep(1)
        size = audit.mark()
        if audit.count(last_size, size).writes:
            last_change = time.monotonic()
        last_size = size
        if time.monotonic() - started > timeout:
            break
    counts = audit.count(mark, audit.mark())
    log(f"restart: {counts.writes} writes, {counts.reads} reads; {counts.describe()}")
    log(f"restart: {services.count_true(names)}/{len(names)} EcsServices converged")
    return counts.writes


if __name__ == "__main__":
    sys.exit(main())
