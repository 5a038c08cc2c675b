"""The real node's test session: the local cluster with its real node, and the operator installed as users
install it (its image built here, loaded into the node, `kubectl apply -k manifests/local`).

These tests run in a pytest session of their own (`make test` runs them after the other integration tests):
the operator runs in the cluster here, and a second operator (the other tests' subprocess) would reconcile
the same objects. Without root or the Debian packages the real node needs they are skipped, unless
ECS_OPERATOR_REAL_NODE=required (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ecs_operator import labels
from ecs_operator.localcluster import cluster, operator_image
from ecs_operator.localcluster.build import print_progress
from ecs_operator.localcluster.realnode import host
from ecs_operator.localcluster.realnode.config import CNI_BIN_DIR
from ecs_operator.localcluster.realnode.layout import NODE_NAME
from ecs_operator.localcluster.realnode.node import NODE_LABELS

from tests.integration import own_session
from tests.integration.operator_helpers import Cluster
from tests.integration.own_session import mark_own_session
from tests.integration.realnode.workloads import ecs_cluster

REALNODE_DIR = Path(__file__).resolve().parent
REPO_ROOT = REALNODE_DIR.parents[2]
REQUIRED_ENV = "ECS_OPERATOR_REAL_NODE"
OPERATOR_IMAGE = "ecs-operator:dev"  # what manifests/local runs
OPERATOR_NAMESPACE = "ecs-operator-system"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_own_session(
        items,
        REALNODE_DIR,
        pytest.mark.realnode,
        "real node tests",
        "pytest tests/integration/realnode -m realnode",
    )


def unavailable(reason: str) -> None:
    own_session.unavailable(REQUIRED_ENV, "real node", reason)


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[str]:
    """The local cluster with its real node: started (and stopped at the end) unless it already runs."""
    if os.environ.get("KUBECONFIG"):
        unavailable("KUBECONFIG is set; the real node belongs to the local cluster")
    problems = host.missing_prerequisites(Path(CNI_BIN_DIR))
    if problems:
        unavailable("; ".join(problems))
    before = cluster.status()
    cluster.up(with_real_node=True)
    try:
        yield str(cluster.layout().kubeconfig)
    finally:
        if not before.running:
            cluster.down()
        elif before.real_node.startswith("none"):
            cluster.remove_real_node()


@pytest.fixture(scope="session")
def installed_operator(kubeconfig: str, kubectl: Kubectl) -> Iterator[str]:
    """The operator as users install it: `make image`, loaded into the node, `kubectl apply -k
    manifests/local` (CRDs, ServiceAccount, least-privilege role, a Deployment in a `restricted` namespace).
    """
    operator_image.build(REPO_ROOT, [OPERATOR_IMAGE], print_progress)
    cluster.load_images([OPERATOR_IMAGE])
    kubectl("apply", "--server-side", "--force-conflicts", "-k", str(REPO_ROOT / "manifests" / "local"))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO_ROOT / "crds"))
    # A Deployment left by an earlier session runs the image it started with: take the one just loaded.
    kubectl("rollout", "restart", "deployment/ecs-operator", "-n", OPERATOR_NAMESPACE)
    kubectl("rollout", "status", "deployment/ecs-operator", "-n", OPERATOR_NAMESPACE, "--timeout=180s")
    yield OPERATOR_NAMESPACE
    kubectl("delete", "deployment", "ecs-operator", "-n", OPERATOR_NAMESPACE, "--ignore-not-found")


def label_real_node(kubectl: Kubectl, cluster_name: str) -> None:
    kubectl("label", "node", NODE_NAME, f"{labels.CLUSTER}={cluster_name}", "--overwrite")


@pytest.fixture
def real_cluster(kubectl: Kubectl, namespace: str, installed_operator: str) -> Iterator[Cluster]:
    """An EcsCluster named like the test namespace whose only container instance is the real node (for the
    test's length; it belongs to `demo` again afterwards)."""
    ecs = Cluster(kubectl, namespace)
    label_real_node(kubectl, namespace)
    try:
        ecs.apply(ecs_cluster(namespace))
        ecs.wait_condition("ecscluster", namespace, "Ready")
        yield ecs
    finally:
        kubectl("delete", "ecsservices,ecstasks", "--all", "-n", namespace, "--timeout=120s", check=False)
        ecs.families.remove()
        kubectl("delete", "ecscluster", namespace, "--ignore-not-found", "--timeout=120s", check=False)
        label_real_node(kubectl, NODE_LABELS[labels.CLUSTER])


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    """A folder of this machine for `host` volumes: the real node shares the machine's filesystem."""
    tmp_path.chmod(0o777)
    return tmp_path
