"""The operator's ClusterRole grants exactly what the code uses: no wildcard, no unused grant, no gap.

What the code uses is read from the code itself:
- the calls to the `Kube` client in the package (literal kinds, module constants, loops over constant
  tuples), and the kinds of the objects the translation builds, which the operator reads and server-side
  applies (get, patch, and create: the API server authorizes an apply that creates an object as `create`);
- the kopf handlers the package registers (list + watch; handlers that keep state on the object patch it);
- kopf itself (CRD observation, its Events) and the API server's rules for status writes and
  blockOwnerDeletion.
`ecs_operator.kube.VERBS`, the kube layer's own declaration, must say the same, so it cannot drift either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ecs_operator.handlers  # noqa: F401  (registers the kopf handlers inspected below)
import kopf
import pytest
import yaml
from ecs_operator import API_GROUP, kube

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "ecs_operator"
CLUSTER_ROLE = ROOT / "manifests" / "operator" / "clusterrole.yaml"
# Modules that build the objects the operator applies, and what it does with them: the handlers read each
# translated child and server-side apply it (an apply that creates the object is authorized as `create`);
# task definition revisions are applied without a read.
BUILDERS = {
    **{path: ("get", "create", "patch") for path in sorted((PACKAGE / "translate").glob("*.py"))},
    PACKAGE / "children.py": ("get", "create", "patch"),
    PACKAGE / "revisions.py": ("create", "patch"),
}
CLIENT_METHOD_VERBS = {
    "get": ("get",),
    "list": ("list",),
    "delete": ("delete",),
    "merge_patch": ("patch",),
    "apply": ("create", "patch"),
}
# kopf: it watches CRDs to notice resources appearing/disappearing, and posts Events on handler errors.
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


def granted() -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in _cluster_role_rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


# --- what the package's source code does with the client --------------------------------------------


def _module_strings(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level NAME = "str" and NAME = ("str", ...) constants."""
    constants: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values = _strings(node.value, {})
            if values:
                constants[node.targets[0].id] = values
    return constants


