"""The real node's pure parts: host-wide names, addresses, configuration files, image names, bookkeeping."""

from __future__ import annotations

import ipaddress
import json
import tomllib
from pathlib import Path

import pytest
import yaml
from ecs_operator import labels
from ecs_operator.localcluster import processes, versions
from ecs_operator.localcluster.components import Layout
from ecs_operator.localcluster.realnode import config, host, network, node
from ecs_operator.localcluster.realnode.layout import Addresses, Files, Names, free_index
from ecs_operator.localcluster.state import ClusterState, RealNodeState, load, save


def test_every_host_wide_name_says_ecs_operator_and_fits_linux_limits(tmp_path: Path) -> None:
    names = Names.of(tmp_path / ".local")

    assert names.netns.startswith("ecs-operator-") and names.cgroup.startswith("ecs-operator-")
    assert names.chain.startswith("ECS-OPERATOR-") and len(names.chain) <= 28
    assert names.host_veth.startswith("ecsop") and len(names.host_veth) <= 15
    assert names.netns_path == Path("/run/netns") / names.netns


def test_two_state_folders_never_share_a_name(tmp_path: Path) -> None:
    one, other = Names.of(tmp_path / "a" / ".local"), Names.of(tmp_path / "b" / ".local")

    assert {one.netns, one.host_veth, one.chain, one.cgroup}.isdisjoint(
        {other.netns, other.host_veth, other.chain, other.cgroup}
    )
    assert Names.of(tmp_path / "a" / ".local") == one


def test_the_link_and_the_pod_network_of_one_index() -> None:
    addresses = Addresses.of(7)

    assert (addresses.host_ip, addresses.node_ip) == ("10.246.7.1", "10.246.7.2")
    assert ipaddress.ip_address(addresses.node_ip) in addresses.link_network
    assert str(addresses.pod_network) == "10.245.7.0/24" and addresses.bridge_ip == "10.245.7.1"


def test_the_index_skips_networks_the_host_already_routes() -> None:
    routes = [ipaddress.IPv4Network("10.246.3.0/24"), ipaddress.IPv4Network("10.245.4.0/22")]

    assert free_index(routes, 3) == 8
    assert free_index(routes, 255) == 255
    assert free_index([], 9) == 9
    with pytest.raises(ValueError, match="overlaps a route"):
        free_index([ipaddress.IPv4Network("10.0.0.0/8")], 0)


def test_containerd_keeps_its_files_in_the_node_folder_and_clamps_oom_scores(tmp_path: Path) -> None:
    files = Files.under(tmp_path / "realnode")
    parsed = tomllib.loads(
        config.containerd_config(files, "localhost/ecs-operator-local/pause:3.10.2", "/runc")
    )
    cri = parsed["plugins"]["io.containerd.grpc.v1.cri"]

    assert parsed["root"] == str(files.containerd_root) and parsed["state"] == str(files.containerd_state)
    assert parsed["grpc"]["address"] == str(files.containerd_socket)
    assert cri["restrict_oom_score_adj"] is True and cri["netns_mounts_under_state_dir"] is True
    assert cri["sandbox_image"] == "localhost/ecs-operator-local/pause:3.10.2"
    assert cri["cni"] == {"bin_dir": "/usr/lib/cni", "conf_dir": str(files.cni_config_dir)}
    options = cri["containerd"]["runtimes"]["runc"]["options"]
    assert options == {"BinaryName": "/runc", "Root": str(files.runc_root), "SystemdCgroup": False}


def test_the_pod_network_is_a_bridge_with_addresses_from_the_node_range(tmp_path: Path) -> None:
    files = Files.under(tmp_path / "realnode")
    network_config = json.loads(config.cni_config(files, Addresses.of(5)))
    bridge, portmap = network_config["plugins"]

    assert (bridge["type"], bridge["bridge"], bridge["isGateway"]) == ("bridge", "cni0", True)
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.245.5.0/24", "gateway": "10.245.5.1"}]]
    assert bridge["ipam"]["dataDir"] == str(files.cni_ipam_dir)
    assert portmap["type"] == "portmap"


def test_the_kubelet_fits_this_host_and_listens_on_the_node_ip_only(tmp_path: Path) -> None:
    files, names = Files.under(tmp_path / "realnode"), Names.from_digest("abc123")
    kubelet = yaml.safe_load(config.kubelet_config(files, names, Addresses.of(5), tmp_path / "ca.crt"))

    assert (kubelet["address"], kubelet["healthzBindAddress"]) == ("10.246.5.2", "10.246.5.2")
    assert kubelet["readOnlyPort"] == 0
    assert kubelet["failCgroupV1"] is False and kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["cgroupRoot"] == "/ecs-operator-abc123"
    assert kubelet["oomScoreAdj"] == 0
    assert kubelet["imageGCHighThresholdPercent"] == 100
    assert kubelet["authentication"]["anonymous"] == {"enabled": False}
    assert kubelet["authentication"]["x509"]["clientCAFile"] == str(tmp_path / "ca.crt")
    assert kubelet["containerRuntimeEndpoint"] == f"unix://{files.containerd_socket}"
    assert kubelet["podLogsDir"] == str(files.pod_logs)


def test_kube_proxy_leaves_the_host_conntrack_settings_alone(tmp_path: Path) -> None:
    files = Files.under(tmp_path / "realnode")
    proxy = yaml.safe_load(config.kube_proxy_config(files, Addresses.of(5), "ecs-real-node"))

    assert proxy["mode"] == "iptables" and proxy["clusterCIDR"] == "10.245.5.0/24"
    assert proxy["conntrack"]["maxPerCore"] == 0 and proxy["conntrack"]["min"] == 0
    assert proxy["nodePortAddresses"] == ["10.246.5.2/32"]
    assert proxy["clientConnection"]["kubeconfig"] == str(files.kubeconfig("kube-proxy"))


