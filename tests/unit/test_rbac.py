"""The operator's ClusterRole grants exactly what the code uses: no wildcard, no unused grant, no gap.

What the operator uses is what its runtime declares, and the runtime enforces those declarations:
- every source it watches (`controllers.sources.SOURCES`) is listed and watched;
- every controller reads its custom resource (a GET while the cache lags behind an own write), patches its
  status, patches its finalizers when it declares any, server-side applies (create and patch) the kinds it
  declares in `applies` and deletes those in `deletes` (the executor refuses a plan writing anything else);
- Events are posted on the custom resources; kopf itself observes CRDs;
- children name their owner with blockOwnerDeletion, which needs update on the owner's finalizers.
No module of the operator but the executor writes through the client (checked below), so the declarations
cover every write. `ecs_operator.kube.VERBS`, the kube layer's own table, must say the same.

Leader election is granted apart, by a Role in the operator's namespace: the verbs `runtime/leader.py` uses
on its one Lease (`kube.ELECTION_VERBS`), limited to that Lease by name where the API server allows it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import ecs_operator.controllers  # noqa: F401  (registers the controllers inspected below)
import pytest
import yaml
from ecs_operator import API_GROUP, NAMESPACE, kube, run
from ecs_operator.account import account_namespace
from ecs_operator.controllers.sources import SOURCES
from ecs_operator.runtime.controller import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "ecs_operator"
CLUSTER_ROLE = ROOT / "manifests" / "operator" / "clusterrole.yaml"
ACCOUNT_ROLE = ROOT / "manifests" / "operator" / "account-role.yaml"
ELECTION_ROLE = ROOT / "manifests" / "operator" / "role.yaml"
ELECTION_BINDING = ROOT / "manifests" / "operator" / "rolebinding.yaml"
ELECTOR = PACKAGE / "runtime" / "leader.py"
# The modules the operator process runs; only the executor writes through the client.
OPERATOR_MODULES = (
    "controllers",
    "runtime",
    "status",
    "translate",
    "plans",
    "revisions.py",
    "labels.py",
    "account.py",
    "naming.py",
    "identifiers.py",
)
WRITER = PACKAGE / "runtime" / "execute.py"
CLIENT_WRITES = {"apply", "delete", "merge_patch", "patch_status", "post_event"}
# kopf: it watches CRDs to notice resources appearing/disappearing, and posts Events on its own errors.
KOPF_FRAMEWORK = {
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
    ("", "events", "create"),
}

Grant = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _resource(kind: str) -> tuple[str, str]:
    resource = kube.RESOURCES[kind]
    return _group(resource.api_version), resource.plural


def _cluster_role_rules() -> list[dict[str, Any]]:
    role = yaml.safe_load(CLUSTER_ROLE.read_text())
    assert role["kind"] == "ClusterRole"
    rules: list[dict[str, Any]] = role["rules"]
    return rules


def _account_role_rules() -> list[dict[str, Any]]:
    (role,) = [d for d in yaml.safe_load_all(ACCOUNT_ROLE.read_text()) if d and d["kind"] == "Role"]
    assert role["metadata"]["namespace"] == account_namespace()
    rules: list[dict[str, Any]] = role["rules"]
    return rules


def _grants(rules: list[dict[str, Any]]) -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def granted() -> set[Grant]:
    """The ClusterRole's grants and the account namespace Role's."""
    return _grants(_cluster_role_rules()) | _grants(_account_role_rules())


# --- what the runtime declares -----------------------------------------------------------------------


def runtime_needs() -> dict[Grant, list[str]]:
    needs: dict[Grant, list[str]] = {}

    def need(kind: str, verb: str, why: str, subresource: str = "") -> None:
        group, plural = _resource(kind)
        needs.setdefault((group, f"{plural}{subresource}", verb), []).append(why)

    for source in SOURCES:
        for verb in ("list", "watch"):
            need(source.kind, verb, f"source {source.kind}")
    for controller in REGISTRY.values():
        why = f"controller {controller.kind}"
        if _resource(controller.kind)[0] == API_GROUP:  # a custom resource: read fresh, status written
            need(controller.kind, "get", why)
            need(controller.kind, "patch", why, "/status")
        for kind in controller.patches:
            need(kind, "patch", f"{why} patches {kind}")
        if controller.finalizers:
            need(controller.kind, "patch", f"{why}: finalizers")
        for kind in controller.applies:
            need(kind, "create", f"{why} applies {kind}")
            need(kind, "patch", f"{why} applies {kind}")
        for kind in controller.deletes:
            need(kind, "delete", f"{why} deletes {kind}")
        need("Event", "create", f"{why}: Events")
    return needs


def client_writes_outside_the_executor() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if path == WRITER or relative.parts[0] not in OPERATOR_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in CLIENT_WRITES and "client" in ast.unparse(node.func.value):
                    found.append(f"{relative}:{node.lineno}: {ast.unparse(node)}")
    return found


def _uses_block_owner_deletion() -> bool:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "blockOwnerDeletion"
                        and not (isinstance(value, ast.Constant) and value.value is False)
                    ):
                        return True
    return False


def declared() -> set[Grant]:
    assert set(kube.VERBS) == set(kube.RESOURCES), "kube.VERBS and kube.RESOURCES name the same kinds"
    return {(*_resource(kind), verb) for kind, verbs in kube.VERBS.items() for verb in verbs}


def account_resources() -> set[tuple[str, str]]:
    """(apiGroup, resource) of what the operator watches in the account namespace only."""
    return {_resource(s.kind) for s in SOURCES if s.namespace is not None}


def needed() -> set[Grant]:
    result = set(runtime_needs()) | KOPF_FRAMEWORK
    if _uses_block_owner_deletion():
        custom = [plural for group, plural in map(_resource, kube.RESOURCES) if group == API_GROUP]
        result |= {(API_GROUP, f"{plural}/finalizers", "update") for plural in custom}
    return result


# --- tests --------------------------------------------------------------------------------------------


def test_what_lives_in_the_account_namespace_is_granted_there_only() -> None:
    account_kinds = account_resources()
    assert account_kinds == {("apps", "controllerrevisions")}
    assert {(g, r) for g, r, _ in _grants(_account_role_rules())} == account_kinds
    assert not {(g, r) for g, r, _ in _grants(_cluster_role_rules())} & account_kinds


def test_no_wildcards_and_no_non_resource_urls() -> None:
    for rule in [*_cluster_role_rules(), *_account_role_rules()]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, f"unexpected rule fields: {rule}"
        for field in ("apiGroups", "resources", "verbs"):
            assert rule[field], f"empty {field} in {rule}"
            assert not any("*" in value for value in rule[field]), f"wildcard in {rule}"


def test_every_grant_is_used_by_the_code() -> None:
    unused = granted() - needed()
    assert not unused, f"the ClusterRole grants what no code uses: {sorted(unused)}"


def test_everything_the_code_uses_is_granted() -> None:
    missing = needed() - granted()
    assert not missing, f"the code needs what the ClusterRole does not grant: {sorted(missing)}"


def test_kube_verbs_declares_exactly_what_the_code_uses() -> None:
    """`kube.VERBS` (kinds and verbs, no subresources) matches the code both ways."""
    kinds = {_resource(kind) for kind in kube.RESOURCES}
    used = {grant for grant in needed() if (grant[0], grant[1]) in kinds}
    undeclared = sorted(used - declared())
    unused = sorted(declared() - used)
    assert not undeclared and not unused, (
        f"ecs_operator.kube.VERBS is missing {undeclared} and declares unused {unused}"
    )


def test_only_the_executor_writes_so_the_declarations_cover_every_write() -> None:
    assert not client_writes_outside_the_executor()
    assert "client.apply(" in WRITER.read_text() and "client.delete(" in WRITER.read_text()


def test_the_declarations_are_seen() -> None:
    needs = runtime_needs()
    assert ("", "pods", "delete") in needs and ("", "nodes", "watch") in needs
    assert ("apps", "controllerrevisions", "create") in needs
    assert (API_GROUP, "ecsservices/status", "patch") in needs
    assert _uses_block_owner_deletion()


@pytest.mark.parametrize("plural", ["ecsclusters", "ecstaskdefinitions", "ecsservices", "ecstasks"])
def test_every_custom_resource_is_handled(plural: str) -> None:
    assert (API_GROUP, plural, "watch") in granted()
    assert (API_GROUP, f"{plural}/status", "patch") in granted()


# --- leader election ---------------------------------------------------------------------------------


def elector_verbs() -> set[str]:
    """The client methods the elector calls (`self._client.<verb>(...)`): its verbs on the Lease."""
    verbs = set()
    for node in ast.walk(ast.parse(ELECTOR.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if ast.unparse(node.func.value) == "self._client":
                verbs.add(node.func.attr)
    return verbs


def test_the_election_verbs_are_what_the_elector_calls() -> None:
    assert elector_verbs() == set(kube.ELECTION_VERBS) == {"get", "create", "update"}


def test_the_election_role_grants_the_elector_its_lease_and_nothing_else() -> None:
    role = yaml.safe_load(ELECTION_ROLE.read_text())
    assert role["kind"] == "Role" and role["metadata"]["namespace"] == NAMESPACE
    lease = kube.ELECTION_RESOURCES["Lease"]
    grants = set()
    for rule in role["rules"]:
        assert rule["apiGroups"] == [_group(lease.api_version)] and rule["resources"] == [lease.plural]
        names = tuple(rule.get("resourceNames") or ())
        for verb in rule["verbs"]:
            grants.add((verb, names))
    # create cannot be limited by name (the object does not exist yet); everything else is.
    expected = {(verb, (run.DEFAULT_LEASE,)) for verb in kube.ELECTION_VERBS if verb != "create"}
    assert grants == expected | {("create", ())}


def test_the_election_role_is_bound_to_the_operators_service_account() -> None:
    binding = yaml.safe_load(ELECTION_BINDING.read_text())
    role = yaml.safe_load(ELECTION_ROLE.read_text())
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    (subject,) = binding["subjects"]
    cluster_binding = yaml.safe_load((CLUSTER_ROLE.parent / "clusterrolebinding.yaml").read_text())
    assert subject == cluster_binding["subjects"][0]
