"""The console's roles (manifests/console) grant exactly what its code uses. Its own ClusterRole: list and
watch of every kind its caches keep, and the reviews; the user roles: reading what the pages show
(console-view), plus the writes of the buttons (console-edit, from `authz.WRITES`)."""

from __future__ import annotations

from pathlib import Path

import yaml
from ecs_operator.console.authz import USER_READS, WRITES
from ecs_operator.ecsapi import store

from tests.unit.ecsapi.test_api_rbac import caches, grants
from tests.unit.ecsapi.test_api_rbac import resource as api_resource

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests" / "console"
REVIEWS = {
    ("authentication.k8s.io", "tokenreviews", "create"),
    ("authorization.k8s.io", "subjectaccessreviews", "create"),
}


def resource(kind: str, subresource: str = "") -> tuple[str, str]:
    group, plural = api_resource(kind)
    return group, plural + (f"/{subresource}" if subresource else "")


def test_the_cluster_role_is_the_caches_and_the_reviews() -> None:
    assert grants(MANIFESTS / "clusterrole.yaml") == caches(account=False) | REVIEWS


def test_the_account_role_is_the_account_caches() -> None:
    assert grants(MANIFESTS / "account-role.yaml", "ecs-console") == caches(account=True)


def test_the_user_roles_read_what_the_pages_show_and_write_what_the_buttons_write() -> None:
    custom = [kind for kind in store.KEYS if kind.startswith("Ecs")]
    reads = {(*resource(kind), verb) for kind in custom for verb in ("get", "list", "watch")}
    reads |= {(*resource(kind, sub), verb) for verb, kind, sub in USER_READS}
    writes = {(*resource(kind), verb) for needed in WRITES.values() for verb, kind in needed}
    assert grants(MANIFESTS / "user-roles.yaml", "ecs-operator:console-view") == reads
    assert grants(MANIFESTS / "user-roles.yaml", "ecs-operator:console-edit") == reads | writes


def test_no_wildcards() -> None:
    for path in MANIFESTS.glob("*.yaml"):
        assert "*" not in path.read_text(), path


def test_its_role_is_the_sessions_secret_alone_by_name() -> None:
    from ecs_operator.console.session_keys import DEFAULT_SECRET

    role = yaml.safe_load((MANIFESTS / "role.yaml").read_text())
    secret = yaml.safe_load((MANIFESTS / "session-secret.yaml").read_text())
    assert role["kind"] == "Role" and role["metadata"]["namespace"] == secret["metadata"]["namespace"]
    (rule,) = role["rules"]
    assert rule == {
        "apiGroups": [""],
        "resources": ["secrets"],
        "resourceNames": [DEFAULT_SECRET],
        "verbs": ["get", "patch"],
    }
    assert secret["metadata"]["name"] == DEFAULT_SECRET and "data" not in secret


def test_the_session_keys_call_only_what_the_role_grants() -> None:
    import ast

    from ecs_operator.console import session_keys

    called = {
        node.func.attr
        for node in ast.walk(ast.parse(Path(session_keys.__file__).read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func.value) == "self._client"
    }
    assert called == {"get", "merge_patch"}  # get and patch