def _strings(node: ast.expr, names: dict[str, list[str]]) -> list[str]:
    """The string values an expression can have, when they are visible in the source."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List):
        return [value for element in node.elts for value in _strings(element, names)]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, names) + _strings(node.orelse, names)
    if isinstance(node, ast.Name):
        return names.get(node.id, [])
    return []


def _local_names(function: ast.AST, constants: dict[str, list[str]]) -> dict[str, list[str]]:
    """Names bound in a function to visible strings: `kind = "A" if x else "B"`, `for kind in KINDS`."""
    names = dict(constants)
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values = _strings(node.value, constants)
            if values:
                names[node.targets[0].id] = names.get(node.targets[0].id, []) + values
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            values = _strings(node.iter, constants)
            if values:
                names[node.target.id] = values
    return names


def _is_client(node: ast.expr, client_names: set[str]) -> bool:
    if isinstance(node, ast.Call):
        func = node.func
        return (isinstance(func, ast.Attribute) and func.attr == "shared") or (
            isinstance(func, ast.Name) and func.id in ("shared", "Kube")
        )
    if isinstance(node, ast.Attribute):  # self._kube
        return node.attr in ("_kube", "_client")
    return isinstance(node, ast.Name) and node.id in client_names


def _functions(tree: ast.Module) -> Iterator[ast.AST]:
    yield tree
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def client_calls() -> dict[Grant, list[str]]:
    """(group, resource, verb) -> where in the package a `Kube` client call needs it."""
    uses: dict[Grant, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "kube.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        constants = _module_strings(tree)
        client_names = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and _is_client(node.value, set())
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for function in _functions(tree):
            names = _local_names(function, constants)
            for node in ast.walk(function):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and (node.func.attr in CLIENT_METHOD_VERBS or node.func.attr == "post_event")
                    and _is_client(node.func.value, client_names)
                    and node.args
                ):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if node.func.attr == "post_event":
                    uses.setdefault(("", "events", "create"), []).append(where)
                    continue
                for kind in _strings(node.args[0], names):
                    if kind not in kube.RESOURCES:
                        continue
                    group, plural = _resource(kind)
                    for verb in CLIENT_METHOD_VERBS[node.func.attr]:
                        uses.setdefault((group, plural, verb), []).append(where)
    return uses


def built_kinds() -> dict[Grant, str]:
    """What applying the objects the builders create (`new_object("v1", kind, ...)`, dict literals) needs."""
    kinds: dict[Grant, str] = {}
    for path, verbs in BUILDERS.items():
        tree = ast.parse(path.read_text(), str(path))
        constants = _module_strings(tree)
        for function in _functions(tree):
            names = _local_names(function, constants)
            for node in ast.walk(function):
                candidates: list[str] = []
                if isinstance(node, ast.Call) and len(node.args) >= 2:
                    api_version = _strings(node.args[0], {})
                    if api_version and all(v == "v1" or "/" in v for v in api_version):
                        candidates = _strings(node.args[1], names)
                elif isinstance(node, ast.Dict):
                    keys = {
                        k.value: v
                        for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant)
                    }
                    if {"apiVersion", "kind", "metadata"} <= set(keys):
                        candidates = _strings(keys["kind"], names)
                for kind in candidates:
                    if kind in kube.RESOURCES:
                        for verb in verbs:
                            kinds.setdefault(
                                (*_resource(kind), verb), f"{path.relative_to(ROOT)}:{node.lineno}"
                            )
    return kinds


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


def _writes_status() -> bool:
    return any(
        ".patch_status(" in path.read_text() for path in PACKAGE.rglob("*.py") if path.name != "kube.py"
    )


# --- what kopf does for the handlers the package registers -------------------------------------------


def kopf_handler_needs() -> dict[Grant, list[str]]:
    registry = kopf.get_default_registry()
    by_plural = {resource.plural: kind for kind, resource in kube.RESOURCES.items()}
    needs: dict[Grant, list[str]] = {}
    stateful = {"_changing", "_spawning"}  # finalizers, progress and diff-base annotations are patches
    for attribute in ("_changing", "_watching", "_spawning", "_indexing"):
        for handler in getattr(registry, attribute).get_all_handlers():
            selector = handler.selector
            kind = by_plural.get(selector.any_name) or selector.any_name
            assert kind in kube.RESOURCES, f"kopf handler {handler.id} on {selector} is not in kube.RESOURCES"
            group, plural = _resource(kind)
            assert group == (selector.group or ""), f"{handler.id}: group {selector.group} != {group}"
            verbs = ["list", "watch"] + (["patch"] if attribute in stateful else [])
            for verb in verbs:
                needs.setdefault((group, plural, verb), []).append(f"kopf handler {handler.id}")
    return needs


def informer_needs() -> dict[Grant, list[str]]:
    """The services' informers list and watch each child kind they keep."""
    from ecs_operator.handlers import service_cache

    needs: dict[Grant, list[str]] = {}
    for kind in service_cache.PROJECTIONS:
        group, plural = _resource(kind)
        for verb in service_cache.INFORMER_VERBS:
            needs.setdefault((group, plural, verb), []).append(f"informer of {kind}")
    return needs


def declared() -> set[Grant]:
    assert set(kube.VERBS) == set(kube.RESOURCES), "kube.VERBS and kube.RESOURCES name the same kinds"
    return {(*_resource(kind), verb) for kind, verbs in kube.VERBS.items() for verb in verbs}


def needed() -> set[Grant]:
    result = set(client_calls()) | set(built_kinds()) | set(kopf_handler_needs()) | set(informer_needs())
    result |= KOPF_FRAMEWORK
    custom = [
        plural for kind, (group, plural) in ((k, _resource(k)) for k in kube.RESOURCES) if group == API_GROUP
    ]
    if _writes_status():
        result |= {(API_GROUP, f"{plural}/status", "patch") for plural in custom}
    if _uses_block_owner_deletion():
        result |= {(API_GROUP, f"{plural}/finalizers", "update") for plural in custom}
    return result


# --- tests --------------------------------------------------------------------------------------------


def test_no_wildcards_and_no_non_resource_urls() -> None:
    for rule in _cluster_role_rules():
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


def test_the_scanners_see_the_code() -> None:
    """Guards the scanners themselves: they must find the calls and objects we know exist."""
    calls = client_calls()
    assert ("", "pods", "delete") in calls
    assert ("", "serviceaccounts", "list") in calls
    built = built_kinds()
    assert {("", "namespaces", "create"), ("apps", "deployments", "get"), ("", "pods", "patch")} <= set(built)
    assert ("apps", "controllerrevisions", "create") in built
    assert ("", "pods", "watch") in kopf_handler_needs()
    assert _writes_status()


@pytest.mark.parametrize("plural", ["ecsclusters", "ecstaskdefinitions", "ecsservices", "ecstasks"])
def test_every_custom_resource_is_handled(plural: str) -> None:
    assert (API_GROUP, plural, "watch") in granted()
    assert (API_GROUP, f"{plural}/status", "patch") in granted()
