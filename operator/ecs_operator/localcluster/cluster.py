"""`up`, `down`, `status` and single-component restarts of the local control plane.

Every process is recorded in `<state>/state.json` as soon as it starts, so `down` (or the next `up`, after a
crash) finds and stops all of them. A file lock serialises commands on the same state folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_operator.localcluster import health, nodes, paths, ports, processes, resourcemetrics, versions
from ecs_operator.localcluster.build import build, format_seconds, print_progress
from ecs_operator.localcluster.build import missing as missing_binaries
from ecs_operator.localcluster.components import (
    AUDIT_POLICY,
    COMPONENTS,
    PORT_NAMES,
    Layout,
    component_args,
)
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.pki import create_pki, write_kubeconfig
from ecs_operator.localcluster.realnode import node as real_node
from ecs_operator.localcluster.stages import render_stages
from ecs_operator.localcluster.state import ClusterState, load, save

APISERVER_PORT_ENV = "ECS_OPERATOR_APISERVER_PORT"
START_TIMEOUT_SECONDS = 60.0

Progress = Callable[[str], None]


def layout(state_dir: Path | None = None) -> Layout:
    return Layout(state_dir or paths.state_dir())


@contextmanager
def state_lock(where: Layout) -> Iterator[None]:
    where.state.mkdir(parents=True, exist_ok=True)
    with where.lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fixed_ports() -> dict[str, int]:
    configured = os.environ.get(APISERVER_PORT_ENV)
    if not configured:
        return {}
    if not configured.isdigit() or not 0 < int(configured) < 65536:
        raise LocalClusterError(f"{APISERVER_PORT_ENV}={configured!r} is not a port number (1-65535)")
    return {"kube-apiserver": int(configured)}


def dead_components(state: ClusterState) -> list[str]:
    return [name for name in COMPONENTS if not _running(state, name)]


def _running(state: ClusterState, name: str) -> bool:
    record = state.processes.get(name)
    return record is not None and processes.is_running(record)


def server_url(state: ClusterState) -> str:
    return f"https://{ports.LOOPBACK}:{state.ports['kube-apiserver']}"


def readiness_check(name: str, where: Layout, state: ClusterState) -> Callable[[], tuple[bool, str]]:
    port = state.ports[name]
    if name == "etcd":

        def etcd_healthy() -> tuple[bool, str]:
            ok, body = health.probe(f"http://{ports.LOOPBACK}:{port}/health")
            return ok and '"health":"true"' in body, body

        return etcd_healthy
    if name == "kube-apiserver":
        context = health.client_context(where.pki)
        return lambda: health.probe(f"https://{ports.LOOPBACK}:{port}/readyz", context)
    if name == "kwok":
        return lambda: health.probe(f"http://{ports.LOOPBACK}:{port}/healthz")
    if name == "metrics-server":
        # /livez, not /readyz: readiness waits for a first scrape (15 s), which nothing in `up` needs.
        return lambda: health.probe(f"https://{ports.LOOPBACK}:{port}/livez", health.unverified_context())
    return lambda: health.probe(f"https://{ports.LOOPBACK}:{port}/healthz", health.unverified_context())


def start_component(name: str, where: Layout, state: ClusterState, progress: Progress) -> None:
    """Start one component, record it in the state file at once, and wait until it is healthy."""
    started = time.monotonic()
    log = where.log(name)
    if name == "kube-apiserver":
        # Written at every start, so restarting the API server of a cluster started before it had an
        # audit log works too.
        where.audit_policy.write_text(AUDIT_POLICY, encoding="utf-8")
    record = processes.start(component_args(name, Path(state.bin_dir), where, state.ports), log)
    state.processes[name] = record
    save(where.state_file, state)
    health.wait_until(
        f"{name} (pid {record.pid}, port {state.ports[name]})",
        readiness_check(name, where, state),
        START_TIMEOUT_SECONDS,
        lambda: processes.is_running(record),
        log,
    )
    progress(f"[up] {name} ready in {format_seconds(time.monotonic() - started)}")


def stop_component(name: str, where: Layout, state: ClusterState) -> None:
    record = state.processes.pop(name, None)
    if record is not None:
        processes.stop(record)
    save(where.state_file, state)


def stop_everything(where: Layout, state: ClusterState | None, bin_dir: Path) -> list[str]:
    """Stop every recorded process (in reverse start order) and any stray started from this state folder."""
    stopped: list[str] = []
    if state is not None:
        for name in reversed(COMPONENTS):
            record = state.processes.get(name)
            if record is not None and processes.is_running(record):
                processes.stop(record)
                stopped.append(name)
    owned = {str(where.kubeconfig), str(where.etcd_data), str(where.pki.directory)}
    found = [
        stray
        for directory in {
            bin_dir,
            Path(state.bin_dir) if state else bin_dir,
            versions.metrics_server_bin_dir(),
        }
        for stray in processes.strays(directory, owned)
    ]
    # Clients first and etcd last, as for recorded processes: the API server exits quickly then.
    for stray in sorted(found, key=lambda record: _start_rank(Path(record.args[0]).name), reverse=True):
        processes.stop(stray)
        stopped.append(f"{Path(stray.args[0]).name} (stray pid {stray.pid})")
    return stopped


def _start_rank(binary: str) -> int:
    return COMPONENTS.index(binary) if binary in COMPONENTS else len(COMPONENTS)


def remove_state(where: Layout, keep_lock: bool = False) -> None:
    """Remove what `up` created; `up` keeps the lock file it holds, so a concurrent `up` waits on it."""
    for path in where.owned_paths():
        if keep_lock and path == where.lock_file:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for leftover in (where.state_file.with_suffix(".tmp"), where.kubeconfig.with_suffix(".tmp")):
        leftover.unlink(missing_ok=True)
    try:
        where.state.rmdir()
    except OSError:
        pass  # not empty: it holds things we did not create (e.g. another cluster's folder)


def api_client(where: Layout) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(where.kubeconfig))


def up(
    state_dir: Path | None = None, progress: Progress = print_progress, with_real_node: bool = False
) -> ClusterState:
    """Start the cluster, or reuse it when it already runs; recover from the state of a killed run.

    `with_real_node` adds the real node (kubelet, containerd, kube-proxy) to the cluster, started or reused.
    """
    where = layout(state_dir)
    bin_dir = versions.bin_dir()
    if missing_binaries():
        progress("[up] the control-plane binaries are not built yet; building them first")
        build(progress)
    if with_real_node and versions.missing_binaries(
        versions.real_node_bin_dir(), versions.REAL_NODE_BINARIES
    ):
        from ecs_operator.localcluster.realnode.build import build as build_real_node

        progress("[up] the real node's binaries are not built yet; building them first")
        build_real_node(progress)
    started = time.monotonic()
    with state_lock(where):
        previous = load(where.state_file)
        if previous is not None and not dead_components(previous):
            ok, answer = readiness_check("kube-apiserver", where, previous)()
            if ok:
                progress(f"[up] already running (API server {server_url(previous)}); reusing it")
                _ensure_nodes(where, previous)
                if with_real_node:
                    real_node.ensure(where, previous, progress)
                return previous
            progress(f"[up] the recorded cluster does not answer ({answer}); starting afresh")
        if previous is not None and dead_components(previous):
            dead = ", ".join(dead_components(previous))
            progress(f"[up] found the state of a cluster that is not running ({dead} down); cleaning it up")
        elif previous is None and (where.state_file.exists() or where.etcd_data.exists()):
            progress(f"[up] found an unreadable or partial state in {where.state}; cleaning it up")
        real_node.teardown(where, previous, progress)
        stopped = stop_everything(where, previous, bin_dir)
        if stopped:
            progress(f"[up] stopped leftover processes: {', '.join(stopped)}")
        remove_state(where, keep_lock=True)
        state = _start_all(where, bin_dir, progress)
        if with_real_node:
            real_node.start(where, state, progress)
        progress(
            f"[up] cluster ready in {format_seconds(time.monotonic() - started)}; "
            f"export KUBECONFIG={where.kubeconfig}"
        )
        return state


def _start_all(where: Layout, bin_dir: Path, progress: Progress) -> ClusterState:
    where.state.mkdir(parents=True, exist_ok=True)
    chosen = ports.pick_ports(PORT_NAMES, fixed_ports())
    ports.check_free(chosen)
    state = ClusterState(versions_key=versions.versions_key(), bin_dir=str(bin_dir), ports=chosen)
    save(where.state_file, state)
    try:
        pki = create_pki(where.pki.directory)
        write_kubeconfig(where.kubeconfig, server_url(state), pki)
        where.stages.write_text(render_stages(), encoding="utf-8")
        for name in COMPONENTS:
            start_component(name, where, state, progress)
        _ensure_nodes(where, state)
    except BaseException:
        stop_everything(where, state, bin_dir)
        state.processes.clear()
        save(where.state_file, state)
        raise
    return state


def _ensure_nodes(where: Layout, state: ClusterState) -> None:
    """The kwok Nodes, and the APIService that reaches metrics-server (both idempotent)."""
    client = api_client(where)
    try:
        nodes.ensure_default_nodes(client)
        resourcemetrics.register(client, state.ports["metrics-server"], where.pki.ca_cert)
    except LocalClusterError:
        raise
    except Exception as error:  # the client's ApiException or a connection error: explain, no traceback
        raise LocalClusterError(f"registering the kwok Nodes or the metrics API failed: {error}") from error
    finally:
        client.close()


def keep(pids: dict[str, int], state_dir: Path | None = None) -> None:
    """Record processes left running against the cluster (`make demo KEEP=1`: the operator, the ECS API,
    the console), so that `down` stops them with the cluster."""
    where = layout(state_dir)
    with state_lock(where):
        kept = _kept(where)
        for name, pid in pids.items():
            record = processes.record_of(pid)
            if record is not None:
                kept[name] = record
        where.kept_file.write_text(
            json.dumps(
                {n: {"pid": r.pid, "startTime": r.start_time, "args": list(r.args)} for n, r in kept.items()}
            )
        )


def _kept(where: Layout) -> dict[str, processes.ProcessRecord]:
    try:
        data = json.loads(where.kept_file.read_text(encoding="utf-8"))
        return {
            name: processes.ProcessRecord(int(item["pid"]), int(item["startTime"]), tuple(item["args"]))
            for name, item in data.items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def down(state_dir: Path | None = None, progress: Progress = print_progress) -> None:
    where = layout(state_dir)
    if not where.state.exists():
        progress(f"[down] nothing to do: {where.state} does not exist")
        return
    started = time.monotonic()
    with state_lock(where):
        previous = load(where.state_file)
        kept = [name for name, record in _kept(where).items() if processes.is_running(record)]
        for record in _kept(where).values():
            if processes.is_running(record):
                processes.stop(record)  # they talk to the cluster: stopped first
        real_node.teardown(where, previous, progress)
        stopped = kept + stop_everything(where, previous, versions.bin_dir())
        remove_state(where)
    what = ", ".join(stopped) if stopped else "no running process"
    progress(
        f"[down] stopped {what}; removed the state in {where.state} "
        f"({format_seconds(time.monotonic() - started)})"
    )


def require_running(where: Layout) -> ClusterState:
    state = load(where.state_file)
    if state is None:
        raise LocalClusterError(f"no local cluster in {where.state}; run `ecs-operator local-cluster up`")
    dead = dead_components(state)
    if dead:
        raise LocalClusterError(
            f"the local cluster in {where.state} is broken ({', '.join(dead)} not running); "
            "run `ecs-operator local-cluster up` to recover it"
        )
    return state


def restart_component(name: str, state_dir: Path | None = None, progress: Progress = print_progress) -> None:
    """Stop one component and start it again on the same port with the same data (a chaos test tool)."""
    if name not in COMPONENTS:
        raise LocalClusterError(f"unknown component {name!r}; expected one of {', '.join(COMPONENTS)}")
    where = layout(state_dir)
    with state_lock(where):
        state = require_running(where)
        stop_component(name, where, state)
        start_component(name, where, state, progress)


def restart_apiserver(state_dir: Path | None = None, progress: Progress = print_progress) -> None:
    restart_component("kube-apiserver", state_dir, progress)


@dataclass(frozen=True)
class Status:
    running: bool
    state_dir: Path
    kubeconfig: Path
    versions_key: str | None
    ports: dict[str, int]
    dead: list[str]
    node_count: int | None
    problem: str
    real_node: str = "none"


def status(state_dir: Path | None = None) -> Status:
    where = layout(state_dir)
    state = load(where.state_file)
    if state is None:
        return Status(False, where.state, where.kubeconfig, None, {}, list(COMPONENTS), None, "not started")
    dead = dead_components(state)
    problem = f"not running: {', '.join(dead)}" if dead else ""
    node_count: int | None = None
    if not dead:
        ok, answer = readiness_check("kube-apiserver", where, state)()
        if ok:
            node_count = _count_nodes(where)
        else:
            problem = f"the API server does not answer: {answer}"
    return Status(
        running=not problem,
        state_dir=where.state,
        kubeconfig=where.kubeconfig,
        versions_key=state.versions_key,
        ports=state.ports,
        dead=dead,
        node_count=node_count,
        problem=problem,
        real_node=real_node.describe(where, state),
    )


def _count_nodes(where: Layout) -> int:
    from kubernetes import client

    api = api_client(where)
    try:
        return len(client.CoreV1Api(api).list_node().items)
    except Exception as error:  # the client's ApiException or a connection error: explain, no traceback
        raise LocalClusterError(f"listing Nodes failed: {error}") from error
    finally:
        api.close()


def load_images(images: list[str], state_dir: Path | None = None) -> None:
    """Copy images from podman into the running real node's containerd (`local-cluster load-image`)."""
    where = layout(state_dir)
    with state_lock(where):
        state = require_running(where)
        if not real_node.is_running(state):
            raise LocalClusterError(
                "no real node runs; start it with `ecs-operator local-cluster up --real-node`"
            )
        real_node.load_images(where, images)


def remove_real_node(state_dir: Path | None = None, progress: Progress = print_progress) -> None:
    """Take the real node down and leave the control plane running."""
    where = layout(state_dir)
    with state_lock(where):
        real_node.teardown(where, load(where.state_file), progress)


def add_instances(
    cluster: str, count: int, provider: str | None = None, state_dir: Path | None = None
) -> list[str]:
    """Add `count` kwok Nodes as container instances of ECS cluster `cluster`; their names."""
    from kubernetes import config

    if count < 1:
        raise LocalClusterError(f"--count {count}: give at least 1")
    where = layout(state_dir)
    require_running(where)
    client = config.new_client_from_config(config_file=str(where.kubeconfig))
    try:
        names = nodes.add_container_instances(client, cluster, count, provider)
    finally:
        client.close()
    return names
