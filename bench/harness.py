"""What the benchmarks share: the cluster, a client, the operator subprocess, kwok capacity, watches.

The cluster is `$KUBECONFIG` when set (its audit log is found next to a local cluster's kubeconfig, or given
with --audit-log); otherwise a local control plane is brought up in its own state folder
(`ECS_OPERATOR_LOCAL_DIR`, default `.local/bench`) and taken down at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_operator.localcluster.audit import BENCH_USER_AGENT, AuditLog

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STATE_DIR = REPO_ROOT / ".local" / "bench"
CLUSTER = "bench"
FAMILY = "bench-app"
API = "ecs.operator.dev/v1alpha1"


class BenchError(Exception):
    """A bench cannot run here (e.g. the cluster lacks the CRDs); said in one line, without a traceback."""


def run(main: Callable[[], int]) -> None:
    """Exit with `main()`'s code; a bench that cannot run here says why in one line (exit code 2)."""
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


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
        from ecs_operator.localcluster import cluster

        local = Path(kubeconfig).resolve().parent
        state_dir = local if cluster.layout(local).state_file.exists() else None  # a local cluster's, by path
        yield BenchCluster(kubeconfig, AuditLog(path) if path else None, False, state_dir)
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


def compact_etcd(bench: BenchCluster) -> None:
    """Compact etcd's history, so that every phase starts from the same store. The API server compacts only
    every 5 minutes, and one phase leaves tens of thousands of revisions behind (1000 services write about
    25 000 times), which made the phase after it slower than the first by up to a fifth. Local cluster only
    (its etcd answers on loopback, without TLS)."""
    if bench.state_dir is None:
        log("etcd is not compacted between phases (not the local cluster): later phases may run slower")
        return
    from ecs_operator.localcluster import cluster, state

    recorded = state.load(cluster.layout(bench.state_dir).state_file)
    if recorded is None:
        log(f"etcd is not compacted between phases (no local cluster recorded in {bench.state_dir})")
        return
    base = f"http://127.0.0.1:{recorded.ports['etcd']}/v3/kv"
    every_key = {"key": "AA==", "range_end": "AA==", "count_only": True}  # base64 of b"\0": all keys
    revision = _post_json(f"{base}/range", every_key)["header"]["revision"]
    _post_json(f"{base}/compaction", {"revision": revision, "physical": True})
    log(f"etcd compacted at revision {revision}")


def _post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.load(response)
        return answer


def install_crds(kubeconfig: str) -> None:
    """The CRDs as users install them, and the drain-finalizer admission policy (manifests/admission), as
    docs/install.md advises on Kubernetes 1.36."""
    from ecs_operator import subprocesses

    subprocesses.install_crds(kubeconfig, REPO_ROOT / "crds")
    kubectl = [subprocesses.kubectl_binary(), f"--kubeconfig={kubeconfig}"]
    admission = str(REPO_ROOT / "manifests" / "admission")
    subprocess.run([*kubectl, "apply", "--server-side", "-k", admission], check=True, capture_output=True)
    wait_until_policy_serves_ecs_services(kubectl)


def wait_until_policy_serves_ecs_services(kubectl: list[str], timeout: float = 60) -> None:
    """Until the API server's policy plugin has loaded a new CRD's schema (it polls every 5 s), it refuses
    every create the policy matches with 503, failurePolicy or not: wait until the policy visibly adds the
    finalizer (a create that merely succeeds may come before the plugin has seen the policy at all)."""
    from ecs_operator.labels import DRAIN_FINALIZER

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


def run_parallel(concurrency: int, jobs: list[Any], fn: Any) -> None:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(fn, jobs):
            pass


def prepare_operator_cluster(client: Any, timeout: float) -> None:
    """The EcsCluster `bench` and the EcsTaskDefinition `bench-app`, Ready (the operator must run)."""
    client.apply(custom_resource("EcsCluster", CLUSTER, {"clusterName": CLUSTER}, None))
    wait_until(
        lambda: condition_true(client.get("EcsCluster", CLUSTER), "Ready"), timeout, "EcsCluster Ready"
    )
    client.apply(custom_resource("EcsTaskDefinition", FAMILY, task_definition_spec(), CLUSTER))
    wait_until(
        lambda: condition_true(client.get("EcsTaskDefinition", FAMILY, CLUSTER), "Ready"),
        timeout,
        "EcsTaskDefinition Ready",
    )


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


