"""Convergence benchmark: N EcsServices (or N EcsTasks) through the operator against the floor of applying
what it produces.

    python bench/converge.py --services N
    python bench/converge.py --tasks N

(a) floor: what `convert` produces for the N services (Deployments and Services) or tasks (Pods),
server-side applied directly with `--concurrency` workers; time until every Deployment is available (every
Pod is Running).
(b) operator: `ecs-operator run` as a subprocess; one EcsCluster, one EcsTaskDefinition, then N EcsServices
(each with loadBalancers, so each gets a Service) or N EcsTasks applied with the same concurrency; time until
every one has converged (services: runningCount == desiredCount and Ready; tasks: every task RUNNING and
Ready) and the EcsCluster's counts say so (running tasks, active services).
With `--bound`, between the two: (c) bound: the floor's objects and the N custom resources themselves,
applied by the bench with no operator running (each worker applies an EcsService or EcsTask, then its
objects); time until every Deployment is available or Pod Running. It is what an operator that cost
nothing would reach: the API server's work for the custom resources is already in it, and on a machine
where the API server is the limit it bounds the ratio from below.
etcd is compacted before each phase (see `harness.compact_etcd`), so each starts from the same store.
On the local cluster, the CPU of each phase per process (control plane, bench, operator), from /proc.
Then: operator RSS, its API requests per object (from the API server's audit log), its writes in the 60 s
after convergence, and an idle restart (time until it watches again, writes made). Progress goes to
standard error; the last line on standard output is the summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cpu
import harness
from ecs_operator.localcluster.audit import AuditLog, Counts, is_operator
from ecs_operator.subprocesses import OperatorProcess
from harness import CLUSTER, Tracker, log

FLOOR_NAMESPACE = "bench-floor"
BOUND_NAMESPACE = "bench-bound"
# The operator's service and task workers (controllers/service.py, controllers/task.py): the floor and the
# bench's own applies use the same number of concurrent requests.
DEFAULT_CONCURRENCY = 32
REST_SECONDS = 60
RESTART_QUIET_SECONDS = 10
RESTART_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Workload:
    """What is measured: EcsServices against Deployments, or EcsTasks against Pods."""

    noun: str  # services | tasks
    kind: str  # the custom resource applied
    plural: str
    floor_kind: str  # what the floor waits for
    floor_done: Callable[[dict[str, Any]], bool]
    converged: Callable[[dict[str, Any]], bool]
    name: Callable[[int], str]
    spec: Callable[[int], dict[str, Any]]
    translate: Callable[[dict[str, Any], dict[str, Any], str, str], list[dict[str, Any]]]


def _translate_service(service: dict[str, Any], taskdef: dict[str, Any], name: str, namespace: str) -> Any:
    from ecs_operator.resources import parse_service
    from ecs_operator.translate import translate_service

    parsed = parse_service(service)
    return translate_service(
        parsed, taskdef, revision=1, cluster=CLUSTER, namespace=namespace, name=name
    ).objects


def _translate_task(task: dict[str, Any], taskdef: dict[str, Any], name: str, namespace: str) -> Any:
    from ecs_operator.resources import parse_task
    from ecs_operator.translate import translate_task

    parsed = parse_task(task)
    return translate_task(
        parsed, taskdef, revision=1, cluster=CLUSTER, namespace=namespace, name=name
    ).objects


SERVICES = Workload(
    "services",
    "EcsService",
    "ecsservices",
    "Deployment",
    harness.deployment_available,
    harness.service_converged,
    harness.service_name,
    harness.service_spec,
    _translate_service,
)
TASKS = Workload(
    "tasks",
    "EcsTask",
    "ecstasks",
    "Pod",
    harness.pod_running,
    harness.task_converged,
    harness.task_name,
    harness.task_spec,
    _translate_task,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--services", type=int, metavar="N", help="number of EcsServices")
    what.add_argument("--tasks", type=int, metavar="N", help="number of EcsTasks (one task each)")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="parallel applies")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for each phase")
    parser.add_argument("--audit-log", help="API server audit log (default: found next to the kubeconfig)")
    parser.add_argument("--rest-seconds", type=float, default=REST_SECONDS, help="idle window measured")
    parser.add_argument("--skip-restart", action="store_true", help="leave out the idle restart")
    parser.add_argument(
        "--skip-floor",
        action="store_true",
        help="leave out the floor: the operator phase (with --bound, the bound too), for its CPU and writes",
    )
    parser.add_argument(
        "--bound", action="store_true", help="also measure the floor plus the custom resources themselves"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="R",
        help="run R times (each on a fresh bench cluster) and end with a line of medians",
    )
    return parser.parse_args(argv)


def floor_objects(workload: Workload, count: int, namespace: str) -> list[list[dict[str, Any]]]:
    """Per object, what `convert` produces (the same translate calls as ecs_operator/convert.py)."""
    from ecs_operator.resources import parse_task_definition

    taskdef = parse_task_definition(harness.task_definition_spec())
    return [
        workload.translate(workload.spec(index), taskdef, workload.name(index), namespace)
        for index in range(count)
    ]


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


def measure_floor(
    api_client: Any,
    workload: Workload,
    count: int,
    concurrency: int,
    timeout: float,
    pids: dict[str, int],
    namespace: str = FLOOR_NAMESPACE,
    with_resources: bool = False,
) -> tuple[float, float, float | None]:
    """The floor (or, `with_resources`, the bound): seconds until every object exists and is done, and
    the CPU seconds the processes of `pids` used meanwhile (None without any)."""
    what = "bound" if with_resources else "floor"
    client = harness.kube(api_client)
    groups = floor_objects(workload, count, namespace)
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    names = {o["metadata"]["name"] for group in groups for o in group if o["kind"] == workload.floor_kind}
    tracker = Tracker(api_client, workload.floor_kind, namespace, workload.floor_done).start()
    cpu_before = cpu.cpu_seconds(pids)
    started = time.monotonic()

    def apply_group(index: int) -> None:
        if with_resources:
            client.apply(
                harness.custom_resource(workload.kind, workload.name(index), workload.spec(index), namespace)
            )
        for obj in groups[index]:
            client.apply(obj)

    harness.run_parallel(concurrency, list(range(count)), apply_group)
    exist_s, done_s = wait_phase(tracker, names, started, timeout, what)
    used = cpu.used_since(pids, cpu_before)
    tracker.stop()
    log(f"{what}: every {workload.floor_kind} exists after {exist_s:.1f}s, done after {done_s:.1f}s")
    if used:
        log(f"{what}: CPU {cpu.describe(used)}")
    client.delete("Namespace", namespace)
    if with_resources:  # no operator runs to remove the drain finalizer the admission policy added
        for body in client.list(workload.kind, namespace):
            if body["metadata"].get("finalizers"):
                client.merge_patch(
                    workload.kind, body["metadata"]["name"], namespace, {"metadata": {"finalizers": None}}
                )
    harness.wait_until(
        lambda: client.get("Namespace", namespace) is None, timeout, f"the {what} namespace to go"
    )
    return exist_s, done_s, (sum(used.values()) if used else None)


def per_object(counts: Counts, workload: Workload, count: int) -> str:
    noun = workload.noun[:-1]
    return f"{counts.writes / count:.2f} writes, {counts.reads / count:.2f} reads per {noun}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workload = SERVICES if args.services is not None else TASKS
    count = args.services if args.services is not None else args.tasks
    runs = []
    for number in range(1, args.repeat + 1):
        if args.repeat > 1:
            log(f"run {number} of {args.repeat}")
        fields = run_once(args, workload, count)
        runs.append(fields)
        print(summary(workload, count, fields), flush=True)
    if args.repeat > 1:
        print(summary(workload, count, medians(runs), median_of=args.repeat), flush=True)
    return 0


def summary(workload: Workload, count: int, fields: dict[str, Any], median_of: int | None = None) -> str:
    """`converge services=N [median_of=R] field=value …`; a field that was not measured is n/a."""
    head = f"converge {workload.noun}={count}" + (f" median_of={median_of}" if median_of else "")
    return " ".join([head, *(f"{name}={fmt(value)}" for name, value in fields.items())])


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each field's median over the runs (n/a where a run did not measure it)."""
    result: dict[str, Any] = {}
    for name in runs[0]:
        values = [run.get(name) for run in runs]
        if any(v is None for v in values):
            result[name] = None
        else:
            middle = statistics.median(values)
            integral = all(isinstance(v, int) for v in values) and middle == int(middle)
            result[name] = int(middle) if integral else float(middle)
    return result


