"""The ECS API's role (manifests/api) grants exactly what its code uses: list and watch of every kind its
caches keep, list of the IAM roles and OIDC providers, TokenReviews, list of the key Secrets in its own
namespace and create of the sealing key's, and impersonation; every write and access review is made as the
caller, so it needs no other grant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ecs_operator import kube
from ecs_operator.ecsapi import keys, store

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests" / "api"
Grant = tuple[str, str, str]


def grants(path: Path, name: str | None = None) -> set[Grant]:
    """What the role in `path` grants (the one called `name` in a file of several)."""
    roles: list[dict[str, Any]] = [d for d in yaml.safe_load_all(path.read_text()) if d]
    (role,) = [r for r in roles if name in (None, r["metadata"]["name"])]
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def resource(kind: str) -> tuple[str, str]:
    found = kube.resource_for(kind)
    return found.api_version.rpartition("/")[0], found.plural


def test_the_cluster_role_is_the_caches_iam_token_reviews_and_impersonation() -> None:
    caches = {(*resource(kind), verb) for kind in store.KEYS for verb in ("list", "watch")}
    iam = {(*resource(kind), "list") for kind in ("IamRole", "IamOidcProvider")}
    reviews = {(*resource("TokenReview"), "create")}
    impersonation = {("", r, "impersonate") for r in ("users", "groups", "serviceaccounts")}
    assert grants(MANIFESTS / "clusterrole.yaml") == caches | iam | reviews | impersonation


def test_the_namespace_role_reads_the_keys_and_makes_the_sealing_key() -> None:
    role = yaml.safe_load((MANIFESTS / "role.yaml").read_text())
    assert role["metadata"]["namespace"] == keys.DEFAULT_NAMESPACE
    assert grants(MANIFESTS / "role.yaml") == {("", "secrets", "list"), ("", "secrets", "create")}


def test_no_wildcards() -> None:
    for path in MANIFESTS.glob("*.yaml"):
        assert "*" not in path.read_text(), path
