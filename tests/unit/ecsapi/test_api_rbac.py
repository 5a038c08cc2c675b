"""The ECS API's roles (manifests/api) grant exactly what its code uses: list and watch of every kind its
caches keep (those of the account namespace there only), list of the IAM roles and OIDC providers,
TokenReviews, list of the key Secrets in its own namespace and create of the sealing key's, impersonation,
and the revision records it writes after a caller's claim; every other write and every access review is
made as the caller, so it needs no other grant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ecs_operator import kube
from ecs_operator.account import account_namespace
from ecs_operator.ecsapi import keys, store

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests" / "api"
Grant = tuple[str, str, str]


def grants(path: Path, name: str | None = None) -> set[Grant]:
    """What the role in `path` grants (the one called `name` in a file of several)."""
    roles: list[dict[str, Any]] = [
        d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] in ("Role", "ClusterRole")
    ]
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


def caches(account: bool) -> set[Grant]:
    """list + watch of the kinds the caches keep, in the account namespace or cluster-wide."""
    kinds = [kind for kind in store.KEYS if (kind in store.ACCOUNT_KINDS) == account]
    return {(*resource(kind), verb) for kind in kinds for verb in ("list", "watch")}


def test_the_cluster_role_is_the_caches_iam_token_reviews_and_impersonation() -> None:
    iam = {(*resource(kind), "list") for kind in ("IamRole", "IamOidcProvider")}
    reviews = {(*resource("TokenReview"), "create")}
    impersonation = {("", r, "impersonate") for r in ("users", "groups", "serviceaccounts")}
    assert grants(MANIFESTS / "clusterrole.yaml") == caches(account=False) | iam | reviews | impersonation


def test_the_account_role_is_the_account_caches_and_the_revision_records() -> None:
    role = yaml.safe_load_all((MANIFESTS / "account-role.yaml").read_text())
    assert next(role)["metadata"]["namespace"] == account_namespace()
    records = {("apps", "controllerrevisions", verb) for verb in ("create", "patch")}
    assert grants(MANIFESTS / "account-role.yaml", "ecs-api") == caches(account=True) | records


def test_the_namespace_role_reads_the_keys_and_makes_the_sealing_key() -> None:
    role = yaml.safe_load((MANIFESTS / "role.yaml").read_text())
    assert role["metadata"]["namespace"] == keys.DEFAULT_NAMESPACE
    assert grants(MANIFESTS / "role.yaml") == {("", "secrets", "list"), ("", "secrets", "create")}


def test_no_wildcards() -> None:
    for path in MANIFESTS.glob("*.yaml"):
        assert "*" not in path.read_text(), path
