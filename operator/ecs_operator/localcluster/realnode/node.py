"""Starting the real node beside a running control plane, reusing it, and taking it down without a trace.

Order of `start`: network namespace and link, certificates and kubeconfigs, the `kubernetes` Service's
endpoint on the host's end of the link, containerd (images imported), the kubelet (the Node registers and
turns Ready), kube-proxy. `teardown` undoes all of it from the names the state folder implies, so it also
cleans what a killed `up` left behind.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ecs_operator import labels as label_names
from ecs_operator.localcluster import health, images, processes, versions
from ecs_operator.localcluster.build import format_seconds
from ecs_operator.localcluster.components import Layout
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.nodes import DEMO_CLUSTER
from ecs_operator.localcluster.pki import issue_client_certificate, write_kubeconfig
from ecs_operator.localcluster.realnode import config, host, network
from ecs_operator.localcluster.realnode.layout import (
    KUBE_PROXY_HEALTHZ_PORT,
    KUBELET_HEALTHZ_PORT,
    NODE_NAME,
    Addresses,
    Files,
    Names,
    free_index,
)
from ecs_operator.localcluster.state import ClusterState, RealNodeState, save

Progress = Callable[[str], None]

PROCESSES = ("containerd", "kubelet", "kube-proxy")
START_TIMEOUT_SECONDS = 90.0
INSTANCE_TYPE = "local"
NODE_LABELS = {
    label_names.CLUSTER: DEMO_CLUSTER,
    label_names.CAPACITY: label_names.CAPACITY_EC2,
    "node.kubernetes.io/instance-type": INSTANCE_TYPE,
    "topology.kubernetes.io/region": "us-east-1",
    "topology.kubernetes.io/zone": "us-east-1a",
}
ENDPOINTS_MANAGER = "ecs-operator-local-cluster"
SHIM_SOCKETS = Path("/run/containerd/s")


def files(where: Layout) -> Files:
    return Files.under(where.real_node)


def names(where: Layout) -> Names:
    return Names.of(where.state)


def is_running(state: ClusterState) -> bool:
    node = state.real_node
    return node is not None and all(
        name in node.processes and processes.is_running(node.processes[name]) for name in PROCESSES
    )


def describe(where: Layout, state: ClusterState) -> str:
    node = state.real_node
    if node is None:
        return "none (`up --real-node` adds one)"
    if not is_running(state):
        return "broken (run `up --real-node` to restart it)"
    addresses = Addresses.of(node.network_index)
    return (
        f"{NODE_NAME}: InternalIP {addresses.node_ip}, Pods on {addresses.pod_network}, "
        f"netns {names(where).netns}"
    )


def ctr(where: Layout, *args: str, stdin: Any = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", f"--address={files(where).containerd_socket}", "--namespace=k8s.io", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def crictl(where: Layout, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(versions.real_node_bin_dir() / "crictl"), f"--runtime-endpoint=unix://{files(where).containerd_socket}",
         "--timeout=60s", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip


def docker_name(image: str) -> str:
    """The name the kubelet asks containerd for: short names are Docker Hub's (`docker.io/library/…`)."""
    first, _, rest = image.partition("/")
    if not rest:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


