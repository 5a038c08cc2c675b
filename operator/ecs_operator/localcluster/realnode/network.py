"""The real node's network: its own network namespace, linked to the host by a veth pair.

Inside the namespace live the Pods' bridge, kube-proxy's iptables rules and every port the node opens, so
nothing of it touches the host's tables or ports. On the host there are only: the veth's end, a route to the
Pod network, `route_localnet` on that veth, and one nat chain (jumped to from PREROUTING for packets that
come in on that veth) that sends the API server's port on the host's end of the link to 127.0.0.1, where
the API server listens. Deleting the namespace removes the rest.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from collections.abc import Sequence

from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.ports import LOOPBACK
from ecs_operator.localcluster.realnode.layout import Addresses, Names

NODE_INTERFACE = "eth0"


def _run(args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, check=False, timeout=60)
    if check and result.returncode != 0:
        raise LocalClusterError(
            f"`{' '.join(args)}` failed: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result


def nsenter(names: Names) -> list[str]:
    """The prefix that runs a command in the node's network namespace (and only that namespace: the
    kubelet's mounts must stay visible to containerd)."""
    binary = shutil.which("nsenter")
    if binary is None:
        raise LocalClusterError("`nsenter` was not found on PATH (Debian: util-linux)")
    return [binary, f"--net={names.netns_path}", "--"]


def host_routes() -> list[ipaddress.IPv4Network]:
    output = _run(["ip", "-4", "-json", "route", "show", "table", "all"]).stdout
    routes = []
    for route in json.loads(output or "[]"):
        destination = route.get("dst", "")
        if destination and destination != "default" and route.get("type", "unicast") in ("unicast", "local"):
            routes.append(
                ipaddress.IPv4Network(destination if "/" in destination else f"{destination}/32", False)
            )
    return routes


def exists(names: Names) -> bool:
    return names.netns_path.exists()


def other_nodes(names: Names) -> list[str]:
    """The network namespaces of other clones' real nodes on this machine."""
    folder = names.netns_path.parent
    prefix = names.netns.removesuffix(names.digest)
    found = folder.glob(f"{prefix}*") if folder.is_dir() else ()
    return sorted(path.name for path in found if path.name != names.netns)


def api_rule(addresses: Addresses, api_port: int) -> list[str]:
    return [
        "-p", "tcp", "-d", addresses.host_ip, "--dport", str(api_port),
        "-j", "DNAT", "--to-destination", f"{LOOPBACK}:{api_port}",
    ]  # fmt: skip


def jump_rule(names: Names) -> list[str]:
    return ["-i", names.host_veth, "-m", "comment", "--comment", f"ecs-operator real node {names.netns}",
            "-j", names.chain]  # fmt: skip


def create(names: Names, addresses: Addresses, api_port: int) -> None:
    in_node = ["ip", "-n", names.netns]
    steps = [
        ["ip", "netns", "add", names.netns],
        [
            "ip",
            "link",
            "add",
            names.host_veth,
            "type",
            "veth",
            "peer",
            "name",
            NODE_INTERFACE,
            "netns",
            names.netns,
        ],
        ["ip", "addr", "add", f"{addresses.host_ip}/30", "dev", names.host_veth],
        ["ip", "link", "set", names.host_veth, "up"],
        [*in_node, "addr", "add", f"{addresses.node_ip}/30", "dev", NODE_INTERFACE],
        [*in_node, "link", "set", NODE_INTERFACE, "up"],
        [*in_node, "link", "set", "lo", "up"],
        [*in_node, "route", "add", "default", "via", addresses.host_ip],
        ["ip", "route", "add", str(addresses.pod_network), "via", addresses.node_ip, "dev", names.host_veth],
        [*nsenter(names), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
        ["sysctl", "-q", "-w", f"net.ipv4.conf.{names.host_veth}.route_localnet=1"],
        ["iptables", "-w", "-t", "nat", "-N", names.chain],
        ["iptables", "-w", "-t", "nat", "-A", names.chain, *api_rule(addresses, api_port)],
        ["iptables", "-w", "-t", "nat", "-A", "PREROUTING", *jump_rule(names)],
    ]
    for step in steps:
        _run(step)


def delete(names: Names) -> list[str]:
    """Remove what `create` made, whatever is left of it; return what was removed."""
    removed = []
    while (
        _run(["iptables", "-w", "-t", "nat", "-D", "PREROUTING", *jump_rule(names)], check=False).returncode
        == 0
    ):
        removed.append("PREROUTING jump")
    if _run(["iptables", "-w", "-t", "nat", "-F", names.chain], check=False).returncode == 0:
        _run(["iptables", "-w", "-t", "nat", "-X", names.chain])
        removed.append(f"iptables chain {names.chain}")
    if exists(names):
        _run(["ip", "netns", "delete", names.netns])
        removed.append(f"network namespace {names.netns}")
    if _run(["ip", "link", "delete", names.host_veth], check=False).returncode == 0:
        removed.append(f"veth {names.host_veth}")
    return removed