def test_the_kubelet_registers_the_node_as_a_container_instance_of_demo(tmp_path: Path) -> None:
    files = Files.under(tmp_path / "realnode")
    args = config.kubelet_args(tmp_path / "kubelet", files, Addresses.of(5), node.NODE_NAME, node.NODE_LABELS)
    flags = dict(arg[2:].split("=", 1) for arg in args[1:])

    assert flags["node-ip"] == "10.246.5.2" and flags["hostname-override"] == "ecs-real-node"
    registered = dict(pair.split("=") for pair in flags["node-labels"].split(","))
    assert registered[labels.CLUSTER] == "demo" and registered[labels.CAPACITY] == labels.CAPACITY_EC2


def test_the_api_server_port_on_the_link_goes_to_loopback() -> None:
    rule = network.api_rule(Addresses.of(5), 6443)

    assert rule[rule.index("-d") + 1] == "10.246.5.1"
    assert rule[rule.index("--to-destination") + 1] == "127.0.0.1:6443"
    jump = network.jump_rule(Names.from_digest("abc123"))
    assert jump[jump.index("-i") + 1] == "ecsopabc123" and jump[-1] == "ECS-OPERATOR-ABC123"


@pytest.mark.parametrize(
    ("image", "kubelet_name", "podman_name"),
    [
        ("ecs-operator:dev", "docker.io/library/ecs-operator:dev", "localhost/ecs-operator:dev"),
        ("team/app:1", "docker.io/team/app:1", "localhost/team/app:1"),
        ("localhost/ecs-operator-local/busybox:1.35-debian12",) * 3,
        ("registry.example:5000/app:1",) * 3,
    ],
)
def test_images_are_named_as_the_kubelet_and_podman_name_them(
    image: str, kubelet_name: str, podman_name: str
) -> None:
    assert node.docker_name(image) == kubelet_name
    assert node.podman_name(image) == podman_name


MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
90 22 0:50 / /work/x/.local/realnode/kubelet rw shared:40 - ext4 /dev/vda rw
91 90 0:51 / /work/x/.local/realnode/kubelet/pods/a/volumes/kube-api-access rw - tmpfs tmpfs rw
92 22 0:52 / /work/x/.local/realnode/containerd/state/with\\040space rw - overlay overlay rw
93 22 0:53 / /work/x/.local/realnode-other rw - tmpfs tmpfs rw
"""


def test_mounts_below_the_node_folder_are_found_deepest_first() -> None:
    found = host.mounts_under(Path("/work/x/.local/realnode"), MOUNTINFO)

    assert found == [
        Path("/work/x/.local/realnode/kubelet/pods/a/volumes/kube-api-access"),
        Path("/work/x/.local/realnode/containerd/state/with space"),
        Path("/work/x/.local/realnode/kubelet"),
    ]


def test_missing_prerequisites_name_the_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    problems = " ".join(host.missing_prerequisites(tmp_path))

    assert "containerd" in problems and "iptables" in problems and "runc" in problems
    assert "missing CNI plugins" in problems and "bridge" in problems


def test_the_state_file_keeps_the_real_node(tmp_path: Path) -> None:
    state = ClusterState(
        versions_key="k",
        bin_dir="/bin",
        ports={"kube-apiserver": 2},
        real_node=RealNodeState(
            network_index=5,
            processes={"kubelet": processes.ProcessRecord(pid=10, start_time=20, args=("/kubelet",))},
        ),
    )
    save(tmp_path / "state.json", state)

    assert load(tmp_path / "state.json") == state


def test_the_real_node_lives_in_the_state_folder_and_down_removes_it(tmp_path: Path) -> None:
    where = Layout(tmp_path)

    assert node.files(where).root == tmp_path / "realnode"
    assert where.real_node in where.owned_paths()


def test_the_real_node_binaries_have_a_cache_folder_of_their_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(versions.CACHE_ENV, str(tmp_path))

    assert versions.real_node_bin_dir().parent != versions.bin_dir().parent
    assert versions.KUBERNETES_VERSION in versions.real_node_key()
    assert set(versions.REAL_NODE_BINARIES).isdisjoint(versions.BINARIES)


def test_kernel_settings_are_recorded_once_and_restored_by_the_last_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = tmp_path / "proc-sys"
    (settings / "kernel").mkdir(parents=True)
    (settings / "kernel" / "panic").write_text("1\n")
    monkeypatch.setattr(host, "PROC_SYS", settings)
    monkeypatch.setattr(host, "KUBELET_SYSCTLS", ("kernel.panic",))
    record = tmp_path / "run" / "kernel-settings.json"

    host.remember_kernel_settings(record)
    (settings / "kernel" / "panic").write_text("10\n")  # the kubelet's value
    host.remember_kernel_settings(record)  # a second node starts: the host's value stays recorded

    assert host.restore_kernel_settings(others_running=True, record=record) == []
    assert (settings / "kernel" / "panic").read_text().strip() == "10"
    assert host.restore_kernel_settings(others_running=False, record=record) == ["kernel.panic=1"]
    assert (settings / "kernel" / "panic").read_text().strip() == "1" and not record.exists()


def test_other_clones_real_nodes_are_found_by_their_namespaces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mine, other = Names.from_digest("aaaaaa"), Names.from_digest("bbbbbb")
    monkeypatch.setattr(Names, "netns_path", property(lambda self: tmp_path / self.netns))
    for name in (mine.netns, other.netns, "someone-else"):
        (tmp_path / name).touch()

    assert network.other_nodes(mine) == [other.netns]
