"""Soak: continuous scale and update churn on N EcsServices for a while, then everything must converge.

    python bench/soak.py --services 100 --minutes 10

Churn: every second a few random services get a new desiredCount (1-3), and every `--update-every`
seconds the task definition gets a new revision (an environment change), which rolls every service.
Reports the operator's RSS over time (growth beyond noise is a leak), error lines in its log, and the time
everything takes to converge after the churn stops. Last line on standard output:
`soak services=N minutes=M changes=… rss_first_mib=… rss_last_mib=… rss_growth_mib=… errors=… converge_s=…`
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import harness
from ecs_operator.subprocesses import OperatorProcess
from harness import CLUSTER, FAMILY, Tracker, log

SAMPLE_SECONDS = 15


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument(
        "--update-every", type=float, default=60, help="seconds between task definition updates"
    )
    parser.add_argument("--scales-per-second", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def task_definition(version: int) -> dict[str, Any]:
    spec = harness.task_definition_spec()
    spec["containerDefinitions"][0]["environment"] = [{"name": "SOAK_VERSION", "value": str(version)}]
    return harness.custom_resource("EcsTaskDefinition", FAMILY, spec, CLUSTER)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chance = random.Random(args.seed)
    names = {harness.service_name(i) for i in range(args.services)}
    with harness.bench_cluster(None) as bench:
        api_client = harness.new_client(bench.kubeconfig)
        client = harness.kube(api_client)
        harness.require_crds(client)
        harness.add_capacity(api_client, args.services * 3)
        log_dir = bench.state_dir or Path(bench.kubeconfig).resolve().parent
        operator = OperatorProcess(bench.kubeconfig, log_dir / "soak-operator.log")
        operator.log_path.unlink(missing_ok=True)
        operator.start()
        try:
            client.apply(harness.custom_resource("EcsCluster", CLUSTER, {"clusterName": CLUSTER}, None))
            harness.wait_until(
                lambda: harness.condition_true(client.get("EcsCluster", CLUSTER), "Ready"), 120, "EcsCluster"
            )
            version = 0
            client.apply(task_definition(version))
            services = Tracker(api_client, "EcsService", CLUSTER, harness.service_converged).start()
            desired = dict.fromkeys(names, 1)
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(
                    pool.map(
                        lambda i: client.apply(
                            harness.custom_resource(
                                "EcsService", harness.service_name(i), harness.service_spec(i), CLUSTER
                            )
                        ),
                        range(args.services),
                    )
                )
            harness.wait_until(lambda: services.all_true_at(names), args.timeout, "initial convergence")
            log(f"{args.services} services converged; churn for {args.minutes:g} minutes")

            rss: list[tuple[float, float]] = []
            changes = 0
            started = time.monotonic()
            next_update = started + args.update_every
            next_sample = started
            while time.monotonic() - started < args.minutes * 60:
                now = time.monotonic()
                if now >= next_sample:
                    rss.append((now - started, operator.rss_mib()))
                    log(f"t={now - started:.0f}s rss={rss[-1][1]:.1f} MiB changes={changes}")
                    next_sample += SAMPLE_SECONDS
                if now >= next_update:
                    version += 1
                    client.apply(task_definition(version))
                    changes += 1
                    next_update += args.update_every
                for name in chance.sample(sorted(names), args.scales_per_second):
                    desired[name] = chance.randint(1, 3)
                    index = int(name.rsplit("-", 1)[1])
                    client.apply(
                        harness.custom_resource(
                            "EcsService", name, harness.service_spec(index, desired[name]), CLUSTER
                        )
                    )
                    changes += 1
                time.sleep(1)  # the churn's pace, not a wait for state
            churn_end = time.monotonic()
            log(f"churn over after {changes} changes; waiting for convergence")

            def settled() -> bool:
                """Every service at its last desiredCount and on the latest revision (intermediate
                revisions may be skipped when the spec changed again before the operator saw it)."""
                taskdef = client.get("EcsTaskDefinition", FAMILY, CLUSTER) or {}
                status = taskdef.get("status") or {}
                if status.get("observedGeneration") != taskdef.get("metadata", {}).get("generation"):
                    return False
                latest = status.get("taskDefinition")
                with services.lock:
                    objects = dict(services.objects)
                    converged = set(services.since)
                return all(
                    name in converged
                    and (objects[name].get("spec") or {}).get("desiredCount") == desired[name]
                    and (objects[name].get("status") or {}).get("taskDefinition") == latest
                    for name in names
                )

            harness.wait_until(settled, args.timeout, "convergence after the churn", interval=1)
            converge_s = time.monotonic() - churn_end
            rss.append((time.monotonic() - started, operator.rss_mib()))
            services.stop()
            errors = operator.problems()
            for line in errors[:5]:
                log(f"operator error: {line}")
        finally:
            if not bench.started_here:
                harness.cleanup(client, args.timeout)
            operator.stop()
    # The first minute warms caches up; compare the median of the second minute with the last minute's.
    first = [value for t, value in rss if 60 <= t < 120] or [rss[0][1]]
    last = [value for t, value in rss if t >= rss[-1][0] - 60]
    rss_first, rss_last = statistics.median(first), statistics.median(last)
    print(
        f"soak services={args.services} minutes={args.minutes:g} changes={changes} "
        f"rss_first_mib={rss_first:.1f} rss_last_mib={rss_last:.1f} "
        f"rss_growth_mib={rss_last - rss_first:.1f} "
        f"errors={len(errors)} converge_s={converge_s:.1f}"
    )
    return 0 if not errors else 1


if __name__ == "__main__":
    harness.run(main)
