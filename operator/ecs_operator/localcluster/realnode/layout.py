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

    @classmethod
    def of(cls, state: Path) -> Names:
        return cls(hashlib.sha256(str(state.absolute()).encode()).hexdigest()[:6])

    @property
    def netns(self) -> str:
        return f"ecs-operator-{self.digest}"

    @property
    def host_veth(self) -> str:
        return f"ecsop{self.digest}"

    @property
    def chain(self) -> str:
        return f"ECS-OPERATOR-{self.digest.upper()}"

    @property
    def cgroup(self) -> str:
        return f"ecs-operator-{self.digest}"

    @property
    def netns_path(self) -> Path:
        return Path("/run/netns") / self.netns


@dataclass(frozen=True)
class Addresses:
    index: int

    @property
    def link_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{LINK_PREFIX}.{self.index}.0/30")

    @property
    def host_ip(self) -> str:
        """The host's end of the link: where the node reaches the API server."""
        return f"{LINK_PREFIX}.{self.index}.1"

    @property
    def node_ip(self) -> str:
        """The node's InternalIP: the kubelet and hostNetwork Pods listen here."""
        return f"{LINK_PREFIX}.{self.index}.2"

    @property
    def pod_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{POD_PREFIX}.{self.index}.0/24")

    @property
    def bridge_ip(self) -> str:
        return f"{POD_PREFIX}.{self.index}.1"


def free_index(routes: list[ipaddress.IPv4Network], preferred: int) -> int:
    """The first N from `preferred` (wrapping) whose networks overlap none of the host's routes."""
    for step in range(256):
        index = (preferred + step) % 256
        mine = Addresses(index)
        if not any(route.overlaps(mine.link_network) or route.overlaps(mine.pod_network) for route in routes):
            return index
    raise ValueError(f"every {LINK_PREFIX}.N.0/30 or {POD_PREFIX}.N.0/24 overlaps a route of this host")


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
        containerd, cni = root / "containerd", root / "cni"
        return cls(
            root=root,
            pki=root / "pki",
            containerd_config=root / "containerd.toml",
            containerd_root=containerd / "root",
            containerd_state=containerd / "state",
            containerd_socket=containerd / "containerd.sock",
            runc_root=root / "runc",
            cni_config_dir=cni / "net.d",
            cni_ipam_dir=cni / "ipam",
            kubelet_root=root / "kubelet",
            pod_logs=root / "pod-logs",
            kubelet_config=root / "kubelet-config.yaml",
            kube_proxy_config=root / "kube-proxy-config.yaml",
        )

    def kubeconfig(self, component: str) -> Path:
        return self.root / f"{component}.kubeconfig"
