"""What `local-cluster up` writes and runs: component flags, kwok Stages, certificates, kubeconfig, Nodes."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
import yaml
from ecs_operator import labels
from ecs_operator.localcluster import components, nodes, pki, resourcemetrics, stages, versions
from ecs_operator.localcluster.components import AUDIT_POLICY, COMPONENTS, PORT_NAMES, Layout, component_args
from ecs_operator.localcluster.errors import LocalClusterError

PORTS = {name: 20000 + index for index, name in enumerate(PORT_NAMES)}


def flags(args: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in args[1:])


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_component_runs_its_cached_binary_bound_to_loopback(name: str, tmp_path: Path) -> None:
    args = component_args(name, tmp_path / "bin", Layout(tmp_path / "state"), PORTS)

    # metrics-server has a cache folder of its own (adding it left the control plane's build valid)
    folder = versions.metrics_server_bin_dir() if name == "metrics-server" else tmp_path / "bin"
    assert args[0] == str(folder / name)
    for arg in args[1:]:
        assert arg.startswith("--") and "=" in arg, arg
        assert "0.0.0.0" not in arg
    addresses = [
        value
        for key, value in flags(args).items()
        if ("address" in key or "urls" in key) and not key.endswith("address-types")
    ]
    assert addresses and all("127.0.0.1" in value for value in addresses)


def test_each_component_uses_its_own_port(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    args = {name: flags(component_args(name, tmp_path, layout, PORTS)) for name in COMPONENTS}

    assert args["etcd"]["listen-client-urls"] == f"http://127.0.0.1:{PORTS['etcd']}"
    assert args["etcd"]["listen-peer-urls"] == f"http://127.0.0.1:{PORTS['etcd-peer']}"
    assert args["kube-apiserver"]["secure-port"] == str(PORTS["kube-apiserver"])
    assert args["kube-apiserver"]["etcd-servers"] == f"http://127.0.0.1:{PORTS['etcd']}"
    assert args["kube-controller-manager"]["secure-port"] == str(PORTS["kube-controller-manager"])
    assert args["kube-scheduler"]["secure-port"] == str(PORTS["kube-scheduler"])
    assert args["kwok"]["server-address"] == f"127.0.0.1:{PORTS['kwok']}"
    assert args["metrics-server"]["secure-port"] == str(PORTS["metrics-server"])


def test_etcd_skips_fsync_and_everything_reads_the_state_folder(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    etcd = flags(component_args("etcd", tmp_path, layout, PORTS))
    kwok = flags(component_args("kwok", tmp_path, layout, PORTS))

    assert etcd["unsafe-no-fsync"] == "true"
    assert etcd["data-dir"] == str(layout.etcd_data)
    assert kwok["kubeconfig"] == str(layout.kubeconfig)
    assert kwok["config"] == str(layout.stages)
    # Only the Nodes made for kwok: a real node's kubelet reports its own status.
    assert "manage-all-nodes" not in kwok
    assert kwok["manage-nodes-with-annotation-selector"] == "kwok.x-k8s.io/node=fake"


def test_the_controller_manager_runs_the_controllers_the_operator_needs(tmp_path: Path) -> None:
    controllers = flags(component_args("kube-controller-manager", tmp_path, Layout(tmp_path), PORTS))[
        "controllers"
    ]

    for needed in (
        "deployment",
        "replicaset",
        "endpointslice",
        "namespace",
        "garbage-collector",
        "serviceaccount",
    ):
        assert f"{needed}-controller" in controllers.split(",")


def test_an_unknown_component_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown component 'kubelet'"):
        component_args("kubelet", tmp_path, Layout(tmp_path), PORTS)


def test_down_removes_only_what_up_created(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".local")

    assert all(path.parent == layout.state for path in layout.owned_paths())
    assert layout.state / "dev" not in layout.owned_paths()


def load_stages() -> dict[str, dict[str, object]]:
    documents = yaml.safe_load_all(stages.render_stages())
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == "Stage"}


def test_kwok_plays_many_pods_at_once_with_every_other_option_at_its_default() -> None:
    documents = list(yaml.safe_load_all(stages.render_stages()))
    configurations = [d for d in documents if d["kind"] == "KwokConfiguration"]
    assert len(configurations) == 1
    assert len(documents) == 1 + len(stages.STAGES) + len(resourcemetrics.KWOK_DOCUMENTS)
    options = configurations[0]["options"]
    assert options["podPlayStageParallelism"] == stages.POD_PLAY_STAGE_PARALLELISM > 4
    # kwok v0.8.0 refuses a zero parallelism and applies no defaults to a configuration file
    assert options["nodePlayStageParallelism"] == options["nodeLeaseParallelism"] == 4
    assert options["podsOnNodeSyncParallelism"] == 1


def test_the_stages_keep_kwoks_defaults_and_add_pod_fail() -> None:
    loaded = load_stages()

    assert list(loaded) == [
        "node-initialize",
        "node-heartbeat-with-lease",
        "pod-ready",
        "pod-complete",
        "pod-delete",
        "pod-fail",
    ]
    assert all(document["kind"] == "Stage" for document in loaded.values())


def expressions(stage: dict[str, object]) -> list[dict[str, object]]:
    spec = stage["spec"]
    assert isinstance(spec, dict)
    found: list[dict[str, object]] = spec["selector"]["matchExpressions"]
    return found


def test_pod_ready_leaves_pods_that_ask_to_fail_to_pod_fail() -> None:
    loaded = load_stages()
    key = f'.metadata.annotations["{stages.FAIL_EXIT_CODE_ANNOTATION}"]'

    assert {"key": key, "operator": "DoesNotExist"} in expressions(loaded["pod-ready"])
    assert {"key": key, "operator": "Exists"} in expressions(loaded["pod-fail"])


def test_pod_fail_reads_the_exit_code_and_container_annotations() -> None:
    template = load_stages()["pod-fail"]["spec"]["next"]["statusTemplate"]  # type: ignore[index]

    assert f'"{stages.FAIL_EXIT_CODE_ANNOTATION}"' in template
    assert f'"{stages.FAIL_CONTAINER_ANNOTATION}"' in template
    assert "exitCode: {{ $exitCode }}" in template


@pytest.fixture(scope="module")
def made_pki(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.create_pki(tmp_path_factory.mktemp("pki"))


def test_the_admin_certificate_serves_loopback_and_the_kubernetes_service(made_pki: pki.Pki) -> None:
    text = subprocess.run(
        ["openssl", "x509", "-in", str(made_pki.admin_cert), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "IP Address:127.0.0.1" in text
    assert "DNS:kubernetes.default.svc.cluster.local" in text
    assert "O=system:masters" in text or "O = system:masters" in text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text


def test_the_admin_certificate_verifies_against_the_ca(made_pki: pki.Pki) -> None:
    result = subprocess.run(
        ["openssl", "verify", "-CAfile", str(made_pki.ca_cert), str(made_pki.admin_cert)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    context = ssl.create_default_context(cafile=str(made_pki.ca_cert))
    context.load_cert_chain(str(made_pki.admin_cert), str(made_pki.admin_key))


def test_keys_are_private_and_an_existing_pki_is_kept(made_pki: pki.Pki) -> None:
    assert made_pki.admin_key.stat().st_mode & 0o077 == 0
    before = made_pki.admin_cert.read_bytes()

    assert pki.create_pki(made_pki.directory).admin_cert.read_bytes() == before


def test_the_kubeconfig_names_the_server_and_embeds_the_credentials(
    made_pki: pki.Pki, tmp_path: Path
) -> None:
    path = tmp_path / "kubeconfig"
    pki.write_kubeconfig(path, "https://127.0.0.1:6443", made_pki)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))

    assert config["current-context"] == pki.CONTEXT_NAME
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert config["clusters"][0]["cluster"]["certificate-authority-data"]
    assert set(config["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}
    assert path.stat().st_mode & 0o077 == 0


def test_missing_openssl_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(LocalClusterError, match="`openssl` was not found on PATH"):
        pki.create_pki(tmp_path / "pki")


def test_the_default_nodes_are_two_demo_container_instances_and_a_fargate_pool() -> None:
    manifests = {spec.name: nodes.node_manifest(spec) for spec in nodes.DEFAULT_NODES}

    assert sorted(manifests) == ["ecs-fargate-1", "ecs-node-1", "ecs-node-2"]
    for name in ("ecs-node-1", "ecs-node-2"):
        node_labels = manifests[name]["metadata"]["labels"]
        assert node_labels[labels.CLUSTER] == "demo"
        assert node_labels[labels.CAPACITY] == labels.CAPACITY_EC2
        assert manifests[name]["spec"]["taints"] == []
        assert manifests[name]["status"]["capacity"] == {
            "cpu": "4",
            "memory": "16Gi",
            "pods": "110",
            "ephemeral-storage": "100Gi",
        }
    fargate = manifests["ecs-fargate-1"]
    assert fargate["metadata"]["labels"][labels.CAPACITY] == labels.CAPACITY_FARGATE
    assert labels.CLUSTER not in fargate["metadata"]["labels"]
    assert fargate["spec"]["taints"] == [
        {
            "key": labels.FARGATE_TAINT_KEY,
            "value": labels.FARGATE_TAINT_VALUE,
            "effect": labels.FARGATE_TAINT_EFFECT,
        }
    ]
    zones = {manifest["metadata"]["labels"]["topology.kubernetes.io/zone"] for manifest in manifests.values()}
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}


def test_every_node_has_the_well_known_labels() -> None:
    for spec in nodes.DEFAULT_NODES:
        node_labels = nodes.node_manifest(spec)["metadata"]["labels"]
        assert node_labels["kubernetes.io/os"] == "linux"
        assert node_labels["kubernetes.io/arch"] == "amd64"
        assert node_labels["type"] == "kwok"
        assert node_labels["node.kubernetes.io/instance-type"]


def test_the_pod_cidr_has_room_for_the_benchmarks() -> None:
    prefix = int(components.POD_CIDR.split("/")[1])

    assert 2 ** (32 - prefix) >= 10_000


def test_the_api_server_writes_a_metadata_audit_log_in_the_state_folder(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".local")
    apiserver = flags(component_args("kube-apiserver", tmp_path, layout, PORTS))
    policy = yaml.safe_load(AUDIT_POLICY)

    assert apiserver["audit-policy-file"] == str(layout.audit_policy)
    assert apiserver["audit-log-path"] == str(layout.audit_log)
    assert apiserver["audit-log-format"] == "json"
    assert int(apiserver["audit-log-maxsize"]) >= 10240  # a benchmark run must not rotate it away
    assert layout.audit_log.parent == layout.logs
    assert layout.audit_policy in layout.owned_paths()
    assert policy["kind"] == "Policy" and policy["omitStages"] == ["RequestReceived"]
    assert policy["rules"][-1] == {"level": "Metadata"}
    leases = [{"group": "coordination.k8s.io", "resources": ["leases"]}]
    election, others = policy["rules"][0], policy["rules"][1]
    assert (election["level"], election["resources"], election["namespaces"]) == (
        "Request",
        leases,
        ["ecs-operator-system"],
    )
    assert (others["level"], others["resources"]) == ("None", leases)


def test_kwok_serves_resource_metrics_from_each_pods_usage_annotations() -> None:
    documents = {d["kind"]: d for d in yaml.safe_load_all(stages.render_stages())}
    metric = documents["Metric"]["spec"]
    usage = documents["ClusterResourceUsage"]["spec"]["usages"][0]["usage"]

    assert metric["path"] == "/metrics/nodes/{nodeName}/metrics/resource"
    names = {series["name"] for series in metric["metrics"]}
    # what metrics-server reads from a kubelet's /metrics/resource
    assert {
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "node_cpu_usage_seconds_total",
        "node_memory_working_set_bytes",
    } <= names
    assert resourcemetrics.USAGE_CPU_ANNOTATION in usage["cpu"]["expression"]
    assert resourcemetrics.USAGE_MEMORY_ANNOTATION in usage["memory"]["expression"]


def test_every_kwok_node_tells_metrics_server_where_kwok_serves_its_metrics() -> None:
    for spec in nodes.DEFAULT_NODES:
        annotations = nodes.node_manifest(spec)["metadata"]["annotations"]
        assert annotations[resourcemetrics.METRICS_PATH_ANNOTATION] == (
            f"/metrics/nodes/{spec.name}/metrics/resource"
        )


def test_metrics_server_listens_on_loopback_and_reads_kubelets_at_their_internal_ip(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    args = flags(component_args("metrics-server", tmp_path, layout, PORTS))

    assert args["bind-address"] == "127.0.0.1"
    assert args["tls-cert-file"] == str(layout.pki.admin_cert)
    assert args["kubelet-preferred-address-types"] == "InternalIP"
    assert args["kubelet-use-node-status-port"] == "true"


def test_the_metrics_api_is_an_external_name_service_verified_by_the_cluster_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    service, api_service = resourcemetrics.manifests(4443, ca)

    # Endpoints refuse loopback addresses and no kube-proxy runs on this host: the aggregator dials an
    # ExternalName Service's name itself
    assert service["spec"] == {
        "type": "ExternalName",
        "externalName": "127.0.0.1",
        "ports": [{"name": "https", "port": 4443}],
    }
    assert api_service["metadata"]["name"] == "v1beta1.metrics.k8s.io"
    assert api_service["spec"]["service"] == {
        "name": "metrics-server",
        "namespace": "kube-system",
        "port": 4443,
    }
    assert "insecureSkipTLSVerify" not in api_service["spec"]
    assert api_service["spec"]["caBundle"]
    assert f"DNS:{resourcemetrics.SERVER_NAME}" in pki.SERVER_NAMES
