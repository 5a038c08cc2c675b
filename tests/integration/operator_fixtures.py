"""Fixtures that run the operator (`ecs-operator run`, a real subprocess) against the test cluster.

Load with `pytest_plugins = ["tests.integration.operator_fixtures"]` (it loads `tests.integration.rbac`).
Builds on the control-plane fixtures `kubeconfig`, `kubectl` and `ecs_crds` and the per-test `namespace`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ecs_operator.subprocesses import OperatorProcess

from tests.integration.operator_helpers import API, Cluster, node_manifest

pytest_plugins = ["tests.integration.rbac"]


@pytest.fixture(scope="session")
def ecs_operator(
    kubeconfig: str, ecs_crds: Any, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The operator, authenticated as its ServiceAccount bound to the shipped ClusterRole (so every test
    also proves the RBAC sufficient); ECS_OPERATOR_TESTS_AS_ADMIN=1 runs it with the admin kubeconfig."""
    if os.environ.get("ECS_OPERATOR_TESTS_AS_ADMIN") == "1":
        operator_config = str(kubeconfig)
    else:
        operator_config = str(request.getfixturevalue("operator_kubeconfig"))
    operator = OperatorProcess(
        kubeconfig=operator_config, log_path=tmp_path_factory.mktemp("operator") / "log"
    )
    operator.start()
    yield operator
    operator.stop()


@pytest.fixture
def ecs_cluster(
    kubectl: Callable[..., subprocess.CompletedProcess[str]], namespace: str, ecs_operator: OperatorProcess
) -> Iterator[Cluster]:
    """An EcsCluster named like the test namespace (so it owns it) with one container instance."""
    cluster = Cluster(kubectl, namespace)
    node = f"ci-{namespace}"[:63]
    cluster.apply(
        node_manifest(node, {"ecs.operator.dev/cluster": namespace, "ecs.operator.dev/capacity": "ec2"}),
        {
            "apiVersion": API,
            "kind": "EcsCluster",
            "metadata": {"name": namespace},
            "spec": {"clusterName": namespace},
        },
    )
    cluster.wait_condition("ecscluster", namespace, "Ready")
    yield cluster
    # Services and tasks carry the operator's finalizer: remove them while the operator runs, then the
    # cluster (which owns the namespace), so nothing is left stuck when the session's operator stops.
    kubectl("delete", "ecsservices,ecstasks", "--all", "-n", namespace, "--timeout=120s", check=False)
    cluster.families.remove()
    kubectl("delete", "ecscluster", namespace, "--ignore-not-found", "--timeout=60s", check=False)
    kubectl("delete", "node", node, "--wait=false", "--ignore-not-found", check=False)
