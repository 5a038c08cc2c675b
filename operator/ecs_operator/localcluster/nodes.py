"""kwok Nodes: the default container instances and Fargate pool, and a helper for tests to add more.

kwok manages the Nodes annotated `kwok.x-k8s.io/node: fake`, as every Node created here is: it turns Ready
and the Pods scheduled to it become Running with an IP. (The real node, when there is one, is left alone.)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels as label_names
from ecs_operator.localcluster import resourcemetrics
from ecs_operator.localcluster.components import KWOK_NODE_ANNOTATION
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.naming import label_value, object_name

# Like an m5.xlarge: what an ECS container instance typically offers.
EC2_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
FARGATE_CAPACITY = {"cpu": "64", "memory": "256Gi", "pods": "1000", "ephemeral-storage": "1Ti"}
DEMO_CLUSTER = "demo"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value, "effect": self.effect}


@dataclass(frozen=True)
class NodeSpec:
    name: str
    labels: Mapping[str, str]
    taints: tuple[Taint, ...] = ()
    capacity: Mapping[str, str] = field(default_factory=lambda: dict(EC2_CAPACITY))


FARGATE_TAINT = Taint(
    label_names.FARGATE_TAINT_KEY, label_names.FARGATE_TAINT_VALUE, label_names.FARGATE_TAINT_EFFECT
)


def base_labels(name: str, instance_type: str, zone: str) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/region": "us-east-1",
        "topology.kubernetes.io/zone": zone,
        "type": "kwok",
    }


def container_instance(name: str, cluster: str, zone: str = "us-east-1a") -> NodeSpec:
    """A Node counted as a container instance of ECS cluster `cluster` (EC2 capacity)."""
    return NodeSpec(
        name=name,
        labels={
            **base_labels(name, "m5.xlarge", zone),
            label_names.CLUSTER: cluster,
            label_names.CAPACITY: label_names.CAPACITY_EC2,
        },
    )


def fargate_pool(name: str, zone: str = "us-east-1c") -> NodeSpec:
    return NodeSpec(
        name=name,
        labels={**base_labels(name, "fargate", zone), label_names.CAPACITY: label_names.CAPACITY_FARGATE},
        taints=(FARGATE_TAINT,),
        capacity=dict(FARGATE_CAPACITY),
    )


DEFAULT_NODES = (
    container_instance("ecs-node-1", DEMO_CLUSTER, "us-east-1a"),
    container_instance("ecs-node-2", DEMO_CLUSTER, "us-east-1b"),
    fargate_pool("ecs-fargate-1", "us-east-1c"),
)


def node_manifest(spec: NodeSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": spec.name,
            "labels": dict(spec.labels),
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                KWOK_NODE_ANNOTATION: "fake",
                resourcemetrics.METRICS_PATH_ANNOTATION: resourcemetrics.kwok_metrics_path(spec.name),
            },
        },
        "spec": {"taints": [taint.to_dict() for taint in spec.taints]},
        "status": {"capacity": dict(spec.capacity), "allocatable": dict(spec.capacity)},
    }


def ensure_node(
    api_client: Any,
    name: str,
    labels: Mapping[str, str] | None = None,
    taints: Iterable[Taint] = (),
    capacity: Mapping[str, str] | None = None,
) -> None:
    """Create the kwok Node `name` with these labels, taints and capacity, or update its labels and taints.

    `api_client` is a `kubernetes.client.ApiClient`. The standard os/arch/hostname labels are added.
    """
    spec = NodeSpec(
        name=name,
        labels={**base_labels(name, "m5.xlarge", "us-east-1a"), **(labels or {})},
        taints=tuple(taints),
        capacity=dict(capacity or EC2_CAPACITY),
    )
    apply_node(api_client, spec)


def apply_node(api_client: Any, spec: NodeSpec) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(api_client)
    manifest = node_manifest(spec)
    try:
        core.create_node(manifest)
    except ApiException as error:
        if error.status != 409:
            raise
        core.patch_node(
            spec.name,
            {
                "metadata": {
                    "labels": manifest["metadata"]["labels"],
                    "annotations": manifest["metadata"]["annotations"],
                },
                "spec": manifest["spec"],
            },
        )


def is_ready(node: Any) -> bool:
    conditions = (node.status.conditions if node.status else None) or []
    return any(condition.type == "Ready" and condition.status == "True" for condition in conditions)


def wait_ready(api_client: Any, names: Iterable[str], timeout: float = 60.0) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        ready = {node.metadata.name for node in core.list_node().items if is_ready(node)}
        if wanted <= ready:
            return
        if time.monotonic() > deadline:
            raise LocalClusterError(
                f"kwok Nodes {', '.join(sorted(wanted - ready))} are not Ready after {timeout:.0f}s; "
                "see the kwok log in the state folder's logs/"
            )
        time.sleep(0.2)


def add_container_instances(
    api_client: Any, cluster: str, count: int, provider: str | None = None, timeout: float = 60.0
) -> list[str]:
    """`count` more container instances of ECS cluster `cluster` (of capacity provider `provider`), Ready."""
    from kubernetes import client

    taken = {node.metadata.name for node in client.CoreV1Api(api_client).list_node().items}
    prefix = f"ecs-{object_name(cluster)}"[:50]
    names: list[str] = []
    number = 1
    while len(names) < count:
        name = f"{prefix}-{number}"
        number += 1
        if name in taken:
            continue
        spec = container_instance(name, label_value(cluster))
        if provider:
            spec = NodeSpec(name, {**spec.labels, label_names.CAPACITY_PROVIDER: label_value(provider)})
        apply_node(api_client, spec)
        names.append(name)
    wait_ready(api_client, names, timeout)
    return names


def ensure_default_nodes(api_client: Any, timeout: float = 60.0) -> None:
    for spec in DEFAULT_NODES:
        apply_node(api_client, spec)
    wait_ready(api_client, (spec.name for spec in DEFAULT_NODES), timeout)
