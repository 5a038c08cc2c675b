"""The console's ServiceAccount (manifests/console) may do what the console's own code does and nothing
more: list and watch what the pages show, review tokens and access. It cannot read a Secret, write
anything, read logs or impersonate: those are done with each person's own token. (The overlay applies
and the pod meets the restricted standard: test_install.py.)"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from ecs_operator.account import account_namespace

from tests.integration.console_helpers import USERNAME

pytest_plugins = ["tests.integration.console_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]

ALLOWED = [
    ("list", "ecsclusters.ecs.operator.dev"), ("watch", "ecsservices.ecs.operator.dev"),
    ("list", "ecstasks.ecs.operator.dev"), ("watch", "ecstaskdefinitions.ecs.operator.dev"),
    ("list", "pods"), ("watch", "nodes"),
    ("create", "tokenreviews.authentication.k8s.io"), ("create", "subjectaccessreviews.authorization.k8s.io"),
]  # fmt: skip
# The account namespace's records: task definition revisions and the account settings, read there only.
ALLOWED_IN_ACCOUNT = [("list", "controllerrevisions.apps"), ("watch", "configmaps")]
REFUSED_IN_ACCOUNT = [("create", "controllerrevisions.apps"), ("patch", "configmaps"), ("get", "secrets")]
REFUSED = [
    ("list", "controllerrevisions.apps"), ("list", "configmaps"),
    ("get", "secrets"), ("list", "secrets"), ("get", "pods", "log"),
    ("patch", "ecsservices.ecs.operator.dev"),
    ("create", "ecstasks.ecs.operator.dev"), ("delete", "ecsservices.ecs.operator.dev"), ("patch", "nodes"),
    ("impersonate", "users"), ("impersonate", "serviceaccounts"), ("create", "pods", "exec"),
    ("get", "ecsservices.ecs.operator.dev"),
]  # fmt: skip


def can_i(kubectl: Kubectl, verb: str, resource: str, subresource: str = "", namespace: str = "") -> bool:
    where = ["-n", namespace] if namespace else ["--all-namespaces"]
    args = ["auth", "can-i", verb, resource, *where, f"--as={USERNAME}"]
    if subresource:
        args.append(f"--subresource={subresource}")
    return kubectl(*args, check=False).stdout.strip() == "yes"


def test_the_consoles_service_account_reads_what_the_pages_show_and_reviews_nothing_more(
    kubectl: Kubectl, console_identity: str
) -> None:
    assert [a for a in ALLOWED if not can_i(kubectl, *a)] == []
    assert [r for r in REFUSED if can_i(kubectl, *r)] == []
    account = account_namespace()
    assert [a for a in ALLOWED_IN_ACCOUNT if not can_i(kubectl, *a, namespace=account)] == []
    assert [r for r in REFUSED_IN_ACCOUNT if can_i(kubectl, *r, namespace=account)] == []
