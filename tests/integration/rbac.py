"""The operator's identity from manifests/operator, so tests can run the operator as its ServiceAccount.

Load with `pytest_plugins = ["tests.integration.rbac"]`. `operator_kubeconfig` is a kubeconfig that
authenticates with a TokenRequest token of the `ecs-operator` ServiceAccount (bound to the ClusterRole
exactly as the install manifests bind it): start `ecs-operator run` with it and every API call the operator
makes is authorized by the shipped ClusterRole, nothing more.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml
from ecs_operator.account import account_namespace

from tests.integration.waiting import wait_for

OPERATOR_MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "operator"
# namespace.yaml makes the account namespace too, where account-role.yaml grants the revision records.
IDENTITY_FILES = (
    "namespace.yaml",
    "serviceaccount.yaml",
    "clusterrole.yaml",
    "clusterrolebinding.yaml",
    "role.yaml",
    "rolebinding.yaml",
    "account-role.yaml",
)
NAMESPACE = "ecs-operator-system"
SERVICE_ACCOUNT = "ecs-operator"
USERNAME = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
FIELD_MANAGER = "ecs-operator-tests"
TOKEN_DURATION = "6h"

Kubectl = Callable[..., CompletedProcess[str]]


def identity_manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for name in IDENTITY_FILES:
        documents += [d for d in yaml.safe_load_all((OPERATOR_MANIFESTS / name).read_text()) if d]
    return documents


def _reference(obj: dict[str, Any]) -> list[str]:
    kind = obj["kind"].lower()
    group = obj["apiVersion"].rpartition("/")[0]
    resource = f"{kind}.{group}" if group else kind
    namespace = obj["metadata"].get("namespace")
    return [resource, obj["metadata"]["name"], *(["-n", namespace] if namespace else [])]


def install_identity(kubectl: Kubectl) -> list[dict[str, Any]]:
    """Apply Namespace, ServiceAccount, ClusterRole, Role and bindings; return the objects it created."""
    manifests = identity_manifests()
    created = [
        obj
        for obj in manifests
        if not kubectl("get", *_reference(obj), "--ignore-not-found", "-o", "name").stdout.strip()
    ]
    kubectl(
        "apply",
        "--server-side",
        f"--field-manager={FIELD_MANAGER}",
        "--force-conflicts",
        "-f",
        "-",
        input=yaml.safe_dump_all(manifests),
    )
    # The RBAC authorizer follows role changes through a watch: wait until the bindings are in effect.
    wait_for(
        lambda: can_i(kubectl, "list", "nodes") and can_elect(kubectl),
        timeout=60,
        message=f"{USERNAME} authorized by the ClusterRole and the leader election's Role",
    )
    wait_for(
        lambda: can_i(kubectl, "create", "controllerrevisions", "apps", namespace=account_namespace()),
        timeout=60,
        message=f"{USERNAME} authorized by its Role in the account namespace",
    )
    return created


def can_elect(kubectl: Kubectl) -> bool:
    """May the operator's ServiceAccount create its Lease in its namespace?"""
    args = ["auth", "can-i", "create", "leases.coordination.k8s.io", "-n", NAMESPACE, f"--as={USERNAME}"]
    return kubectl(*args, check=False).stdout.strip() == "yes"


def remove(kubectl: Kubectl, objects: list[dict[str, Any]]) -> None:
    for obj in reversed(objects):
        kubectl("delete", *_reference(obj), "--ignore-not-found", "--wait=false", check=False)


def can_i(
    kubectl: Kubectl, verb: str, resource: str, group: str = "", subresource: str = "", namespace: str = ""
) -> bool:
    """`kubectl auth can-i` as the operator's ServiceAccount, in `namespace` (default: every namespace)."""
    where = ["-n", namespace] if namespace else ["--all-namespaces"]
    args = ["auth", "can-i", verb, f"{resource}.{group}" if group else resource, *where]
    if subresource:
        args.append(f"--subresource={subresource}")
    result = kubectl(*args, f"--as={USERNAME}", check=False)
    return result.stdout.strip() == "yes"