def task_name(index: int) -> str:
    return f"task-{index:04d}"


def task_spec(index: int) -> dict[str, Any]:
    return {"taskDefinition": FAMILY, "count": 1, "startedBy": "bench"}


def pod_running(obj: dict[str, Any]) -> bool:
    return bool((obj.get("status") or {}).get("phase") == "Running")


def task_converged(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    tasks = status.get("tasks") or ()
    return (
        len(tasks) == int((obj.get("spec") or {}).get("count", 1))
        and all(t.get("lastStatus") == "RUNNING" for t in tasks)
        and condition_true(obj, "Ready")
        and status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)
    )


def cluster_counts(services: int, running: int) -> Callable[[dict[str, Any]], bool]:
    """The EcsCluster counts every task running and every service active (and nothing pending)."""

    def counted(obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        return (
            obj["metadata"]["name"] == CLUSTER
            and status.get("runningTasksCount") == running
            and status.get("pendingTasksCount") == 0
            and status.get("activeServicesCount") == services
        )

    return counted


def require_crds(client: Any) -> None:
    """The operator's CRDs must be installed: say so plainly when they are not."""
    from ecs_operator.kube import KubeError

    try:
        client.list_chunk("EcsCluster", "", 1)
    except KubeError as error:
        if error.status == 404:
            raise BenchError(
                "the cluster has no ecs.operator.dev CRDs: install them first "
                "(kubectl apply --server-side -f crds/), or unset KUBECONFIG to use a local control plane"
            ) from None
        raise


def leftovers(client: Any) -> bool:
    return bool(client.list("EcsService", CLUSTER) or client.list("EcsTask", CLUSTER))


def service_converged(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    desired = (obj.get("spec") or {}).get("desiredCount", 1)
    return (
        status.get("runningCount") == desired
        and condition_true(obj, "Ready")
        and (obj.get("status") or {}).get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)
    )


class Tracker:
    """Watches one kind in one namespace (with the runtime's own informer, under the bench's user agent) and
    remembers, per object, since when a predicate holds.

    Convergence is level-based: an object that stops satisfying the predicate loses its time.
    """

    def __init__(
        self, api_client: Any, kind: str, namespace: str, predicate: Callable[[dict[str, Any]], bool]
    ) -> None:
        from ecs_operator.runtime import Informer

        self.predicate = predicate
        self.seen: dict[str, float] = {}
        self.since: dict[str, float] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.informer = Informer(
            kube(api_client),
            kind,
            project=lambda obj: obj if obj["metadata"].get("namespace", "") == namespace else None,
        )
        self.informer.subscribe(self._record)

    def start(self) -> Tracker:
        self.informer.start()
        self.informer.synced.wait(60)
        return self

    def stop(self) -> None:
        self.informer.stop()

    def _record(self, change: Any) -> None:
        now = time.monotonic()
        with self.lock:
            if change.new is None:
                name = change.old["metadata"]["name"]
                self.objects.pop(name, None)
                self.since.pop(name, None)
                return
            name = change.new["metadata"]["name"]
            self.objects[name] = change.new
            self.seen.setdefault(name, now)
            if self.predicate(change.new):
                self.since.setdefault(name, now)
            else:
                self.since.pop(name, None)

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


def cleanup(client: Any, timeout: float, *namespaces: str) -> None:
    """Remove what a run makes, while the operator runs (EcsServices carry its finalizer)."""
    from ecs_operator.kube import KubeError

    try:
        for namespace in namespaces:
            client.delete("Namespace", namespace)
        for kind in ("EcsService", "EcsTask"):
            for body in client.list(kind, CLUSTER):
                client.delete(kind, body["metadata"]["name"], CLUSTER)
        client.delete("EcsTaskDefinition", FAMILY, CLUSTER)
        wait_until(lambda: not leftovers(client), timeout, "EcsServices and EcsTasks to go")
        client.delete("EcsCluster", CLUSTER)
        for namespace in (*namespaces, CLUSTER):
            wait_until(
                lambda ns=namespace: client.get("Namespace", ns) is None,
                timeout,
                f"namespace {namespace} to go",
            )
    except (KubeError, TimeoutError) as error:
        log(f"cleanup incomplete: {error}")
