"""The console with `--services` services (desiredCount 1) in one cluster, the operator running.

- Render: the server's own time for the cluster's Services tab (a page of 100 services: ListServices, then
  DescribeServices 10 at a time) and for a service page, `--renders` times each, p50 and p99 (the
  `Server-Timing` header the console sets: loading through the operations layer plus rendering).
- Memory: the console process's RSS with the services cached and the pages open.
- At rest: the API server requests the console makes (the audit log, by its user agent `ecs-console/…`,
  and by the signed-in user's identity) while 1, then `--pages`, pages stay open on the service page's
  live stream for `--seconds` each. Target: the same for both (the watches and the renders are shared).
  Then the same with a change (the page's service scaled once the page load's access reviews have
  expired): the pages are rendered again, once for all of them, and their reviews asked once.

The console runs in its in-cluster mode (`--auth token`) as the admin, and the person signs in with the
token of a ServiceAccount bound to ecs-operator:console-view, so access reviews are part of the count.
One summary line per measure on standard output:

  console op=ServicesTab services=1000 renders=50 p50_ms=… p99_ms=… requests=[…]
  console op=AtRest pages=100 seconds=60 requests=… one_page_requests=… rss_mib=… many=[…] one=[…]
  console op=AfterAChange pages=100 … (the same, the page's service scaled during each window)
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import requests
from bs4 import BeautifulSoup
from ecs_operator.console.authz import REVIEW_SECONDS
from ecs_operator.console.process import ConsoleProcess
from ecs_operator.localcluster.audit import AuditLog, Counts
from ecs_operator.subprocesses import OperatorProcess, kubectl_binary
from harness import (
    CLUSTER,
    FAMILY,
    REPO_ROOT,
    add_capacity,
    bench_cluster,
    cleanup,
    cluster_counts,
    custom_resource,
    kube,
    log,
    new_client,
    service_name,
    service_spec,
    task_definition_spec,
    wait_until,
)

CONSOLE_AGENT = "ecs-console/"
VIEWER = "bench-viewer"
VIEWER_NAMESPACE = "default"
VIEWER_USERNAME = f"system:serviceaccount:{VIEWER_NAMESPACE}:{VIEWER}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900)
    return parser.parse_args(argv)


def populate(admin: Any, services: int, timeout: float) -> None:
    """EcsServices 0..services-1 applied (those there already are left as they are), all running."""
    admin.apply(custom_resource("EcsCluster", CLUSTER, {"clusterName": CLUSTER}, None))
    wait_until(lambda: admin.get("Namespace", CLUSTER), 60, "the cluster's namespace")
    admin.apply(custom_resource("EcsTaskDefinition", FAMILY, task_definition_spec(), CLUSTER))
    with ThreadPoolExecutor(32) as pool:
        list(
            pool.map(
                lambda i: admin.apply(
                    custom_resource("EcsService", service_name(i), service_spec(i), CLUSTER)
                ),
                range(services),
            )
        )
    counted = cluster_counts(services, services)
    wait_until(lambda: counted(admin.get("EcsCluster", CLUSTER) or {"metadata": {"name": ""}}), timeout,
               f"{services} services running", interval=2)  # fmt: skip


def sessions_secret(kubectl: list[str]) -> None:
    """The Secret the console keeps its session key in (empty, as manifests/console ships it; the namespace
    is the operator's, which its Lease already made)."""
    secret = REPO_ROOT / "manifests" / "console" / "session-secret.yaml"
    subprocess.run([*kubectl, "apply", "--server-side", "-f", str(secret)], check=True, capture_output=True)


def viewer_token(kubectl: list[str]) -> str:
    """A person who may read what the console shows (the shipped console-view role)."""

    def run(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [*kubectl, *args], input=stdin, capture_output=True, text=True, check=True
        ).stdout

    run("apply", "--server-side", "-f", str(REPO_ROOT / "manifests" / "console" / "user-roles.yaml"))
    for made in (
        ["serviceaccount", VIEWER, "-n", VIEWER_NAMESPACE],
        ["clusterrolebinding", VIEWER, "--clusterrole=ecs-operator:console-view",
         f"--serviceaccount={VIEWER_NAMESPACE}:{VIEWER}"],
    ):  # fmt: skip
        run("apply", "-f", "-", stdin=run("create", *made, "--dry-run=client", "-o", "yaml"))
    return run("create", "token", VIEWER, "-n", VIEWER_NAMESPACE, "--duration=2h").strip()


def sign_in(url: str, token: str) -> requests.Session:
    session = requests.Session()
    form = BeautifulSoup(session.get(f"{url}/signin", timeout=60).text, "html.parser")
    csrf = str(form.select_one("input[name=csrf]")["value"])  # type: ignore[index]
    answer = session.post(
        f"{url}/signin", data={"csrf": csrf, "token": token}, timeout=60, allow_redirects=False
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused: {answer.status_code} {answer.text[:300]}")
    return session


def server_ms(session: requests.Session, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        response = session.get(url, timeout=120)
        response.raise_for_status()
        times.append(float(response.headers["Server-Timing"].split("dur=", 1)[1]))
    return times


def live_url(session: requests.Session, page: str) -> str:
    """The stream a browser opens for `page`: the page's `sse-connect`, which names the version it shows."""
    html = BeautifulSoup(session.get(page, timeout=60).text, "html.parser")
    main = html.select_one("main[sse-connect]")
    if main is None:
        raise RuntimeError(f"{page} is not a live page")
    return page.split("/clusters/", 1)[0] + str(main["sse-connect"])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def by_console(event: dict[str, Any]) -> bool:
    user = str((event.get("user") or {}).get("username") or "")
    return str(event.get("userAgent", "")).startswith(CONSOLE_AGENT) or user == VIEWER_USERNAME


@dataclass
class Window:
    counts: Counts
    events: int  # SSE events the open pages received


async def hold_open(
    url: str,
    cookie: str,
    pages: int,
    seconds: float,
    audit: AuditLog,
    change: Callable[[], Any] | None = None,
) -> Window:
    """Open `pages` live streams of one page, then count the console's requests over `seconds`; with
    `change`, make it once the access reviews of the page's load have expired (so the renders it causes
    ask again)."""
    opened = 0
    events = 0
    ready = asyncio.Event()

    async def stream(session: aiohttp.ClientSession) -> None:
        nonlocal opened, events
        async with session.get(url, headers={"Accept": "text/event-stream"}) as response:
            response.raise_for_status()
            await response.content.readline()  # the stream's first line: it is open
            opened += 1
            if opened == pages:
                ready.set()
            async for line in response.content:
                events += line.startswith(b"event: ")

    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(cookies={"ecs_console_session": cookie}, timeout=timeout) as session:
        readers = [asyncio.create_task(stream(session)) for _ in range(pages)]
        await asyncio.wait_for(ready.wait(), 120)
        start = audit.mark()
        if change is None:
            await asyncio.sleep(seconds)  # the measured window: the pages open, the cluster at rest
        else:
            await asyncio.sleep(REVIEW_SECONDS + 1)
            await asyncio.to_thread(change)
            await asyncio.sleep(seconds - REVIEW_SECONDS - 1)
        counts = audit.count(start, audit.mark(), who=by_console)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return Window(counts, events)


def report(name: str, args: argparse.Namespace, one: Window, many: Window, rss: float) -> None:
    print(
        f"console op={name} pages={args.pages} seconds={args.seconds:.0f} "
        f"requests={sum(many.counts.by_kind.values())} one_page_requests={sum(one.counts.by_kind.values())} "
        f"events={many.events} one_page_events={one.events} rss_mib={rss:.0f} "
        f"many=[{many.counts.describe()}] one=[{one.counts.describe()}]",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ecs-console-bench-"))
    with bench_cluster(None) as bench:
        if bench.audit is None:
            raise SystemExit("the console bench counts requests in the API server's audit log: none found")
        api_client = new_client(bench.kubeconfig)
        admin = kube(api_client)
        kubectl = [kubectl_binary(), f"--kubeconfig={bench.kubeconfig}"]
        cleanup(admin, args.timeout)
        add_capacity(api_client, args.services + 10)
        operator = OperatorProcess(bench.kubeconfig, work / "operator.log")
        operator.start()
        console = ConsoleProcess(bench.kubeconfig, work / "console.log", auth="token")
        try:
            log(f"creating {args.services} services")
            began = time.monotonic()
            populate(admin, args.services, args.timeout)
            log(f"{args.services} services running after {time.monotonic() - began:.0f}s")
            token = viewer_token(kubectl)
            sessions_secret(kubectl)
            console.start()
            session = sign_in(console.url, token)
            tab = f"{console.url}/clusters/{CLUSTER}/services"
            page = f"{console.url}/clusters/{CLUSTER}/services/{service_name(args.services // 2)}"
            for name, url in (("ServicesTab", tab), ("ServicePage", page)):
                server_ms(session, url, 3)  # warm: the first access reviews of this user
                start = bench.audit.mark()
                times = server_ms(session, url, args.renders)
                reviews = bench.audit.count(start, bench.audit.mark(), who=by_console)
                print(
                    f"console op={name} services={args.services} renders={len(times)} "
                    f"p50_ms={percentile(times, 0.5):.1f} p99_ms={percentile(times, 0.99):.1f} "
                    f"requests=[{reviews.describe()}]",
                    flush=True,
                )
            cookie = session.cookies["ecs_console_session"]
            log(f"holding 1 page open for {args.seconds:.0f}s, then {args.pages}")
            one = asyncio.run(hold_open(live_url(session, page), cookie, 1, args.seconds, bench.audit))
            many = asyncio.run(
                hold_open(live_url(session, page), cookie, args.pages, args.seconds, bench.audit)
            )
            report("AtRest", args, one, many, console.rss_mib())
            watched = service_name(args.services // 2)

            def scale(desired: int) -> Callable[[], Any]:
                spec = {**service_spec(args.services // 2), "desiredCount": desired}
                return lambda: admin.apply(custom_resource("EcsService", watched, spec, CLUSTER))

            log(f"the same, the page's service scaled during each window ({args.seconds:.0f}s)")
            one = asyncio.run(
                hold_open(live_url(session, page), cookie, 1, args.seconds, bench.audit, scale(2))
            )
            many = asyncio.run(
                hold_open(live_url(session, page), cookie, args.pages, args.seconds, bench.audit, scale(1))
            )
            report("AfterAChange", args, one, many, console.rss_mib())
        finally:
            console.stop()
            cleanup(admin, args.timeout)
            operator.stop()
            log(f"logs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