def run_once(args: argparse.Namespace, workload: Workload, count: int) -> dict[str, Any]:
    """One run on a fresh bench cluster (unless $KUBECONFIG names one): the summary's fields."""
    names = {workload.name(i) for i in range(count)}
    with harness.bench_cluster(args.audit_log) as bench:
        audit: AuditLog | None = bench.audit
        if audit is None:
            log("no API server audit log: request counts are reported as n/a (use the local cluster)")
        api_client = harness.new_client(bench.kubeconfig)
        client = harness.kube(api_client)
        harness.require_crds(client)
        harness.add_capacity(api_client, count)
        log_dir = bench.state_dir or Path(bench.kubeconfig).resolve().parent
        operator = OperatorProcess(bench.kubeconfig, log_dir / "bench-operator.log")
        operator.log_path.unlink(missing_ok=True)
        if harness.leftovers(client) or any(
            client.get("Namespace", n) for n in (FLOOR_NAMESPACE, BOUND_NAMESPACE)
        ):
            log("removing what an earlier run left behind")
            operator.start()
            harness.cleanup(client, args.timeout, FLOOR_NAMESPACE, BOUND_NAMESPACE)
            operator.stop()

        # On the local cluster the CPU of each phase is read per process: both phases keep the machine busy,
        # so what differs between them is the work, and this says whose.
        pids = {**cpu.control_plane_pids(bench.state_dir), "bench": os.getpid()} if bench.state_dir else {}
        floor_s = floor_exist_s = floor_cpu = bound_s = bound_cpu = None
        if not args.skip_floor:
            harness.compact_etcd(bench)
            floor_exist_s, floor_s, floor_cpu = measure_floor(
                api_client, workload, count, args.concurrency, args.timeout, pids
            )
        if args.bound:
            harness.compact_etcd(bench)
            _, bound_s, bound_cpu = measure_floor(
                api_client, workload, count, args.concurrency, args.timeout, pids, BOUND_NAMESPACE, True
            )
        harness.compact_etcd(bench)
        operator.start()
        try:
            harness.prepare_operator_cluster(client, args.timeout)
            objects = Tracker(api_client, workload.kind, CLUSTER, workload.converged).start()
            expected = harness.cluster_counts(services=count if workload is SERVICES else 0, running=count)
            cluster = Tracker(api_client, "EcsCluster", "", expected).start()
            mark_start = audit.mark() if audit else 0
            operator_pids = {**pids, "operator": operator.pid}
            phase_cpu_start = cpu.cpu_seconds(operator_pids)
            started = time.monotonic()
            harness.run_parallel(
                args.concurrency,
                list(range(count)),
                lambda i: client.apply(
                    harness.custom_resource(workload.kind, workload.name(i), workload.spec(i), CLUSTER)
                ),
            )
            log(
                f"operator: the {count} {workload.kind}s were applied after {time.monotonic() - started:.1f}s"
            )
            operator_exist_s, objects_s = wait_phase(objects, names, started, args.timeout, "operator")
            _, counted_s = wait_phase(cluster, {CLUSTER}, started, args.timeout, "cluster counts")
            operator_s = max(objects_s, counted_s)
            mark_converged = audit.mark() if audit else 0
            phase_used = cpu.used_since(operator_pids, phase_cpu_start)
            cpu_converged = operator.cpu_seconds()
            log(
                f"operator: every {workload.kind} exists after {operator_exist_s:.1f}s, converged after "
                f"{objects_s:.1f}s; the EcsCluster counts them after {counted_s:.1f}s; "
                f"{phase_used['operator']:.1f}s of CPU"
            )
            if pids:
                log(f"operator phase: CPU {cpu.describe(phase_used)}")
            creation = audit.count(mark_start, mark_converged) if audit else None
            if creation:
                log(
                    f"operator requests during creation: {per_object(creation, workload, count)}; "
                    + creation.describe()
                )

            time.sleep(args.rest_seconds)  # the idle window itself is what is measured
            rest = audit.count(mark_converged, audit.mark()) if audit else None
            if rest:
                log(f"operator requests in {args.rest_seconds:.0f}s at rest: {rest.describe() or 'none'}")
            rss = operator.rss_mib()
            rest_cpu = operator.cpu_seconds() - cpu_converged
            log(f"operator CPU at rest: {rest_cpu:.1f}s in {args.rest_seconds:.0f}s")
            still = objects.count_true(names)
            log(f"operator RSS {rss:.1f} MiB; {still}/{count} {workload.kind}s still converged")

            restart_writes: int | None = None
            if not args.skip_restart:
                restart_writes = measure_restart(operator, audit, workload, objects, names, args.timeout)
            objects.stop()
            cluster.stop()
            problems = operator.problems()
            if problems:
                log(f"{len(problems)} error lines in the operator log, first: {problems[0]}")
        finally:
            if not bench.started_here:
                harness.cleanup(client, args.timeout, FLOOR_NAMESPACE)
            operator.stop()
        floor_said = f"floor: exist {floor_exist_s:.2f}s done {floor_s:.2f}s; " if floor_s is not None else ""
        print(f"{floor_said}operator: exist {operator_exist_s:.2f}s converged {operator_s:.2f}s")
        if creation:
            print(f"operator requests during creation: {per_object(creation, workload, count)}")
        if bound_s is not None and floor_s:
            print(
                f"bound: floor plus the {workload.kind}s done {bound_s:.2f}s, ratio {bound_s / floor_s:.2f}"
            )
    noun = workload.noun[:-1]
    operator_cpu = phase_used.get("operator")
    fields: dict[str, Any] = {
        "floor_s": floor_s,
        "operator_s": operator_s,
        "ratio": operator_s / floor_s if floor_s else None,
        "operator_bound_ratio": operator_s / bound_s if bound_s else None,
        "operator_cpu_ms": operator_cpu * 1000 / count if operator_cpu is not None else None,
        "rss_mib": rss,
        f"writes_per_{noun}": creation.writes / count if creation else None,
        "rest_writes": rest.writes if rest else None,
        "restart_writes": restart_writes,
        "bound_s": bound_s,
        "bound_ratio": bound_s / floor_s if bound_s is not None and floor_s else None,
    }
    return fields | cpu_fields(floor_cpu, bound_cpu, phase_used)


