"""Failover: two operator replicas, N EcsServices applied, the leader SIGKILLed in mid-burst.

    python bench/failover.py --services 200

Two `ecs-operator run` replicas elect a leader on the Lease ecs-operator-system/ecs-operator. Once both
are ready (caches listed), N EcsServices are applied with `--concurrency` workers; when half of them have
been applied, the leader is SIGKILLed. Measured:
- takeover_s: from the kill until the standby's write that gave it the Lease (from the API server's audit
  log, which logs the Lease's writes with their holder; without the log, until its metrics say it leads);
- lost: services not converged (runningCount == desiredCount, Ready, current observedGeneration) 60 s
  after the kill;
- duplicate_writes: writes by a replica while it did not hold the Lease (audit log; n/a without it);
- converged_s: from the kill until every service has converged.
Progress goes to standard error; the last line on standard output is
`failover takeover_s=… lost=… duplicate_writes=… services=N converged_s=…`.
"""

from __future__ import annotations

import argparse
import datetime
import threading
import time
from pathlib import Path
from typing import Any

import harness
from ecs_operator import NAMESPACE
from ecs_operator.localcluster.audit import AuditLog, lease_terms, stray_writes
from ecs_operator.run import DEFAULT_LEASE
from ecs_operator.subprocesses import OperatorProcess
from harness import CLUSTER, Tracker, log

LOST_AFTER_SECONDS = 60.0
DEFAULT_CONCURRENCY = 32


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=200, metavar="N", help="number of EcsServices")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="parallel applies")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for each step")
    parser.add_argument("--audit-log", help="API server audit log (default: found next to the kubeconfig)")
    return parser.parse_args(argv)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def leader_of(replicas: list[OperatorProcess]) -> OperatorProcess | None:
    return next((r for r in replicas if r.process is not None and r.leader()[1]), None)


def first_term_after(audit: AuditLog, mark: int, identity: str, after: datetime.datetime) -> Any:
    terms = lease_terms(list(audit.events(mark)), NAMESPACE, DEFAULT_LEASE)
    return next((t for t in terms if t.identity == identity and t.start >= after), None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = {harness.service_name(i) for i in range(args.services)}
    with harness.bench_cluster(args.audit_log) as bench:
        audit = bench.audit
        if audit is None:
            log("no API server audit log: takeover from the replicas' metrics, duplicate_writes n/a")
        api_client = harness.new_client(bench.kubeconfig)
        client = harness.kube(api_client)
        harness.require_crds(client)
        harness.add_capacity(api_client, args.services)
        log_dir = bench.state_dir or Path(bench.kubeconfig).resolve().parent
        replicas = [
            OperatorProcess(bench.kubeconfig, log_dir / f"failover-{name}.log", name=f"failover-{name}")
            for name in ("a", "b")
        ]
        for replica in replicas:
            replica.log_path.unlink(missing_ok=True)
            replica.start()
        try:
            result = measure(args, client, api_client, audit, replicas, names)
        finally:
            survivors = [r for r in replicas if r.process is not None]
            if survivors and not bench.started_here:
                harness.cleanup(client, args.timeout)
            for replica in replicas:
                replica.stop()
        print(
            f"failover takeover_s={fmt(result['takeover_s'])} lost={result['lost']} "
            f"duplicate_writes={fmt(result['duplicate_writes'])} services={args.services} "
            f"converged_s={fmt(result['converged_s'])}"
        )
    return 0


def measure(
    args: argparse.Namespace,
    client: Any,
    api_client: Any,
    audit: AuditLog | None,
    replicas: list[OperatorProcess],
    names: set[str],
) -> dict[str, Any]:
    for replica in replicas:
        harness.wait_until(replica.ready, args.timeout, f"{replica.name} ready (caches listed)")
    leader = harness.wait_until(lambda: leader_of(replicas), args.timeout, "a replica holding the Lease")
    standby = next(r for r in replicas if r is not leader)
    killed, successor = leader.leader()[0], standby.leader()[0]
    log(f"{killed} leads, {successor} stands by")
    if harness.leftovers(client):
        log("removing what an earlier run left behind")
        harness.cleanup(client, args.timeout)
    harness.prepare_operator_cluster(client, args.timeout)
    mark = audit.mark() if audit else 0
    since = None
    if audit is not None:
        since = harness.wait_until(
            lambda: first_term_after(audit, mark, killed, datetime.datetime.min.replace(tzinfo=datetime.UTC)),
            60,
            "a write of the Lease in the audit log (a local cluster older than its lease audit: restart it)",
        ).start
    services = Tracker(api_client, "EcsService", CLUSTER, harness.service_converged).start()
    applied = threading.Semaphore(0)
    half = args.services // 2

    def apply(index: int) -> None:
        client.apply(
            harness.custom_resource(
                "EcsService", harness.service_name(index), harness.service_spec(index), CLUSTER
            )
        )
        applied.release()

    burst = threading.Thread(
        target=harness.run_parallel, args=(args.concurrency, list(range(args.services)), apply)
    )
    started = time.monotonic()
    burst.start()
    for _ in range(half):
        applied.acquire()
    leader.stop(hard=True)
    killed_at, killed_wall = time.monotonic(), now()
    log(f"{half} of {args.services} applied after {killed_at - started:.1f}s: {killed} SIGKILLed")
    harness.wait_until(lambda: standby.leader()[1], args.timeout, f"{successor} to lead")
    takeover_s: float | None = time.monotonic() - killed_at  # as its metrics tell, polled
    if audit is not None:
        term = harness.wait_until(
            lambda: first_term_after(audit, mark, successor, killed_wall), 60, f"{successor}'s term"
        )
        takeover_s = (term.start - killed_wall).total_seconds()
    log(f"{successor} took the Lease {takeover_s:.1f}s after the kill")
    burst.join()
    log(f"all {args.services} applied after {time.monotonic() - started:.1f}s")
    remaining = killed_at + LOST_AFTER_SECONDS - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)  # `lost` is defined at this moment
    lost = args.services - services.count_true(names)
    log(f"{LOST_AFTER_SECONDS:.0f}s after the kill: {lost} of {args.services} services not converged")
    converged_at = harness.wait_until(lambda: services.all_true_at(names), args.timeout, "every service")
    converged_s = converged_at - killed_at
    services.stop()
    duplicate_writes: int | None = None
    if audit is not None:
        events = list(audit.events(mark))
        terms = lease_terms(events, NAMESPACE, DEFAULT_LEASE)
        stray = stray_writes(events, terms, since)
        duplicate_writes = len(stray)
        for term in terms:
            log(f"term of the Lease: {term.identity} {term.start.time()} to {term.end.time()}")
        for write in stray[:10]:
            log(f"written without the Lease: {write}")
    problems = standby.problems()
    if problems:
        log(f"{len(problems)} error lines in {successor}'s log, first: {problems[0]}")
    return {
        "takeover_s": takeover_s,
        "lost": lost,
        "duplicate_writes": duplicate_writes,
        "converged_s": converged_s,
    }


def fmt(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    harness.run(main)
