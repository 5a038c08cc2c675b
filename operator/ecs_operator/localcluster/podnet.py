"""The pod network of our kind node image: what kindnetd does for kind, for nodes on one L2 network.

kindnetd's module is not served by the Go module proxy we reach, so the node image runs this instead, as a
DaemonSet on the host network of every node (`kindnode/default-cni.yaml`). Each pass, from the Nodes' spec:
- writes this node's CNI configuration (ptp + host-local on the node's podCIDR, portmap), which is what
  makes containerd report the network ready and the Node Ready;
- routes every other node's podCIDR through that node's InternalIP;
- masquerades what leaves the pod network for elsewhere (DNS on the container network's gateway).
Only Python's standard library (it runs in a Debian python3 image); the plans are pure functions.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CNI_CONFIG_NAME = "10-ecs-operator-podnet.conflist"
NETWORK_NAME = "ecs-operator-podnet"
NAT_CHAIN = "ECS-PODNET-MASQ"
PASS_SECONDS = 5.0


@dataclass(frozen=True)
class Node:
    name: str
    pod_cidrs: tuple[str, ...]
    internal_ip: str | None


def parse_nodes(node_list: dict[str, Any]) -> list[Node]:
    """The Nodes of a `GET /api/v1/nodes` answer: name, podCIDRs (IPv4 only) and InternalIP."""
    nodes = []
    for item in node_list.get("items", []):
        spec, status = item.get("spec", {}), item.get("status", {})
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        addresses = [
            address["address"]
            for address in status.get("addresses", [])
            if address.get("type") == "InternalIP" and ":" not in address.get("address", "")
        ]
        nodes.append(
            Node(
                name=item["metadata"]["name"],
                pod_cidrs=tuple(cidr for cidr in cidrs if ":" not in cidr),
                internal_ip=addresses[0] if addresses else None,
            )
        )
    return nodes


def cni_config(pod_cidr: str) -> str:
    """This node's CNI network: a point-to-point veth per Pod, addresses from the node's podCIDR."""
    network = {
        "cniVersion": "0.4.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "ptp",
                "ipMasq": False,
                "ipam": {
                    "type": "host-local",
                    "dataDir": "/run/cni-ipam-state",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(network, indent=2) + "\n"


def routes(nodes: list[Node], this_node: str) -> list[tuple[str, str]]:
    """(podCIDR, via) for every other node that has both."""
    return [
        (cidr, node.internal_ip)
        for node in nodes
        if node.name != this_node and node.internal_ip
        for cidr in node.pod_cidrs
    ]


def masquerade_rules(pod_subnet: str) -> list[list[str]]:
    """iptables nat rules (chain NAT_CHAIN, jumped to from POSTROUTING): Pod to Pod keeps its source."""
    return [
        ["-d", pod_subnet, "-j", "RETURN"],
        ["-d", "224.0.0.0/4", "-j", "RETURN"],
        ["-j", "MASQUERADE"],
    ]


class Cluster:
    """Reads the Nodes with the Pod's ServiceAccount, at CONTROL_PLANE_ENDPOINT when kind set it."""

    def __init__(self, endpoint: str) -> None:
        self.url = f"https://{endpoint}/api/v1/nodes"
        self.context = ssl.create_default_context(cafile=str(SERVICE_ACCOUNT / "ca.crt"))

    def nodes(self) -> list[Node]:
        token = (SERVICE_ACCOUNT / "token").read_text(encoding="ascii").strip()
        request = urllib.request.Request(self.url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, context=self.context, timeout=10) as answer:
            return parse_nodes(json.load(answer))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


def write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.rename(path)
    return True


def ensure_masquerade(pod_subnet: str) -> None:
    if run("iptables", "-t", "nat", "-N", NAT_CHAIN).returncode == 0:
        for rule in masquerade_rules(pod_subnet):
            run("iptables", "-t", "nat", "-A", NAT_CHAIN, *rule)
    jump = ["POSTROUTING", "-s", pod_subnet, "-j", NAT_CHAIN]
    if run("iptables", "-t", "nat", "-C", *jump).returncode != 0:
        run("iptables", "-t", "nat", "-A", *jump)


def one_pass(cluster: Cluster, this_node: str, cni_dir: Path) -> None:
    nodes = cluster.nodes()
    mine = next((node for node in nodes if node.name == this_node), None)
    if mine and mine.pod_cidrs and write_if_changed(cni_dir / CNI_CONFIG_NAME, cni_config(mine.pod_cidrs[0])):
        print(f"wrote {cni_dir / CNI_CONFIG_NAME} for {mine.pod_cidrs[0]}", flush=True)
    for cidr, via in routes(nodes, this_node):
        result = run("ip", "route", "replace", cidr, "via", via)
        if result.returncode != 0:
            print(f"route {cidr} via {via}: {result.stderr.strip()}", file=sys.stderr, flush=True)


def main() -> int:
    this_node = os.environ["NODE_NAME"]
    pod_subnet = os.environ["POD_SUBNET"]
    endpoint = os.environ.get("CONTROL_PLANE_ENDPOINT") or (
        f"{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
    )
    cni_dir = Path(os.environ.get("CNI_CONFIG_DIR", "/etc/cni/net.d"))
    cluster = Cluster(endpoint)
    ensure_masquerade(pod_subnet)
    print(f"pod network of {this_node}: {pod_subnet}, API server {endpoint}", flush=True)
    while True:
        try:
            one_pass(cluster, this_node, cni_dir)
        except (OSError, ValueError) as error:
            print(f"pass failed, retrying: {error}", file=sys.stderr, flush=True)
        time.sleep(PASS_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