def token(kubectl: Kubectl, duration: str = TOKEN_DURATION) -> str:
    """A bound token of the ServiceAccount from the TokenRequest API."""
    return kubectl(
        "create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE, f"--duration={duration}"
    ).stdout.strip()


def token_kubeconfig(admin_kubeconfig: str | Path, bearer_token: str, path: Path) -> Path:
    """A self-contained kubeconfig for `admin_kubeconfig`'s API server, authenticating with `bearer_token`."""
    admin_path = Path(admin_kubeconfig)
    admin = yaml.safe_load(admin_path.read_text())
    context = next(c["context"] for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = dict(next(c["cluster"] for c in admin["clusters"] if c["name"] == context["cluster"]))
    authority = cluster.pop("certificate-authority", None)
    if authority:  # inlined, so the kubeconfig works for any user and in any container
        ca_path = (admin_path.parent / authority).resolve()
        cluster["certificate-authority-data"] = base64.b64encode(ca_path.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context["cluster"], "cluster": cluster}],
        "users": [{"name": SERVICE_ACCOUNT, "user": {"token": bearer_token}}],
        "contexts": [
            {"name": SERVICE_ACCOUNT, "context": {"cluster": context["cluster"], "user": SERVICE_ACCOUNT}}
        ],
        "current-context": SERVICE_ACCOUNT,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


WORKLOAD_KINDS = frozenset({"Deployment", "Service", "PodDisruptionBudget"})


def component_identity(directory: Path) -> list[dict[str, Any]]:
    """What a component's kustomization installs but its workload: who it is and what it may use (its
    ServiceAccount, roles and bindings, the Secret it keeps its own state in)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    documents: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((directory / name).read_text()) if d]
    return [d for d in documents if d["kind"] not in WORKLOAD_KINDS]


@contextlib.contextmanager
def installed(kubectl: Kubectl, manifests: list[dict[str, Any]], username: str, *can: str) -> Iterator[str]:
    """Apply a component's identity, wait until RBAC lets `username` do `can` (`verb resource`), yield
    `username`; remove the objects afterwards."""
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yaml.safe_dump_all(manifests))
    wait_for(
        lambda: kubectl("auth", "can-i", *can, f"--as={username}", check=False).stdout.strip() == "yes",
        timeout=60,
        message=f"{username} authorized by its ClusterRole",
    )
    try:
        yield username
    finally:
        remove(kubectl, manifests)


def service_account_kubeconfig(
    admin_kubeconfig: str, kubectl: Kubectl, name: str, namespace: str, path: Path
) -> Path:
    """A kubeconfig authenticating with a TokenRequest token of ServiceAccount `namespace/name`."""
    token = kubectl("create", "token", name, "-n", namespace, f"--duration={TOKEN_DURATION}").stdout.strip()
    return token_kubeconfig(admin_kubeconfig, token, path)


@pytest.fixture(scope="session")
def operator_identity(kubectl: Kubectl) -> Iterator[str]:
    """The operator's ServiceAccount and ClusterRole(Binding) from manifests/operator; yields its username.

    Objects that already existed (an installed operator) are updated but never deleted afterwards."""
    created = install_identity(kubectl)
    try:
        yield USERNAME
    finally:
        remove(kubectl, created)


@pytest.fixture
def operator_can_i(kubectl: Kubectl, operator_identity: str) -> Callable[..., bool]:
    """`operator_can_i(verb, resource, group="", subresource="", namespace="")`: may the operator do it in
    that namespace (default: everywhere)?"""

    def check(verb: str, resource: str, group: str = "", subresource: str = "", namespace: str = "") -> bool:
        return can_i(kubectl, verb, resource, group, subresource, namespace)

    return check


@pytest.fixture(scope="session")
def operator_kubeconfig(
    kubeconfig: str, kubectl: Kubectl, operator_identity: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A kubeconfig authenticating as the operator's ServiceAccount (for `ecs-operator run`)."""
    return token_kubeconfig(kubeconfig, token(kubectl), tmp_path_factory.mktemp("operator-sa") / "kubeconfig")
