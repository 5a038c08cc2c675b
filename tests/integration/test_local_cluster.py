"""Acceptance tests of the local control plane: the controllers and kwok behaviours the operator relies on."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator import labels
from ecs_operator.localcluster import cluster, nodes, processes, resourcemetrics
from ecs_operator.localcluster.stages import FAIL_CONTAINER_ANNOTATION, FAIL_EXIT_CODE_ANNOTATION
from ecs_operator.localcluster.state import load

from tests.integration.conftest import Kubectl
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration

APP = "web"
SELECTOR = f"app={APP}"


def deployment(replicas: int = 3, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": APP}},
            "template": {
                "metadata": {"labels": {"app": APP}, "annotations": annotations or {}},
                "spec": {
                    "containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]
                },
            },
        },
    }


def apply(kubectl: Kubectl, namespace: str, manifest: dict[str, Any]) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))


def items(kubectl: Kubectl, namespace: str, kind: str, selector: str = SELECTOR) -> list[dict[str, Any]]:
    result = kubectl("get", kind, "-n", namespace, "-l", selector, "-o", "json")
    found: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return found


def running_pods(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    return [
        pod
        for pod in items(kubectl, namespace, "pods")
        if pod["status"].get("phase") == "Running"
        and pod["status"].get("podIP")
        and not pod["metadata"].get("deletionTimestamp")
    ]


def kwok_node_names(kubectl: Kubectl) -> set[str]:
    return {node["metadata"]["name"] for node in items(kubectl, "default", "nodes", "type=kwok")}


def three_running(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    apply(kubectl, namespace, deployment())
    return wait_for(
        lambda: pods if len(pods := running_pods(kubectl, namespace)) == 3 else [],
        timeout=90,
        message="3 Running Pods with IPs",
    )


def test_deployment_gets_three_running_pods_on_kwok_nodes(kubectl: Kubectl, namespace: str) -> None:
    pods = three_running(kubectl, namespace)

    assert {pod["spec"]["nodeName"] for pod in pods} <= kwok_node_names(kubectl)
    assert len({pod["status"]["podIP"] for pod in pods}) == 3


def test_a_deleted_pod_is_replaced(kubectl: Kubectl, namespace: str) -> None:
    victim = three_running(kubectl, namespace)[0]["metadata"]["name"]

    kubectl("delete", "pod", victim, "-n", namespace, "--wait=false")

    def replaced() -> list[str]:
        names = [pod["metadata"]["name"] for pod in running_pods(kubectl, namespace)]
        return names if len(names) == 3 and victim not in names else []

    wait_for(replaced, timeout=90, message=f"3 Running Pods without {victim}")


def test_a_service_gets_an_endpointslice_with_three_ready_addresses(kubectl: Kubectl, namespace: str) -> None:
    pod_ips = {pod["status"]["podIP"] for pod in three_running(kubectl, namespace)}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": APP},
        "spec": {"selector": {"app": APP}, "ports": [{"port": 80, "targetPort": 80}]},
    }
    apply(kubectl, namespace, service)

    def ready_addresses() -> set[str]:
        slices = items(kubectl, namespace, "endpointslices", f"kubernetes.io/service-name={APP}")
        return {
            address
            for endpoint_slice in slices
            for endpoint in endpoint_slice.get("endpoints") or []
            if endpoint.get("conditions", {}).get("ready")
            for address in endpoint["addresses"]
        }

    wait_for(lambda: ready_addresses() == pod_ips, timeout=60, message=f"ready addresses {sorted(pod_ips)}")


def test_deleting_the_deployment_garbage_collects_replicasets_and_pods(
    kubectl: Kubectl, namespace: str
) -> None:
    three_running(kubectl, namespace)
    assert items(kubectl, namespace, "replicasets")

    kubectl("delete", "deployment", APP, "-n", namespace, "--cascade=background", "--wait=false")

    wait_for(
        lambda: not items(kubectl, namespace, "replicasets") and not items(kubectl, namespace, "pods"),
        timeout=90,
        message="ReplicaSets and Pods garbage-collected",
    )


def test_a_namespace_deletion_completes(kubectl: Kubectl) -> None:
    name = f"t-ns-deletion-{secrets.token_hex(3)}"
    kubectl("create", "namespace", name)
    wait_for(
        lambda: kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode == 0,
        message="ServiceAccount default",
    )
    three_running(kubectl, name)
    kubectl("create", "configmap", "settings", "-n", name, "--from-literal=a=b")

    kubectl("delete", "namespace", name, "--wait=false")

    wait_for(
        lambda: kubectl("get", "namespace", name, check=False).returncode != 0,
        timeout=120,
        message=f"namespace {name} gone",
    )


SCALABLE_GROUP = "acceptance.ecs.operator.dev"
SCALABLE_CRD = f"scalables.{SCALABLE_GROUP}"


def scalable_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": SCALABLE_CRD},
        "spec": {
            "group": SCALABLE_GROUP,
            "scope": "Namespaced",
            "names": {"plural": "scalables", "singular": "scalable", "kind": "Scalable"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                            "labelSelectorPath": ".status.selector",
                        },
                    },
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"replicas": {"type": "integer", "minimum": 0}},
                                },
                                "status": {
                                    "type": "object",
                                    "properties": {
                                        "replicas": {"type": "integer"},
                                        "selector": {"type": "string"},
                                    },
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture
def scalable_crd_installed(kubectl: Kubectl) -> Iterator[None]:
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(scalable_crd()))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{SCALABLE_CRD}")
    yield
    kubectl("delete", "crd", SCALABLE_CRD, "--wait=false", check=False)


@pytest.mark.usefixtures("scalable_crd_installed")
def test_a_crd_with_status_and_scale_subresources_scales_with_kubectl(
    kubectl: Kubectl, namespace: str
) -> None:
    resource = {
        "apiVersion": f"{SCALABLE_GROUP}/v1",
        "kind": "Scalable",
        "metadata": {"name": "thing"},
        "spec": {"replicas": 1},
    }
    # Discovery of a just-Established CRD can lag a moment behind in kubectl's cache.
    wait_for(
        lambda: (
            kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(resource), check=False).returncode
            == 0
        ),
        timeout=30,
        message="the Scalable resource accepted",
    )
    status = {"status": {"replicas": 1, "selector": "app=thing"}}
    kubectl(
        "patch",
        "scalable",
        "thing",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )

    kubectl("scale", "scalable", "thing", "-n", namespace, "--replicas=3")

    def scale() -> dict[str, Any]:
        result = kubectl("get", "scalable", "thing", "-n", namespace, "--subresource=scale", "-o", "json")
        return dict(json.loads(result.stdout))

    current = wait_for(
        lambda: s if (s := scale())["spec"].get("replicas") == 3 else None, message="spec.replicas 3"
    )
    assert current["status"] == {"replicas": 1, "selector": "app=thing"}
    thing = json.loads(kubectl("get", "scalable", "thing", "-n", namespace, "-o", "json").stdout)
    assert thing["spec"] == {"replicas": 3}
    assert thing["status"] == {"replicas": 1, "selector": "app=thing"}


def pod(name: str, annotations: dict[str, str], containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": APP}, "annotations": annotations},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": container, "image": "busybox:1.36"} for container in containers],
        },
    }


def pod_status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    result = kubectl("get", "pod", name, "-n", namespace, "-o", "json")
    status: dict[str, Any] = json.loads(result.stdout)["status"]
    return status


def test_the_pod_fail_stage_exits_every_container_with_the_chosen_code(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, pod("crasher", {FAIL_EXIT_CODE_ANNOTATION: "3"}, ("app", "sidecar")))

    status = wait_for(
        lambda: s if (s := pod_status(kubectl, namespace, "crasher")).get("phase") == "Failed" else None,
        timeout=60,
        message="Pod crasher Failed",
    )
    exit_codes = {
        item["name"]: item["state"]["terminated"]["exitCode"] for item in status["containerStatuses"]
    }
    assert exit_codes == {"app": 3, "sidecar": 3}
    assert status["podIP"]

    def warning_reasons() -> set[str]:
        result = kubectl(
            "get", "events", "-n", namespace, "--field-selector=involvedObject.name=crasher", "-o", "json"
        )
        return {event["reason"] for event in json.loads(result.stdout)["items"] if event["type"] == "Warning"}

    wait_for(lambda: "BackOff" in warning_reasons(), timeout=30, message="a Warning BackOff Event")


def test_the_pod_fail_stage_can_exit_one_container(kubectl: Kubectl, namespace: str) -> None:
    annotations = {FAIL_EXIT_CODE_ANNOTATION: "137", FAIL_CONTAINER_ANNOTATION: "sidecar"}
    apply(kubectl, namespace, pod("half", annotations, ("app", "sidecar")))

    status = wait_for(
        lambda: s if (s := pod_status(kubectl, namespace, "half")).get("containerStatuses") else None,
        timeout=60,
        message="container statuses of Pod half",
    )
    states = {item["name"]: item["state"] for item in status["containerStatuses"]}
    assert states["sidecar"]["terminated"]["exitCode"] == 137
    assert "running" in states["app"]
    assert status["phase"] == "Running"
    ready = {condition["type"]: condition["status"] for condition in status["conditions"]}
    assert ready["Ready"] == "False"


def test_a_deployment_with_a_failing_container_gets_failed_pods_replaced(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, deployment(replicas=1, annotations={FAIL_EXIT_CODE_ANNOTATION: "2"}))

    def failed_pods() -> list[dict[str, Any]]:
        return [p for p in items(kubectl, namespace, "pods") if p["status"].get("phase") == "Failed"]

    failed = wait_for(
        lambda: f if len(f := failed_pods()) >= 2 else None, timeout=90, message="2 Failed Pods"
    )
    assert failed[0]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 2


def test_ensure_node_adds_a_container_instance_that_runs_pods(
    kubectl: Kubectl, namespace: str, api_client: Any
) -> None:
    node = f"ecs-node-{secrets.token_hex(3)}"
    ecs_cluster = f"other-{secrets.token_hex(2)}"
    node_labels = {labels.CLUSTER: ecs_cluster, labels.CAPACITY: labels.CAPACITY_EC2}
    taint = nodes.Taint("dedicated", ecs_cluster, "NoSchedule")
    nodes.ensure_node(
        api_client,
        node,
        labels=node_labels,
        taints=[taint],
        capacity={"cpu": "2", "memory": "8Gi", "pods": "20"},
    )
    try:
        nodes.wait_ready(api_client, [node], timeout=60)
        placed = pod("placed", {})
        placed["spec"]["nodeSelector"] = {labels.CLUSTER: ecs_cluster}
        placed["spec"]["tolerations"] = [{"key": "dedicated", "value": ecs_cluster, "effect": "NoSchedule"}]
        apply(kubectl, namespace, placed)

        status = wait_for(
            lambda: s if (s := pod_status(kubectl, namespace, "placed")).get("phase") == "Running" else None,
            timeout=60,
            message="Pod placed Running",
        )
        assert status["podIP"]
        spec = json.loads(kubectl("get", "pod", "placed", "-n", namespace, "-o", "json").stdout)["spec"]
        assert spec["nodeName"] == node
        capacity = json.loads(kubectl("get", "node", node, "-o", "json").stdout)["status"]["capacity"]
        assert (capacity["cpu"], capacity["memory"], capacity["pods"]) == ("2", "8Gi", "20")
    finally:
        kubectl("delete", "node", node, "--wait=false", check=False)


def test_the_default_nodes_are_demo_container_instances_and_a_tainted_fargate_pool(kubectl: Kubectl) -> None:
    by_name = {
        spec.name: json.loads(kubectl("get", "node", spec.name, "-o", "json").stdout)
        for spec in nodes.DEFAULT_NODES
    }

    for name in ("ecs-node-1", "ecs-node-2"):
        node_labels = by_name[name]["metadata"]["labels"]
        assert node_labels[labels.CLUSTER] == "demo"
        assert node_labels[labels.CAPACITY] == labels.CAPACITY_EC2
        assert by_name[name]["status"]["capacity"]["cpu"] == "4"
    fargate = by_name["ecs-fargate-1"]
    assert fargate["metadata"]["labels"][labels.CAPACITY] == labels.CAPACITY_FARGATE
    assert {
        "key": labels.FARGATE_TAINT_KEY,
        "value": labels.FARGATE_TAINT_VALUE,
        "effect": "NoSchedule",
    } in fargate["spec"]["taints"]
    zones = {node["metadata"]["labels"]["topology.kubernetes.io/zone"] for node in by_name.values()}
    assert {"us-east-1a", "us-east-1b", "us-east-1c"} <= zones


@pytest.fixture
def owned_local_cluster(kubeconfig: str) -> Path:
    """The state folder of the cluster under test, when it is a local cluster (never the shared copy)."""
    state_dir = Path(kubeconfig).resolve().parent
    state = load(state_dir / "state.json")
    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
    servers = {entry["cluster"]["server"] for entry in config.get("clusters") or []}
    if state is None or servers != {cluster.server_url(state)}:
        pytest.skip(f"{kubeconfig} is not the kubeconfig in a local cluster's state folder")
    return state_dir


def test_the_metrics_api_serves_kwoks_simulated_usage_for_nodes_and_pods(
    kubectl: Kubectl, namespace: str
) -> None:
    """metrics-server, reached through its APIService, reads what kwok simulates: a Pod's usage annotation."""
    usage = {resourcemetrics.USAGE_CPU_ANNOTATION: "300m", resourcemetrics.USAGE_MEMORY_ANNOTATION: "40Mi"}
    apply(kubectl, namespace, deployment(replicas=1, annotations=usage))

    def pod_usage() -> dict[str, str]:
        answer = kubectl(
            "get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods", check=False
        )
        found = json.loads(answer.stdout)["items"] if answer.returncode == 0 else []
        return found[0]["containers"][0]["usage"] if found else {}

    measured = wait_for(pod_usage, timeout=120, interval=1, message="the Pod's metrics in metrics.k8s.io")
    assert abs(quantity_millicores(measured["cpu"]) - 300) <= 15, measured
    assert measured["memory"] in ("40Mi", str(40 * 1024 * 1024), f"{40 * 1024}Ki"), measured
    # A kwok Node's usage is the sum of its Pods' (one with no Pod reports none, and is left out).
    (pod,) = items(kubectl, namespace, "pods")
    nodes_answer = json.loads(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes").stdout)
    node_usage = {node["metadata"]["name"]: node["usage"] for node in nodes_answer["items"]}
    assert quantity_millicores(node_usage[pod["spec"]["nodeName"]]["cpu"]) >= 285, node_usage


def quantity_millicores(value: str) -> float:
    if value.endswith("n"):
        return int(value[:-1]) / 1e6
    if value.endswith("u"):
        return int(value[:-1]) / 1e3
    if value.endswith("m"):
        return float(value[:-1])
    return float(value) * 1000


def test_restart_apiserver_keeps_the_data_and_serves_again(
    kubectl: Kubectl, owned_local_cluster: Path
) -> None:
    name = f"t-restart-{secrets.token_hex(3)}"
    kubectl("create", "namespace", name)
    before = load(owned_local_cluster / "state.json")
    assert before is not None

    cluster.restart_apiserver(owned_local_cluster, progress=lambda line: None)

    after = load(owned_local_cluster / "state.json")
    assert after is not None
    assert after.processes["kube-apiserver"].pid != before.processes["kube-apiserver"].pid
    assert not processes.is_running(before.processes["kube-apiserver"])
    wait_for(
        lambda: kubectl("get", "namespace", name, check=False).returncode == 0,
        timeout=60,
        message="the API server serving the namespace created before the restart",
    )
    kubectl("delete", "namespace", name, "--wait=false")


def test_up_again_reuses_the_running_cluster(owned_local_cluster: Path) -> None:
    before = load(owned_local_cluster / "state.json")
    assert before is not None

    again = cluster.up(owned_local_cluster, progress=lambda line: None)

    assert again.processes == before.processes
    assert again.ports == before.ports


def test_a_second_cluster_recovers_from_crashes_and_down_leaves_no_process(tmp_path: Path) -> None:
    """A separate cluster in a temporary state folder, so the one under test is never stopped."""
    state_dir = tmp_path / "state"
    quiet = {"progress": lambda line: None}
    first = cluster.up(state_dir, **quiet)
    try:
        processes.stop(first.processes["kube-apiserver"], timeout=0)  # a crash: SIGKILL at once

        second = cluster.up(state_dir, **quiet)

        assert second.processes["kube-apiserver"].pid != first.processes["kube-apiserver"].pid
        assert not any(processes.is_running(record) for record in first.processes.values())
        assert cluster.status(state_dir).running
        assert cluster.status(state_dir).node_count == len(nodes.DEFAULT_NODES)

        (state_dir / "state.json").unlink()  # as if a killed `up` never wrote its record
        third = cluster.up(state_dir, **quiet)

        assert not any(processes.is_running(record) for record in second.processes.values())
        assert cluster.status(state_dir).running
    finally:
        cluster.down(state_dir, **quiet)

    assert not any(processes.is_running(record) for record in third.processes.values())
    assert not processes.strays(Path(third.bin_dir), {str(state_dir / "kubeconfig"), str(state_dir / "etcd")})
    assert not state_dir.exists()
    assert not cluster.status(state_dir).running
