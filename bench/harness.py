"""What the benchmarks share: the cluster, a client, the operator subprocess, kwok capacity, watches.

The cluster is `$KUBECONFIG` when set (its audit log is found next to a local cluster's kubeconfig, or given
with --audit-log); otherwise a local control plane is brought up in its own state folder
(`ECS_OPERATOR_LOCAL_DIR`, default `.local/bench`) and taken down at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit import BENCH_USER_AGENT, AuditLog

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STATE_DIR = REPO_ROOT / ".local" / "bench"
CLUSTER = "bench"
FAMILY = "bench-app"
API = "ecs.operator.dev/v1alpha1"
WATCH_SECONDS = 240


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class BenchCluster:
    kubeconfig: str
    audit: AuditLog | None
    started_here: bool
    state_dir: Path | None


@contextlib.contextmanager
def bench_cluster(audit_log: str | None) -> Iterator[BenchCluster]:
    configured = os.environ.get("KUBECONFIG")
    if configured:
        kubeconfig = configured.split(os.pathsep)[0]
        guessed = Path(kubeconfig).resolve().parent / "logs" / "audit.log"
        path = Path(audit_log) if audit_log else guessed if guessed.exists() else None
        yield BenchCluster(kubeconfig, AuditLog(path) if path else None, False, None)
        return
    from ecs_operator.localcluster import cluster

    state_dir = Path(os.environ.get("ECS_OPERATOR_LOCAL_DIR") or DEFAULT_STATE_DIR)
    was_running = cluster.status(state_dir).running
    cluster.up(state_dir, progress=log)
    where = cluster.layout(state_dir)
    install_crds(str(where.kubeconfig))
    try:
        yield BenchCluster(str(where.kubeconfig), AuditLog(where.audit_log), not was_running, state_dir)
    finally:
        if not was_running:
            cluster.down(state_dir, progress=log)


def install_crds(kubeconfig: str) -> None:
    """Apply crds/ server-side (as users install them) and wait until every CRD is Established; add the
    drain-finalizer admission policy (manifests/admission), as docs/install.md advises on Kubernetes 1.36."""
    from ecs_operator.localcluster import versions

    kubectl = [str(versions.bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}"]
    crds = str(REPO_ROOT / "crds")
    subprocess.run(
        [*kubectl, "apply", "--server-side", "--force-conflicts", "-f", crds], check=True, capture_output=True
    )
    subprocess.run(
        [*kubectl, "wait", "--for=condition=Established", "--timeout=60s", "-f", crds],
        check=True,
        capture_output=True,
    )
    admission = str(REPO_ROOT / "manifests" / "admission")
    subprocess.run([*kubectl, "apply", "--server-side", "-k", admission], check=True, capture_output=True)
    wait_until_policy_serves_ecs_services(kubectl)


def wait_until_policy_serves_ecs_services(kubectl: list[str], timeout: float = 60) -> None:
    """Until the API server's policy plugin has loaded a new CRD's schema (it polls every 5 s), it refuses
    every create the policy matches with 503, failurePolicy or not: wait until the policy visibly adds the
    finalizer (a create that merely succeeds may come before the plugin has seen the policy at all)."""
    from ecs_operator.handlers.service import DRAIN_FINALIZER

    probe = json.dumps(
        {
            "apiVersion": API,
            "kind": "EcsService",
            "metadata": {"name": "admission-probe", "namespace": "default"},
            "spec": {"serviceName": "admission-probe", "taskDefinition": FAMILY, "desiredCount": 0},
        }
    )
    deadline = time.monotonic() + timeout
    while True:
        result = subprocess.run(
            [*kubectl, "create", "--dry-run=server", "-o", "jsonpath={.metadata.finalizers}", "-f", "-"],
            input=probe,
            capture_output=True,
            text=True,
        )
        if result.returncode == 0 and DRAIN_FINALIZER in result.stdout:
            return
        if time.monotonic() >= deadline:
            seen = result.stderr.strip() or result.stdout
            raise RuntimeError(f"the admission policy does not add {DRAIN_FINALIZER} yet: {seen}")
        time.sleep(0.5)


def new_client(kubeconfig: str) -> Any:
    from kubernetes import config

    client = config.new_client_from_config(config_file=kubeconfig)
    client.user_agent = BENCH_USER_AGENT
    client.configuration.connection_pool_maxsize = 64
    # new_client_from_config built its pool before we raised the size: rebuild it.
    from kubernetes.client import rest

    client.rest_client = rest.RESTClientObject(client.configuration)
    return client


def kube(api_client: Any) -> Any:
    from ecs_operator import kube as kube_module

    return kube_module.Kube(api_client)


def add_capacity(api_client: Any, pods: int) -> list[str]:
    """kwok container instances of the bench cluster with room for `pods` Pods (500 per Node)."""
    from ecs_operator.localcluster import nodes

    per_node = 500
    names = [f"bench-node-{i}" for i in range(max(2, -(-pods // per_node)))]
    capacity = {"cpu": "256", "memory": "1Ti", "pods": str(per_node), "ephemeral-storage": "1Ti"}
    for name in names:
        labels = dict(nodes.container_instance(name, CLUSTER).labels)
        nodes.ensure_node(api_client, name, labels=labels, capacity=capacity)
    nodes.wait_ready(api_client, names, timeout=120)
    return names


def task_definition_spec() -> dict[str, Any]:
    return {
        "family": FAMILY,
        "containerDefinitions": [
            {
                "name": "app",
                "image": "registry.k8s.io/pause:3.10",
                "essential": True,
                "cpu": 8,
                "memory": 16,
                "portMappings": [{"containerPort": 80, "protocol": "tcp", "name": "http"}],
            }
        ],
    }


def service_name(index: int) -> str:
    return f"svc-{index:04d}"


def service_spec(index: int, desired: int = 1) -> dict[str, Any]:
    return {
        "serviceName": service_name(index),
        "taskDefinition": FAMILY,
        "desiredCount": desired,
        "loadBalancers": [{"containerName": "app", "containerPort": 80}],
    }


def custom_resource(kind: str, name: str, spec: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": API, "kind": kind, "metadata": metadata, "spec": spec}


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {value!r}")
        time.sleep(interval)


def condition_true(obj: dict[str, Any] | None, condition_type: str) -> bool:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or ()
    return any(c.get("type") == condition_type and c.get("status") == "True" for c in conditions)


def deployment_available(obj: dict[str, Any]) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = int(spec.get("replicas", 1))
    return (
        int(status.get("observedGeneration") or 0) >= int(obj["metadata"].get("generation") or 0)
        and int(status.get("updatedReplicas") or 0) == desired
        and int(status.get("availableReplicas") or 0) == desired
    )


def service_converged(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    desired = (obj.get("spec") or {}).get("desiredCount", 1)
    return (
        status.get("runningCount") == desired
        and condition_true(obj, "Ready")
        and (obj.get("status") or {}).get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)
    )


class Tracker:
    """Watches one collection in one namespace and remembers, per object, since when a predicate holds.

    Convergence is level-based: an object that stops satisfying the predicate loses its time.
    """

    def __init__(
        self, api_client: Any, group: str, version: str, plural: str, namespace: str, predicate: Any
    ) -> None:
        self.api_client = api_client
        self.args = (group, version, namespace, plural)
        self.predicate: Callable[[dict[str, Any]], bool] = predicate
        self.seen: dict[str, float] = {}
        self.since: dict[str, float] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"watch-{plural}", daemon=True)

    def start(self) -> Tracker:
        self.thread.start()
        self.ready.wait(60)
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _record(self, kind: str, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        now = time.monotonic()
        with self.lock:
            if kind == "DELETED":
                self.objects.pop(name, None)
                self.since.pop(name, None)
                return
            self.objects[name] = obj
            self.seen.setdefault(name, now)
            if self.predicate(obj):
                self.since.setdefault(name, now)
            else:
                self.since.pop(name, None)

    def _run(self) -> None:
        from kubernetes import client, watch
        from kubernetes.client.exceptions import ApiException

        api = client.CustomObjectsApi(self.api_client)
        group, version, namespace, plural = self.args
        resource_version = ""
        while not self.stopped.is_set():
            try:
                if not resource_version:
                    listed = api.list_namespaced_custom_object(group, version, namespace, plural)
                    for obj in listed.get("items") or ():
                        self._record("ADDED", obj)
                    resource_version = listed["metadata"]["resourceVersion"]
                    self.ready.set()
                stream = watch.Watch().stream(
                    api.list_namespaced_custom_object,
                    group,
                    version,
                    namespace,
                    plural,
                    resource_version=resource_version,
                    timeout_seconds=WATCH_SECONDS,
                )
                for event in stream:
                    if event["type"] == "ERROR":
                        resource_version = ""
                        break
                    obj = event["object"]
                    resource_version = obj["metadata"]["resourceVersion"]
                    if event["type"] != "BOOKMARK":
                        self._record(event["type"], obj)
                    if self.stopped.is_set():
                        return
            except ApiException as error:
                if error.status == 410:
                    resource_version = ""
                    continue
                log(f"watch {plural}: {error.status} {error.reason}; retrying")
                time.sleep(1)
            except Exception as error:  # connection lost (e.g. the API server restarts): watch again
                log(f"watch {plural}: {type(error).__name__}: {error}; retrying")
                time.sleep(1)

    def count_seen(self, names: set[str]) -> int:
        with self.lock:
            return len(names & self.objects.keys())

    def count_true(self, names: set[str]) -> int:
        with self.lock:
            return len(names & self.since.keys())

    def all_seen_at(self, names: set[str]) -> float | None:
        with self.lock:
            if not names <= self.objects.keys():
                return None
            return max(self.seen[name] for name in names)

    def all_true_at(self, names: set[str]) -> float | None:
        with self.lock:
            if not names <= self.since.keys():
                return None
            return max(self.since[name] for name in names)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Operator:
    """`ecs-operator run` as a subprocess, logging to `log_path`."""

    kubeconfig: str
    log_path: Path
    liveness_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start and wait until the liveness endpoint answers; returns when it was started (monotonic)."""
        env = {**os.environ, "KUBECONFIG": self.kubeconfig}
        started = time.monotonic()
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ecs_operator",
                    "run",
                    "--bind",
                    "127.0.0.1",
                    "--metrics-port",
                    str(self.metrics_port),
                    "--liveness-port",
                    str(self.liveness_port),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        wait_until(self.alive, 120, f"the operator's liveness endpoint (log: {self.log_path})")
        return started

    def alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited with {self.process.returncode}; see {self.log_path}")
        try:
            url = f"http://127.0.0.1:{self.liveness_port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def rss_mib(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("VmRSS missing from /proc/<pid>/status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the operator has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, hard: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def problems(self) -> list[str]:
        """Log lines at level error or critical (JSON log format), and tracebacks."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if line.startswith("Traceback"):
                    found.append(line)
                continue
            if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
                found.append(line)
        return found


def cleanup(client: Any, timeout: float, *namespaces: str) -> None:
    """Remove what a run makes, while the operator runs (EcsServices carry its finalizer)."""
    from ecs_operator.kube import KubeError

    try:
        for namespace in namespaces:
            client.delete("Namespace", namespace)
        for body in client.list("EcsService", CLUSTER):
            client.delete("EcsService", body["metadata"]["name"], CLUSTER)
        client.delete("EcsTaskDefinition", FAMILY, CLUSTER)
        wait_until(lambda: not client.list("EcsService", CLUSTER), timeout, "EcsServices to go")
        client.delete("EcsCluster", CLUSTER)
        for namespace in (*namespaces, CLUSTER):
            wait_until(
                lambda ns=namespace: client.get("Namespace", ns) is None,
                timeout,
                f"namespace {namespace} to go",
            )
    except (KubeError, TimeoutError) as error:
        log(f"cleanup incomplete: {error}")