def cpu_fields(
    floor: float | None, bound: float | None, operator_phase: dict[str, float]
) -> dict[str, float | None]:
    """The CPU seconds of the measured processes per phase, and the operator's own (local cluster only)."""
    if "operator" not in operator_phase or len(operator_phase) == 1:
        return {}
    return {
        "floor_cpu_s": floor,
        "bound_cpu_s": bound,
        "operator_phase_cpu_s": sum(operator_phase.values()),
        "operator_cpu_s": operator_phase.get("operator", 0.0),
    }


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def measure_restart(
    operator: OperatorProcess,
    audit: AuditLog | None,
    workload: Workload,
    objects: Tracker,
    names: set[str],
    timeout: float,
) -> int | None:
    """Restart the operator with everything converged: time until it watches again, writes made."""
    operator.stop()
    mark = audit.mark() if audit else 0
    started = operator.start()
    if audit is None:
        return None

    def watching(event: dict[str, Any]) -> bool:
        return (
            is_operator(event)
            and event.get("verb") == "watch"
            and (event.get("objectRef") or {}).get("resource") == workload.plural
        )

    harness.wait_until(
        lambda: audit.first(mark, watching), timeout, f"the operator to watch {workload.plural}"
    )
    watch_s = time.monotonic() - started
    log(f"restart: watching {workload.plural} again {watch_s:.1f}s after the start")
    # Count for a window, longer while the operator still writes.
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
    log(f"restart: {objects.count_true(names)}/{len(names)} {workload.kind}s converged")
    return counts.writes


if __name__ == "__main__":
    harness.run(main)
