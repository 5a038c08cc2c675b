"""Kubernetes RBAC as the API server evaluates it, over the Roles, ClusterRoles and bindings the fake API
server holds: a ClusterRoleBinding grants its ClusterRole everywhere, a RoleBinding grants its Role (or a
ClusterRole) in its own namespace; subjects are users, groups and ServiceAccounts
(`system:serviceaccount:<namespace>:<name>`); `system:masters` may do anything; every authenticated user may
review its own access (`system:basic-user`)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MANIFESTS = Path(__file__).resolve().parents[4] / "manifests"
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
RBAC_VERSION = "rbac.authorization.k8s.io/v1"

BUILT_IN: list[dict[str, Any]] = [
    {
        "apiVersion": RBAC_VERSION,
        "kind": "ClusterRole",
        "metadata": {"name": "system:basic-user"},
        "rules": [
            {
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews"],
                "verbs": ["create"],
            },
            {
                "apiGroups": ["authentication.k8s.io"],
                "resources": ["selfsubjectreviews"],
                "verbs": ["create"],
            },
        ],
    },
    {
        "apiVersion": RBAC_VERSION,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "system:basic-user"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "system:basic-user",
        },
        "subjects": [{"kind": "Group", "name": "system:authenticated"}],
    },
]


@dataclass(frozen=True)
class Asked:
    """A request's attributes, as an access review names them."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def _matches(rule: Mapping[str, Any], asked: Asked) -> bool:
    resource = f"{asked.resource}/{asked.subresource}" if asked.subresource else asked.resource
    resources = set(rule.get("resources") or ())
    names = rule.get("resourceNames") or ()
    return (
        bool({"*", asked.verb} & set(rule.get("verbs") or ()))
        and bool({"*", asked.group} & set(rule.get("apiGroups") or ()))
        and bool({"*", resource, f"*/{asked.subresource}" if asked.subresource else ""} & resources)
        and (not names or asked.name in names)
    )


def _subject(subject: Mapping[str, Any], user: str, groups: Sequence[str]) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user
    if kind == "Group":
        return name in groups
    if kind == "ServiceAccount":
        return user == f"system:serviceaccount:{subject.get('namespace')}:{name}"
    return False


class Rbac:
    def __init__(self, objects: Callable[[str], list[dict[str, Any]]]) -> None:
        self._objects = objects

    def _rules(self, binding: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        ref = binding.get("roleRef") or {}
        namespace = (binding.get("metadata") or {}).get("namespace") or ""
        for role in self._objects(str(ref.get("kind"))):
            metadata = role.get("metadata") or {}
            if metadata.get("name") == ref.get("name") and (metadata.get("namespace") or "") == (
                namespace if ref.get("kind") == "Role" else ""
            ):
                return list(role.get("rules") or ())
        return []

    def allows(self, user: str, groups: Sequence[str], asked: Asked) -> bool:
        if "system:masters" in groups:
            return True
        for kind in ("ClusterRoleBinding", "RoleBinding"):
            for binding in self._objects(kind):
                namespace = (binding.get("metadata") or {}).get("namespace") or ""
                if kind == "RoleBinding" and namespace != asked.namespace:
                    continue
                if not any(_subject(s, user, groups) for s in binding.get("subjects") or ()):
                    continue
                if any(_matches(rule, asked) for rule in self._rules(binding)):
                    return True
        return False


def shipped(*paths: str) -> list[dict[str, Any]]:
    """The Roles, ClusterRoles and bindings of manifest files (relative to manifests/)."""
    return [copy.deepcopy(document) for path in paths for document in _rbac_documents(path)]


@functools.cache
def _rbac_documents(path: str) -> tuple[dict[str, Any], ...]:
    documents = yaml.safe_load_all((MANIFESTS / path).read_text())
    return tuple(d for d in documents if d and d.get("kind") in RBAC_KINDS)


def binding(
    kind: str, role_kind: str, role: str, subject: Mapping[str, str], namespace: str = ""
) -> dict[str, Any]:
    """A RoleBinding (in `namespace`) or ClusterRoleBinding of `role` to one subject."""
    metadata = {"name": f"{role.replace(':', '-')}-{subject['name'].replace(':', '-')}"}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": RBAC_VERSION,
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [dict(subject)],
    }
