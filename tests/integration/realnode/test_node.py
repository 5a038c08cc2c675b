"""The real node itself: its kubelet (not kwok) reports it, and `down` removes everything it made."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ecs_operator import labels
from ecs_operator.localcluster import cluster, versions
from ecs_operator.localcluster.realnode import host
from ecs_operator.localcluster.realnode.layout import NODE_NAME, Names

from tests.integration.realnode.workloads import BUSYBOX
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.realnode]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def test_the_real_node_is_a_container_instance_of_demo_run_by_its_kubelet(kubectl: Kubectl) -> None:
    node = json.loads(kubectl("get", "node", NODE_NAME, "-o", "json").stdout)

    assert node["metadata"]["labels"][labels.CLUSTER] == "demo"
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == f"v{versions.KUBERNETES_VERSION}"
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert "kwok.x-k8s.io/node" not in node["metadata"].get("annotations", {})


def test_kwok_does_not_pretend_to_run_pods_on_the_real_node(kubectl: Kubectl, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "never-pulled", "namespace": namespace},
        "spec": {
            "nodeName": NODE_NAME,
            "containers": [{"name": "app", "image": "localhost/no-such-image:1", "imagePullPolicy": "Never"}],
        },
    }
    kubectl("apply", "-f", "-", input=json.dumps(pod))

    def waiting_reason() -> str:
        status = json.loads(kubectl("get", "pod", "never-pulled", "-n", namespace, "-o", "json").stdout)
        statuses = status.get("status", {}).get("containerStatuses") or [{}]
        return str((statuses[0].get("state") or {}).get("waiting", {}).get("reason", ""))

    # kwok would have made it Running; the kubelet finds no such image and may not pull one.
    wait_for(lambda: waiting_reason() == "ErrImageNeverPull", timeout=60, message="ErrImageNeverPull")


@pytest.fixture
def second_cluster() -> Iterator[Path]:
    """Another local cluster with a real node, in a state folder of its own (short: socket paths)."""
    state = Path(tempfile.mkdtemp(prefix="ecsrn-", dir="/tmp"))
    try:
        yield state
    finally:
        cluster.down(state)
        shutil.rmtree(state, ignore_errors=True)


def leftovers(state: Path, names: Names) -> list[str]:
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    if names.netns in netns:
        found.append(f"netns {names.netns}")
    if (
        subprocess.run(["ip", "link", "show", names.host_veth], capture_output=True, check=False).returncode
        == 0
    ):
        found.append(f"veth {names.host_veth}")
    rules = subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True, check=True)
    found += [rule for rule in rules.stdout.splitlines() if names.chain in rule]
    found += [f"mount {point}" for point in host.mounts_under(state)]
    found += [f"cgroup {path}" for path in host.cgroup_dirs(names.cgroup) if path.exists()]
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and str(state) in cmdline:
            found.append(f"process {proc.name}: {cmdline.replace(chr(0), ' ')[:120]}")
    return found


def test_down_removes_every_trace_of_the_real_node(second_cluster: Path) -> None:
    from kubernetes import client, config

    names = Names.of(second_cluster)
    kernel_before = host.read_sysctls()
    cluster.up(second_cluster, with_real_node=True)
    # A Pod with a volume, so there are containers, a sandbox, a network namespace and mounts to clean.
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "busy"},
        "spec": {
            "nodeName": NODE_NAME,
            "containers": [
                {
                    "name": "app",
                    "image": BUSYBOX,
                    "command": ["sh", "-c", "while true; do sleep 1; done"],
                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                }
            ],
            "volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory"}}],
        },
    }
    kubeconfig = str(cluster.layout(second_cluster).kubeconfig)
    with config.new_client_from_config(config_file=kubeconfig) as api:
        core = client.CoreV1Api(api)
        core.create_namespaced_pod("default", pod)
        wait_for(
            lambda: core.read_namespaced_pod("busy", "default").status.phase == "Running",
            timeout=120,
            message="a Pod running on the second real node",
        )
    assert leftovers(second_cluster, names), "the real node left no trace to look for: the check is blind"

    cluster.down(second_cluster)

    assert leftovers(second_cluster, names) == []
    assert host.read_sysctls() == kernel_before
