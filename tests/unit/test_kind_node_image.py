"""kind's node image built here (nodeimage.py, kindnode/), its pod network (podnet.py), the provider."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml
from ecs_operator.localcluster import images, kind, nodeimage, podnet, versions
from ecs_operator.localcluster.errors import LocalClusterError

NODES = {
    "items": [
        {
            "metadata": {"name": "c-control-plane"},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24", "fd00:10:244::/64"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.89.0.4"}]},
        },
        {
            "metadata": {"name": "c-worker"},
            "spec": {"podCIDR": "10.244.1.0/24"},
            "status": {
                "addresses": [
                    {"type": "Hostname", "address": "c-worker"},
                    {"type": "InternalIP", "address": "fc00::3"},
                    {"type": "InternalIP", "address": "10.89.0.3"},
                ]
            },
        },
        {"metadata": {"name": "c-worker2"}, "spec": {}, "status": {}},
    ]
}


def test_podnet_reads_ipv4_pod_cidrs_and_internal_ips() -> None:
    assert podnet.parse_nodes(NODES) == [
        podnet.Node("c-control-plane", ("10.244.0.0/24",), "10.89.0.4"),
        podnet.Node("c-worker", ("10.244.1.0/24",), "10.89.0.3"),
        podnet.Node("c-worker2", (), None),
    ]


def test_podnet_routes_every_other_node_that_has_a_pod_cidr_and_an_address() -> None:
    nodes = podnet.parse_nodes(NODES)

    assert podnet.routes(nodes, "c-worker") == [("10.244.0.0/24", "10.89.0.4")]
    assert podnet.routes(nodes, "c-worker2") == [
        ("10.244.0.0/24", "10.89.0.4"),
        ("10.244.1.0/24", "10.89.0.3"),
    ]


def test_podnet_cni_config_gives_pods_addresses_of_the_node_pod_cidr() -> None:
    config = json.loads(podnet.cni_config("10.244.1.0/24"))

    assert [plugin["type"] for plugin in config["plugins"]] == ["ptp", "portmap"]
    assert config["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]
    assert config["plugins"][1]["capabilities"] == {"portMappings": True}


def test_podnet_masquerades_all_but_pod_to_pod_traffic() -> None:
    rules = podnet.masquerade_rules("10.244.0.0/16")

    assert rules[0] == ["-d", "10.244.0.0/16", "-j", "RETURN"]
    assert rules[-1] == ["-j", "MASQUERADE"]


def test_podnet_writes_its_file_only_when_it_changes(tmp_path: Path) -> None:
    target = tmp_path / "10-net.conflist"

    assert podnet.write_if_changed(target, "a")
    assert not podnet.write_if_changed(target, "a")
    assert podnet.write_if_changed(target, "b") and target.read_text() == "b"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["10-net.conflist"]


def test_the_default_cni_manifest_is_one_kind_templates_and_patches() -> None:
    text = nodeimage.node_file("default-cni.yaml").decode()

    # kind's installcni action templates {{ .PodSubnet }} and adds CONTROL_PLANE_ENDPOINT to the env of the
    # DaemonSet's first container only when these words are in the file.
    assert "would you kindly template this file" in text and "would you kindly patch this file" in text
    (daemonset,) = [doc for doc in yaml.safe_load_all(text) if doc["kind"] == "DaemonSet"]
    pod = daemonset["spec"]["template"]["spec"]
    env = {item["name"]: item for item in pod["containers"][0]["env"]}
    assert env["POD_SUBNET"]["value"] == "{{ .PodSubnet }}"
    assert pod["hostNetwork"] is True and pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["containers"][0]["image"] == "PODNET_IMAGE"  # replaced by the node image's build


def test_the_nodes_containerd_sandbox_image_is_the_preloaded_pause() -> None:
    recipe = nodeimage.base_recipe()
    content = recipe.files["config.toml"]
    assert isinstance(content, bytes)
    config = tomllib.loads(content.decode())

    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == f"registry.k8s.io/pause:{images.PAUSE_VERSION}" == nodeimage.SANDBOX_IMAGE
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert cri["cni"]["bin_dir"] == "/opt/cni/bin"


def test_the_base_image_starts_systemd_through_our_entrypoint() -> None:
    containerfile = nodeimage.base_recipe().containerfile

    assert containerfile.startswith(f"FROM {images.MINBASE}\n")
    assert 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' in containerfile
    assert "STOPSIGNAL SIGRTMIN+3" in containerfile
    for package in ("systemd", "containerd", "runc", "containernetworking-plugins", "iptables", "conntrack"):
        assert package in nodeimage.BASE_PACKAGES


def test_the_entrypoint_asks_only_for_limits_the_host_grants() -> None:
    entrypoint = nodeimage.node_file("entrypoint").decode()

    assert "LimitNOFILE=$hard_nofile" in entrypoint
    assert "--fail-cgroupv1=false" in entrypoint and "--oom-score-adj=0" in entrypoint
    assert "restrict_oom_score_adj" in entrypoint


def test_binary_images_hold_the_binaries_by_path_and_run_them_by_name(tmp_path: Path) -> None:
    binary = tmp_path / "etcd"
    binary.write_bytes(b"\x7fELF")
    recipe = nodeimage.Binaries(
        f"{images.PREFIX}/etcd:{versions.KIND_ETCD_VERSION}-0", {"etcd": binary}
    ).recipe()

    assert recipe.containerfile.startswith("FROM scratch\nCOPY etcd /usr/local/bin/etcd\n")
    assert "ENV PATH=/usr/local/bin" in recipe.containerfile
    before = recipe.digest("base")
    binary.write_bytes(b"\x7fELF-rebuilt")  # a rebuilt binary has another size
    assert recipe.digest("base") != before


def test_the_node_image_has_a_local_name_naming_its_kubernetes() -> None:
    assert nodeimage.NODE_IMAGE == f"localhost/ecs-operator-local/kind-node:v{versions.KUBERNETES_VERSION}"
    assert nodeimage.BASE_IMAGE.startswith("localhost/ecs-operator-local/")


def test_kind_uses_the_provider_asked_for_else_docker_when_its_engine_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(kind.PROVIDER_ENV, "podman")
    assert kind.provider().name == "podman"
    assert kind.provider().env[kind.PROVIDER_ENV] == "podman"
    monkeypatch.setenv(kind.PROVIDER_ENV, "nerdctl")
    with pytest.raises(LocalClusterError, match="nerdctl"):
        kind.provider()
    monkeypatch.delenv(kind.PROVIDER_ENV)
    monkeypatch.setattr(kind.operator_image, "docker_engine", lambda: None)
    where = kind.provider()
    assert where.name == "podman" and "CONTAINERS_CONF" in where.env
    monkeypatch.setattr(kind.operator_image, "docker_engine", lambda: "/usr/bin/docker")
    assert kind.provider().name == "docker"
