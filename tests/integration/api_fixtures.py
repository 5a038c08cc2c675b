"""Fixtures that run the ECS API (`ecs-operator api serve`, a real subprocess) under its own ServiceAccount
and ClusterRole from manifests/api, with access keys for test users, and the real clients (awscli v1,
boto3) pointed at it.

Load with `pytest_plugins = ["tests.integration.api_fixtures"]` (it loads the operator fixtures).
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.subprocesses import ApiProcess

from tests.integration.api_helpers import AccessKey, Aws, boto3_client, create_key
from tests.integration.operator_helpers import Families

pytest_plugins = ["tests.integration.rbac", "tests.integration.operator_fixtures"]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
API_MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "api"
NAMESPACE = "ecs-operator-system"
SERVICE_ACCOUNT = "ecs-api"
USERNAME = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"


@pytest.fixture(scope="session")
def api_identity(kubectl: Kubectl, operator_identity: str) -> Iterator[str]:
    """The API's ServiceAccount, roles and bindings (in the operator's namespace and the account namespace,
    which operator_identity made); yields its username."""
    from tests.integration.rbac import component_identity, installed  # a plugin module, loaded by then

    manifests = component_identity(API_MANIFESTS)
    with installed(kubectl, manifests, USERNAME, "impersonate", "users") as username:
        yield username


@pytest.fixture(scope="session")
def api_kubeconfig(
    kubeconfig: str, kubectl: Kubectl, api_identity: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from tests.integration.rbac import service_account_kubeconfig  # a plugin module, loaded by then

    path = tmp_path_factory.mktemp("api-sa") / "kubeconfig"
    return service_account_kubeconfig(kubeconfig, kubectl, SERVICE_ACCOUNT, NAMESPACE, path)


@pytest.fixture(scope="session")
def ecs_api(
    api_kubeconfig: Path, ecs_crds: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    """The endpoint, authenticated as its own ServiceAccount (so every test proves its role sufficient)."""
    api = ApiProcess(
        str(api_kubeconfig), tmp_path_factory.mktemp("ecs-api") / "log", keys_namespace=NAMESPACE
    )
    api.start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def admin_key(kubeconfig: str, kubectl: Kubectl, api_identity: str) -> Iterator[AccessKey]:
    """A key of a user bound to ecs-operator:cluster-admin (clusters, everything in them, Nodes)."""
    user = f"ecs-admin-{secrets.token_hex(3)}"
    binding = f"test-{user}"
    kubectl(
        "create", "clusterrolebinding", binding, "--clusterrole=ecs-operator:cluster-admin", f"--user={user}"
    )
    yield create_key(kubeconfig, user)
    kubectl("delete", "clusterrolebinding", binding, "--ignore-not-found", check=False)


@pytest.fixture
def aws_factory(ecs_api: ApiProcess, tmp_path: Path) -> Callable[[AccessKey], Aws]:
    return lambda key: Aws(ecs_api.url, key, tmp_path)


@pytest.fixture
def aws(aws_factory: Callable[[AccessKey], Aws], admin_key: AccessKey) -> Aws:
    return aws_factory(admin_key)


@pytest.fixture
def ecs_client(ecs_api: ApiProcess, admin_key: AccessKey) -> Any:
    return boto3_client(ecs_api.url, admin_key)


@pytest.fixture
def api_test_name(request: pytest.FixtureRequest) -> str:
    """A fresh name that says which test made it: the test's ECS cluster, suffix of its families."""
    from tests.integration.conftest import namespace_name

    return namespace_name(request.node.name)[:40].rstrip("-")


@pytest.fixture
def family(kubectl: Kubectl, api_test_name: str) -> Iterator[Families]:
    """`family("web")`: a task definition family of the test's own (families are account-wide); removed
    afterwards, after the test's cluster (whose services use them)."""
    families = Families(kubectl, api_test_name)
    yield families
    families.remove()


@pytest.fixture
def api_cluster_name(
    kubectl: Kubectl, ecs_operator: Any, ecs_api: ApiProcess, api_test_name: str, family: Families
) -> Iterator[str]:
    """A fresh ECS cluster name with one container instance (a Node) labelled for it; whatever the test
    leaves of the cluster is removed afterwards (services and tasks first, while the operator runs)."""
    from tests.integration.operator_helpers import node_manifest

    name = api_test_name
    node = f"ci-{name}"
    manifest = node_manifest(node, {"ecs.operator.dev/cluster": name, "ecs.operator.dev/capacity": "ec2"})
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(manifest))
    yield name
    kubectl(
        "delete",
        "ecsservices,ecstasks",
        "--all",
        "-n",
        name,
        "--timeout=120s",
        "--ignore-not-found",
        check=False,
    )
    kubectl("delete", "ecscluster", name, "--ignore-not-found", "--timeout=60s", check=False)
    kubectl("delete", "node", node, "--wait=false", "--ignore-not-found", check=False)