def podman_name(image: str) -> str:
    """podman keeps a short name under `localhost/`."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"localhost/{image}"


def load_images(where: Layout, names_: Sequence[str]) -> None:
    """Copy images from podman into the node's containerd, under the names Pods give them."""
    from ecs_operator.localcluster import podman

    saved = subprocess.Popen(
        [podman.binary(), "save", "--multi-image-archive", *map(podman_name, names_)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=podman.environment(),
    )
    imported = ctr(where, "images", "import", "-", stdin=saved.stdout)
    _, saved_err = saved.communicate()
    if saved.returncode != 0:
        raise LocalClusterError(
            f"podman save {' '.join(names_)} failed: {saved_err.decode(errors='replace')}"
        )
    if imported.returncode != 0:
        raise LocalClusterError(f"importing {' '.join(names_)} into containerd failed: {imported.stderr}")
    for name in names_:
        source, wanted = podman_name(name), docker_name(name)
        if source != wanted:
            ctr(where, "images", "rm", wanted)
            tagged = ctr(where, "images", "tag", source, wanted)
            if tagged.returncode != 0:
                raise LocalClusterError(f"tagging {source} as {wanted} in containerd failed: {tagged.stderr}")


def ensure(where: Layout, state: ClusterState, progress: Progress) -> None:
    """Start the real node unless it runs; restart it from scratch when part of it died."""
    if state.real_node is not None and is_running(state) and _node_ready(where):
        progress(f"[up] real node {NODE_NAME} already running; reusing it")
        return
    if state.real_node is not None or network.exists(names(where)):
        progress("[up] the real node is not (fully) running; cleaning it up")
        teardown(where, state, progress)
    start(where, state, progress)


def start(where: Layout, state: ClusterState, progress: Progress) -> None:
    started = time.monotonic()
    node_files, node_names = files(where), names(where)
    host.check_prerequisites(Path(config.CNI_BIN_DIR))
    bin_dir = versions.real_node_bin_dir()
    node_images = images.ensure_node_images(progress)
    index = free_index(network.host_routes(), int(node_names.digest, 16) % 256)
    addresses = Addresses.of(index)
    host.remember_kernel_settings()
    state.real_node = RealNodeState(network_index=index)
    save(where.state_file, state)
    try:
        network.create(node_names, addresses, state.ports["kube-apiserver"])
        api_port = state.ports["kube-apiserver"]
        _write_files(where, node_files, node_names, addresses, images.PAUSE, api_port)
        _point_kubernetes_service_at(where, addresses.host_ip, api_port)
        host.create_cgroups(node_names.cgroup)
        prefix = network.nsenter(node_names)
        containerd = shutil.which("containerd") or "containerd"
        _start(where, state, "containerd", [*prefix, *config.containerd_args(containerd, node_files)],
               lambda: ctr(where, "version").returncode == 0, progress)  # fmt: skip
        loading = time.monotonic()
        load_images(where, node_images)
        progress(f"[up] images loaded into containerd in {format_seconds(time.monotonic() - loading)}")
        kubelet = config.kubelet_args(bin_dir / "kubelet", node_files, addresses, NODE_NAME, NODE_LABELS)
        kubelet_health = f"http://{addresses.node_ip}:{KUBELET_HEALTHZ_PORT}/healthz"
        _start(where, state, "kubelet", [*prefix, *kubelet], _http_ok(kubelet_health), progress)
        kube_proxy = config.kube_proxy_args(bin_dir / "kube-proxy", node_files)
        kube_proxy_health = f"http://{addresses.node_ip}:{KUBE_PROXY_HEALTHZ_PORT}/livez"
        _start(where, state, "kube-proxy", [*prefix, *kube_proxy], _http_ok(kube_proxy_health), progress)
        _wait_node_ready(where, state)
    except BaseException:
        teardown(where, state, progress)
        raise
    progress(
        f"[up] real node {NODE_NAME} ready in {format_seconds(time.monotonic() - started)} "
        f"(InternalIP {addresses.node_ip}, Pods on {addresses.pod_network}, netns {node_names.netns})"
    )


def _http_ok(url: str) -> Callable[[], bool]:
    return lambda: health.probe(url)[0]


def _start(
    where: Layout,
    state: ClusterState,
    name: str,
    args: list[str],
    ready: Callable[[], bool],
    progress: Progress,
) -> None:
    assert state.real_node is not None
    began = time.monotonic()
    log = where.log(name)
    record = processes.start(args, log)
    state.real_node.processes[name] = record
    save(where.state_file, state)
    health.wait_until(
        f"{name} (pid {record.pid})",
        lambda: (ready(), ""),
        START_TIMEOUT_SECONDS,
        lambda: processes.is_running(record),
        log,
    )
    progress(f"[up] {name} ready in {format_seconds(time.monotonic() - began)}")


def _write_files(
    where: Layout, node_files: Files, node_names: Names, addresses: Addresses, pause: str, api_port: int
) -> None:
    pki = where.pki
    node_files.root.mkdir(parents=True, exist_ok=True)
    node_files.cni_config_dir.mkdir(parents=True, exist_ok=True)
    server = f"https://{addresses.host_ip}:{api_port}"
    for component, subject in (
        ("kubelet", f"/O=system:nodes/CN=system:node:{NODE_NAME}"),
        ("kube-proxy", "/CN=system:kube-proxy"),
    ):
        client = issue_client_certificate(pki, node_files.pki, component, subject)
        write_kubeconfig(node_files.kubeconfig(component), server, pki, client, config.API_SERVER_NAME)
    runc = shutil.which("runc") or "runc"
    node_files.containerd_config.write_text(
        config.containerd_config(node_files, pause, runc), encoding="utf-8"
    )
    (node_files.cni_config_dir / "10-ecs-operator.conflist").write_text(
        config.cni_config(node_files, addresses), encoding="utf-8"
    )
    node_files.kubelet_config.write_text(
        config.kubelet_config(node_files, node_names, addresses, pki.ca_cert), encoding="utf-8"
    )
    node_files.kube_proxy_config.write_text(
        config.kube_proxy_config(node_files, addresses, NODE_NAME), encoding="utf-8"
    )


def _api(where: Layout) -> Any:
    from kubernetes import config as kube_config

    return kube_config.new_client_from_config(config_file=str(where.kubeconfig))


def _point_kubernetes_service_at(where: Layout, address: str, port: int) -> None:
    """`--endpoint-reconciler-type=none` leaves `kubernetes` without endpoints: give it one Pods reach."""
    from kubernetes import client

    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {
                "kubernetes.io/service-name": "kubernetes",
                "endpointslice.kubernetes.io/managed-by": ENDPOINTS_MANAGER,
            },
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }
    with _api(where) as api:
        client.DiscoveryV1Api(api).patch_namespaced_endpoint_slice(
            "kubernetes", "default", slice_, field_manager=ENDPOINTS_MANAGER, force=True,
            _content_type="application/apply-patch+yaml",
        )  # fmt: skip


