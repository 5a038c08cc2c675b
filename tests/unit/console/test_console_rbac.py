"""The console's roles (manifests/console) grant exactly what its code uses. Its own ClusterRole: list and
watch of every kind its caches keep, and the reviews; the user roles: reading what the pages show
(console-view), plus the writes of the buttons (console-edit, from `authz.WRITES`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ecs_operator import kube
from ecs_operator.console.authz import USER_READS, WRITES
from ecs_operator.ecsapi import store

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests" / "console"
Grant = tuple[str, str, str]
REVIEWS = {
    ("authentication.k8s.io", "tokenreviews", "create"),
    ("authorization.k8s.io", "subjectaccessreviews", "create"),
}


def grants(role: dict[str, Any]) -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def roles(name: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d}


def resource(kind: str, subresource: str = "") -> tuple[str, str]:
    found = kube.resource_for(kind)
    return found.api_version.rpartition("/")[0], found.plural + (f"/{subresource}" if subresource else "")


def test_the_cluster_role_is_the_caches_and_the_reviews() -> None:
    caches = {(*resource(kind), verb) for kind in store.KEYS for verb in ("list", "watch")}
    assert grants(roles("clusterrole.yaml")["ecs-console"]) == caches | REVIEWS


def test_the_user_roles_read_what_the_pages_show_and_write_what_the_buttons_write() -> None:
    found = roles("user-roles.yaml")
    custom = [kind for kind in store.KEYS if kind.startswith("Ecs")]
    reads = {(*resource(kind), verb) for kind in custom for verb in ("get", "list", "watch")}
    reads |= {(*resource(kind, sub), verb) for verb, kind, sub in USER_READS}
    writes = {(*resource(kind), verb) for needed in WRITES.values() for verb, kind in needed}
    assert grants(found["ecs-operator:console-view"]) == reads
    assert grants(found["ecs-operator:console-edit"]) == reads | writes


def test_no_wildcards() -> None:
    for path in MANIFESTS.glob("*.yaml"):
        assert "*" not in path.read_text(), path
