"""kind-config.yaml says what DESIGN.md and our labels say (tests/integration/kind runs it for real)."""

from pathlib import Path
from typing import Any

import yaml
from ecs_operator import labels

KIND_CONFIG = Path(__file__).resolve().parents[2] / "kind-config.yaml"


def _nodes() -> list[dict[str, Any]]:
    config = yaml.safe_load(KIND_CONFIG.read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    nodes: list[dict[str, Any]] = config["nodes"]
    return nodes


def test_one_control_plane_and_two_workers() -> None:
    roles = [node["role"] for node in _nodes()]
    assert roles == ["control-plane", "worker", "worker"]


def test_first_worker_is_a_container_instance_of_the_demo_cluster() -> None:
    worker = _nodes()[1]
    assert worker["labels"][labels.CLUSTER] == "demo"
    assert worker["labels"][labels.CAPACITY] == labels.CAPACITY_EC2


def test_second_worker_is_the_tainted_fargate_pool() -> None:
    worker = _nodes()[2]
    assert worker["labels"][labels.CAPACITY] == labels.CAPACITY_FARGATE
    assert labels.CLUSTER not in worker["labels"]
    (patch,) = worker["kubeadmConfigPatches"]
    join = yaml.safe_load(patch)
    assert join["kind"] == "JoinConfiguration"
    assert join["nodeRegistration"]["taints"] == [
        {
            "key": labels.FARGATE_TAINT_KEY,
            "value": labels.FARGATE_TAINT_VALUE,
            "effect": labels.FARGATE_TAINT_EFFECT,
        }
    ]
