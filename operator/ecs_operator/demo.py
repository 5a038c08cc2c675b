"""`make demo` (`python -m ecs_operator.demo`): the ECS explainer scenario, end to end, then clean up.

Uses the cluster in $KUBECONFIG when set, else brings up the local control plane. Installs the CRDs,
starts the operator (`ecs-operator run`, logs to a file), applies `manifests/samples/`, waits until the
service `web` is steady, prints what an ECS user looks at, starts the ECS API (`ecs-operator api serve`)
and, with KEEP=1, the ECS console (`ecs-operator console`, whose URL it prints last). Unless `--keep`
(KEEP=1) it then stops the operator, the API and the local control plane if this run started it; with
KEEP=1 all of them keep running (the operator reconciles what the kept API creates) and it ends with the
export block and an `aws ecs describe-services` line for the API.

With `--real-node` (REAL=1) the local cluster gets its real node, the samples come from
`manifests/local/samples` (images built here, service `web` on the real node) and the demo shows an HTTP
response from one of web's tasks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_operator import subprocesses
from ecs_operator.console.process import ConsoleProcess
from ecs_operator.status.deployments import primary_deployment

WAIT_SECONDS = 240


class DemoError(Exception):
    pass


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


class Kubectl:
    def __init__(self, binary: str, kubeconfig: str) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [self.binary, "--kubeconfig", self.kubeconfig, *args], capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise DemoError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def items(self, *args: str) -> list[dict[str, Any]]:
        return list(json.loads(self("get", *args, "-o", "json"))["items"])


def operator_log_path() -> Path:
    return Path(tempfile.gettempdir()) / "ecs-operator-demo.log"


def api_log_path() -> Path:
    return Path(tempfile.gettempdir()) / "ecs-api-demo.log"


def console_log_path() -> Path:
    return Path(tempfile.gettempdir()) / "ecs-console-demo.log"


def export_block(api: subprocesses.ApiProcess, key: dict[str, str]) -> str:
    """What to paste to use the API with the AWS CLI, and one command that works on the samples."""
    aws = "aws" if shutil.which("aws") else str(Path(sys.executable).with_name("aws"))
    return "\n".join(
        [
            f"export AWS_ENDPOINT_URL_ECS={api.url} AWS_ACCESS_KEY_ID={key['AWS_ACCESS_KEY_ID']} "
            f"AWS_SECRET_ACCESS_KEY={key['AWS_SECRET_ACCESS_KEY']} AWS_DEFAULT_REGION=us-east-1",
            f"{aws} ecs describe-services --cluster demo --services web",
        ]
    )


def table(rows: Sequence[Sequence[Any]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def condition(obj: dict[str, Any], condition_type: str) -> str:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == condition_type:
            return str(cond.get("status"))
    return "-"


def report(kubectl: Kubectl) -> str:
    lines: list[str] = []
    clusters = kubectl.items("ecsclusters")
    rows: list[list[Any]] = [["CLUSTER", "STATUS", "INSTANCES", "RUNNING TASKS", "PENDING TASKS", "SERVICES"]]
    for c in clusters:
        s = c.get("status") or {}
        rows.append([
            c["metadata"]["name"], s.get("status", "-"), s.get("registeredContainerInstancesCount", "-"),
            s.get("runningTasksCount", "-"), s.get("pendingTasksCount", "-"),
            s.get("activeServicesCount", "-"),
        ])  # fmt: skip
    lines += ["", table(rows)]
    services = kubectl.items("ecsservices", "-A")
    rows = [["SERVICE", "STATUS", "DESIRED", "RUNNING", "PENDING", "TASK DEFINITION", "ROLLOUT", "READY"]]
    for svc in services:
        s = svc.get("status") or {}
        primary = dict(primary_deployment(s.get("deployments")) or {})
        rows.append([
            f"{svc['metadata']['namespace']}/{svc['metadata']['name']}", s.get("status", "-"),
            s.get("desiredCount", "-"), s.get("runningCount", "-"), s.get("pendingCount", "-"),
            s.get("taskDefinition", "-"), primary.get("rolloutState", "-"), condition(svc, "Ready"),
        ])  # fmt: skip
    lines += ["", table(rows)]
    rows = [["TASK", "POD", "LAST STATUS", "DESIRED", "STOP CODE", "EXIT CODES"]]
    for task in kubectl.items("ecstasks", "-A"):
        for entry in (task.get("status") or {}).get("tasks") or ():
            exits = ",".join(
                f"{c.get('name')}={c['exitCode']}" for c in entry.get("containers") or () if "exitCode" in c
            )
            rows.append([
                f"{task['metadata']['namespace']}/{task['metadata']['name']}", entry.get("podName", "-"),
                entry.get("lastStatus", "-"), entry.get("desiredStatus", "-"), entry.get("stopCode", "-"),
                exits or "-",
            ])  # fmt: skip
    lines += ["", table(rows)]
    for svc in services:
        s = svc.get("status") or {}
        name = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
        lines += ["", f"Deployments of {name}:"]
        for d in s.get("deployments") or ():
            lines.append(
                f"  {d.get('id')} {d.get('status')} {d.get('taskDefinition')} "
                f"desired={d.get('desiredCount')} running={d.get('runningCount')} "
                f"pending={d.get('pendingCount')} {d.get('rolloutState')}"
            )
        lines.append(f"Events of {name} (newest first):")
        lines += [f"  {e.get('createdAt')} {e.get('message')}" for e in (s.get("events") or [])[:6]]
    return "\n".join(lines)


def web_response(kubectl: Kubectl) -> str:
    """A real HTTP response from one of web's tasks on the real node (its Pod IP is on the node's bridge)."""
    from ecs_operator.localcluster.realnode.layout import NODE_NAME

    pods = kubectl.items("pods", "-n", "demo", "-l", "ecs.operator.dev/service=web")
    pod = next((p for p in pods if p["spec"].get("nodeName") == NODE_NAME and p["status"].get("podIP")), None)
    if pod is None:
        raise DemoError(f"no task of service web runs on the real node {NODE_NAME}")
    url = f"http://{pod['status']['podIP']}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode(errors="replace")
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines += [
            f"{name}: {value}"
            for name, value in response.headers.items()
            if name in ("Server", "Content-Type")
        ]
    title = body.split("<title>", 1)[-1].split("</title>", 1)[0] if "<title>" in body else body[:80]
    return "\n".join(
        [
            f"==> GET {url} (task {pod['metadata']['name']} on {NODE_NAME}, a real nginx container):",
            *lines,
            f"<title>{title}</title>",
        ]
    )


def wait_ready(kubectl: Kubectl, what: str, namespace: str | None, timeout: int) -> None:
    args = ["wait", "--for=condition=Ready", what, f"--timeout={timeout}s"]
    if namespace:
        args += ["-n", namespace]
    kubectl(*args)


@dataclass
class _Cluster:
    kubeconfig: str
    started: bool = False  # this demo started the local control plane
    added_real_node: bool = False  # this demo added the real node to a running one


@dataclass
class _Processes:
    """The operator, the ECS API and the console the demo started, and whether they are kept (KEEP=1)."""

    operator: subprocesses.OperatorProcess | None = None
    api: subprocesses.ApiProcess | None = None
    console: ConsoleProcess | None = None
    key: dict[str, str] | None = None
    kept: bool = False

    def stop_unkept(self) -> None:
        if self.kept:
            return
        if self.operator is not None:
            say("stopping the operator")
            self.operator.stop()
        for process in (self.api, self.console):
            if process is not None:
                process.stop()


def _start_cluster(real_node: bool) -> _Cluster:
    from ecs_operator.localcluster import cluster as localcluster

    kubeconfig = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    if kubeconfig and real_node:
        raise DemoError("the real node belongs to the local cluster: unset KUBECONFIG for REAL=1")
    if kubeconfig:
        say(f"using the cluster in $KUBECONFIG ({kubeconfig})")
        return _Cluster(kubeconfig)
    before = localcluster.status()
    say("reusing the running local control plane" if before.running else "starting the local control plane")
    localcluster.up(with_real_node=real_node)
    return _Cluster(
        str(localcluster.layout().kubeconfig),
        started=not before.running,
        added_real_node=real_node and before.running and before.real_node.startswith("none"),
    )


def _show_samples(kubectl: Kubectl, root: Path, real_node: bool) -> None:
    say("applying the EcsCluster sample, then the rest of manifests/samples/")
    kubectl("apply", "--server-side", "-f", str(root / "manifests" / "samples" / "cluster.yaml"))
    wait_ready(kubectl, "ecscluster/demo", None, 60)
    samples = root / "manifests" / ("local/samples" if real_node else "samples")
    kubectl("apply", "--server-side", "-k", str(samples))
    say("waiting for service web to reach a steady state")
    wait_ready(kubectl, "ecsservice/web", "demo", WAIT_SECONDS)
    # The cluster's counts follow the services' tasks about a second later.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = json.loads(kubectl("get", "ecscluster", "demo", "-o", "json")).get("status") or {}
        if status.get("activeServicesCount"):
            break
        time.sleep(1)
    print(report(kubectl), flush=True)
    print()
    print(kubectl("get", "ecs", "-n", "demo"), flush=True)
    if real_node:
        print(web_response(kubectl), flush=True)


def _start_processes(
    cluster: _Cluster, kubectl: Kubectl, keep: bool, real_node: bool, running: _Processes
) -> None:
    from ecs_operator.localcluster import cluster as localcluster
    from ecs_operator.localcluster import paths

    root = paths.repo_root()
    say("installing the CRDs (crds/)")
    subprocesses.install_crds(cluster.kubeconfig, root / "crds")
    log_path = operator_log_path()  # outside the cluster's state directory, which `down` removes
    log_path.unlink(missing_ok=True)
    say(f"starting the operator (logs: {log_path})")
    running.operator = subprocesses.OperatorProcess(cluster.kubeconfig, log_path)
    running.operator.start()
    _show_samples(kubectl, root, real_node)
    say(f"starting the ECS API (logs: {api_log_path()})")
    running.api = subprocesses.ApiProcess(cluster.kubeconfig, api_log_path())
    running.api.start()
    running.key = running.api.create_key(f"demo-{running.api.port}", "ecs-demo", ("system:masters",))
    if not keep:
        return
    say(f"starting the ECS console (logs: {console_log_path()})")
    running.console = ConsoleProcess(cluster.kubeconfig, console_log_path())
    running.console.start()
    processes = {
        "operator": running.operator.process,
        "ecs-api": running.api.process,
        "ecs-console": running.console.process,
    }
    if not os.environ.get("KUBECONFIG"):  # `make cluster-down` stops them with the local cluster
        localcluster.keep({name: p.pid for name, p in processes.items() if p is not None})
    running.kept = True


def run_demo(keep: bool, real_node: bool = False) -> int:
    from ecs_operator.localcluster import cluster as localcluster

    cluster = _start_cluster(real_node)
    kubectl = Kubectl(subprocesses.kubectl_binary(), cluster.kubeconfig)
    running = _Processes()
    try:
        _start_processes(cluster, kubectl, keep, real_node, running)
    finally:
        running.stop_unkept()
        if cluster.started and not keep:
            say("stopping the local control plane (KEEP=1 or --keep keeps it)")
            localcluster.down()
        elif cluster.added_real_node and not keep:
            say("removing the real node this demo added (KEEP=1 or --keep keeps it)")
            localcluster.remove_real_node()
    _farewell(cluster, keep, running)
    return 0


def _farewell(cluster: _Cluster, keep: bool, running: _Processes) -> None:
    operator, api, console = running.operator, running.api, running.console
    if running.kept and operator is not None and operator.process is not None:
        say(f"the operator keeps running (pid {operator.process.pid}), reconciling what you create")
    if keep and not os.environ.get("KUBECONFIG"):
        say(
            f"the local control plane keeps running (KUBECONFIG={cluster.kubeconfig}); `make cluster-down` "
            "stops it with the operator, the ECS API and the console"
        )
    elif not cluster.started:
        say(
            "the samples stay in the cluster; to remove them, run the operator (`make run`) and "
            "`kubectl delete -k manifests/samples` (services drain before they go)"
        )
    say(f"the operator's log: {operator_log_path()}")
    if keep and api is not None and running.key is not None:
        pid = api.process.pid if api.process else "?"
        say(f"the ECS API keeps running on {api.url} (pid {pid}, docs/ecs-api.md); paste:")
        print(export_block(api, running.key), flush=True)
    if console is not None:
        pid = console.process.pid if console.process else "?"
        say(f"the ECS console keeps running (pid {pid}, docs/console.md); open: {console.signin_url}")
    say("done; nothing of the demo is left running" if cluster.started and not keep else "done")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecs_operator.demo", description=__doc__)
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("KEEP", "") not in ("", "0"),
        help="leave the local control plane, the ECS API and the console running at the end (also KEEP=1)",
    )
    parser.add_argument(
        "--real-node",
        action="store_true",
        default=os.environ.get("REAL", "") not in ("", "0"),
        help="run service web on the local cluster's real node and show its HTTP response (also REAL=1)",
    )
    args = parser.parse_args(argv)
    try:
        return run_demo(args.keep, args.real_node)
    except Exception as error:
        from ecs_operator.localcluster.errors import LocalClusterError

        if not isinstance(error, DemoError | LocalClusterError | subprocesses.LaunchError):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