def _node_ready(where: Layout) -> bool:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from ecs_operator.localcluster.nodes import is_ready

    try:
        with _api(where) as api:
            return bool(is_ready(client.CoreV1Api(api).read_node(NODE_NAME)))
    except ApiException:
        return False


def _wait_node_ready(where: Layout, state: ClusterState) -> None:
    health.wait_until(
        f"Node {NODE_NAME}",
        lambda: (_node_ready(where), "not Ready"),
        START_TIMEOUT_SECONDS,
        lambda: is_running(state),
        where.log("kubelet"),
    )


def strays(root: Path) -> list[processes.ProcessRecord]:
    """Processes whose command line names a path in the node's folder (kubelet, containerd, its shims)."""
    marker = f"{root}/"
    return processes.matching(lambda args: any(marker in arg for arg in args))


def teardown(where: Layout, state: ClusterState | None, progress: Progress) -> None:
    """Stop and remove everything of the real node; safe to run on a half-started or already-gone node."""
    node_files, node_names = files(where), names(where)
    recorded = state.real_node if state is not None else None
    if recorded is None and not node_files.root.exists() and not network.exists(node_names):
        return
    began = time.monotonic()
    done: list[str] = []
    running = dict(recorded.processes) if recorded else {}
    _stop(running.pop("kubelet", None), done, "kubelet")
    if node_files.containerd_socket.exists() and ctr(where, "version").returncode == 0:
        removed = crictl(where, "rmp", "--all", "--force")
        if removed.returncode == 0:
            done.append("every Pod sandbox (crictl rmp)")
    for name in ("kube-proxy", "containerd"):
        _stop(running.pop(name, None), done, name)
    for stray in strays(node_files.root):
        processes.stop(stray, timeout=2.0)
        done.append(f"{Path(stray.args[0]).name} (pid {stray.pid})")
    killed = host.kill_cgroups(node_names.cgroup)
    if killed:
        done.append(f"{killed} container processes")
    unmounted = host.unmount_all(node_files.root)
    if unmounted:
        done.append(f"{len(unmounted)} mounts")
    host.remove_cgroups(node_names.cgroup)
    done += network.delete(node_names)
    restored = host.restore_kernel_settings(others_running=bool(network.other_nodes(node_names)))
    done += [f"kernel setting {item}" for item in restored]
    shutil.rmtree(node_files.root, ignore_errors=True)
    # containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its configuration says.
    for shim_dir in (SHIM_SOCKETS, SHIM_SOCKETS.parent):
        try:
            shim_dir.rmdir()
        except OSError:
            pass  # absent, or in use by another containerd
    if state is not None:
        state.real_node = None
        if where.state_file.exists():
            save(where.state_file, state)
    progress(
        f"[real node] stopped and removed: {', '.join(done) or 'nothing was running'} "
        f"({format_seconds(time.monotonic() - began)})"
    )


def _stop(record: processes.ProcessRecord | None, done: list[str], name: str) -> None:
    if record is not None and processes.is_running(record):
        processes.stop(record, timeout=10.0)
        done.append(name)
