"""What one real node is called on the host and where its files are, all derived from the state folder.

Everything the real node creates outside its folder carries a name made of `ecs-operator` and a short digest
of the state folder (network namespace, host veth, iptables chain, cgroup), so `down` (or the next `up`
after a crash) finds exactly what this cluster made, and two clones' nodes never share anything.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

NODE_NAME = "ecs-real-node"
# A /30 between the host and the node's network namespace, and a /24 of Pod IPs: 10.246.N.0/30 and
# 10.245.N.0/24, N chosen at `up` so neither overlaps a route the host already has.
LINK_PREFIX = "10.246"
POD_PREFIX = "10.245"
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
KUBE_PROXY_HEALTHZ_PORT = 10256


@dataclass(frozen=True)
class Names:
    """Host-wide names of one real node (interfaces: at most 15 characters)."""

    digest: str
    netns: str
    host_veth: str
    chain: str
    cgroup: str

    @classmethod
    def of(cls, state: Path) -> Names:
        return cls.from_digest(hashlib.sha256(str(state.absolute()).encode()).hexdigest()[:6])

    @classmethod
    def from_digest(cls, digest: str) -> Names:
        return cls(
            digest=digest,
            netns=f"ecs-operator-{digest}",
            host_veth=f"ecsop{digest}",
            chain=f"ECS-OPERATOR-{digest.upper()}",
            cgroup=f"ecs-operator-{digest}",
        )

    @property
    def netns_path(self) -> Path:
        return Path("/run/netns") / self.netns


@dataclass(frozen=True)
class Addresses:
    """The link (host_ip: where the node reaches the API server; node_ip: the Node's InternalIP, where the
    kubelet and hostNetwork Pods listen) and the Pod network on the node's bridge."""

    index: int
    link_network: ipaddress.IPv4Network
    host_ip: str
    node_ip: str
    pod_network: ipaddress.IPv4Network
    bridge_ip: str

    @classmethod
    def of(cls, index: int) -> Addresses:
        link, pods = f"{LINK_PREFIX}.{index}", f"{POD_PREFIX}.{index}"
        return cls(
            index=index,
            link_network=ipaddress.IPv4Network(f"{link}.0/30"),
            host_ip=f"{link}.1",
            node_ip=f"{link}.2",
            pod_network=ipaddress.IPv4Network(f"{pods}.0/24"),
            bridge_ip=f"{pods}.1",
        )


def free_index(routes: list[ipaddress.IPv4Network], preferred: int) -> int:
    """The first N from `preferred` (wrapping) whose networks overlap none of the host's routes."""
    for step in range(256):
        index = (preferred + step) % 256
        mine = Addresses.of(index)
        if not any(route.overlaps(mine.link_network) or route.overlaps(mine.pod_network) for route in routes):
            return index
    raise ValueError(f"every {LINK_PREFIX}.N.0/30 or {POD_PREFIX}.N.0/24 overlaps a route of this host")


# Where each of the node's files is, relative to its folder.
FILES = {
    "pki": "pki",
    "containerd_config": "containerd.toml",
    "containerd_root": "containerd/root",
    "containerd_state": "containerd/state",
    "containerd_socket": "containerd/containerd.sock",
    "runc_root": "runc",
    "cni_config_dir": "cni/net.d",
    "cni_ipam_dir": "cni/ipam",
    "kubelet_root": "kubelet",
    "pod_logs": "pod-logs",
    "kubelet_config": "kubelet-config.yaml",
    "kube_proxy_config": "kube-proxy-config.yaml",
}


@dataclass(frozen=True)
class Files:
    """The real node's folder, `<state>/realnode`; `down` removes it once nothing is mounted below it."""

    root: Path
    pki: Path
    containerd_config: Path
    containerd_root: Path
    containerd_state: Path
    containerd_socket: Path
    runc_root: Path
    cni_config_dir: Path
    cni_ipam_dir: Path
    kubelet_root: Path
    pod_logs: Path
    kubelet_config: Path
    kube_proxy_config: Path

    @classmethod
    def under(cls, root: Path) -> Files:
        return cls(root=root, **{field: root / relative for field, relative in FILES.items()})

    def kubeconfig(self, component: str) -> Path:
        return self.root / f"{component}.kubeconfig"
