"""Every operation the endpoint serves (ECS's table, Application Auto Scaling's, STS's) is called by these
tests on its happy path and inside `refused(...)` for an error, read from the tests' own source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from botocore import xform_name
from ecs_operator.ecsapi import operations
from ecs_operator.ecsapi.autoscaling import operations as autoscaling
from ecs_operator.ecsapi.sts import operations as sts

HERE = Path(__file__).parent
SERVED = {
    "ecs": set(operations.OPERATIONS),
    "aas": set(autoscaling.OPERATIONS),
    "sts": set(sts.OPERATIONS),
}
SERVICE_NAMES = {"ecs": "ecs", "application-autoscaling": "aas", "sts": "sts"}
# Operations served only to answer what Application Auto Scaling answers when there is nothing to do.
NO_HAPPY_PATH = {
    ("aas", "PutScheduledAction"): "a HorizontalPodAutoscaler has no schedule: always refused, naming why",
    ("aas", "DeleteScheduledAction"): "no scheduled action ever exists: always ObjectNotFoundException",
}


def _client(node: ast.expr) -> str | None:
    """The service of `<…>.ecs`, `<…>.aas.unvalidated()` and the like."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "unvalidated"
    ):
        return _client(node.func.value)
    if isinstance(node, ast.Attribute) and node.attr in SERVED:
        return node.attr
    if isinstance(node, ast.Name) and node.id in SERVED:  # `ecs = world.admin.ecs`
        return node.id
    return None


def _called(node: ast.Call) -> tuple[str, str] | None:
    """(service, operation) a call makes: `client.create_cluster(…)` or `endpoint.call("sts", "Op", …)`."""
    if not isinstance(node.func, ast.Attribute):
        return None
    service = _client(node.func.value)
    if service is not None:
        names = {xform_name(op): op for op in SERVED[service]}
        return (service, names[node.func.attr]) if node.func.attr in names else None
    arguments = [a.value for a in node.args[:2] if isinstance(a, ast.Constant)]
    if node.func.attr == "call" and len(arguments) == 2 and arguments[0] in SERVICE_NAMES:
        return SERVICE_NAMES[str(arguments[0])], str(arguments[1])
    return None


def _refusing(node: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call)
        and isinstance(item.context_expr.func, ast.Name)
        and item.context_expr.func.id == "refused"
        for item in node.items
    )


def calls(tree: ast.AST, refusing: bool = False) -> Iterator[tuple[str, str, bool]]:
    """(service, operation, inside refused) of every call in `tree`."""
    for child in ast.iter_child_nodes(tree):
        inside = refusing or (isinstance(child, ast.With) and _refusing(child))
        if isinstance(child, ast.Call) and (found := _called(child)) is not None:
            yield (*found, inside)
        yield from calls(child, inside)


def found_calls() -> set[tuple[str, str, bool]]:
    return {
        call
        for path in sorted(HERE.glob("*.py"))
        if path.name != Path(__file__).name
        for call in calls(ast.parse(path.read_text()))
    }


def test_every_operation_has_its_happy_path_and_an_error_tested() -> None:
    found = found_calls()
    missing = sorted(
        f"{service} {operation} ({'error' if refusing else 'happy path'})"
        for service, served in SERVED.items()
        for operation in served
        for refusing in (False, True)
        if (service, operation, refusing) not in found
        and (refusing or (service, operation) not in NO_HAPPY_PATH)
    )
    assert not missing, missing


def test_the_scan_sees_calls_inside_and_outside_refused() -> None:
    source = (
        "def t(world):\n"
        "    ecs.list_clusters()\n"
        "    with refused('X'):\n"
        "        world.admin.aas.unvalidated().put_scaling_policy()\n"
        "    world.endpoint.call('sts', 'GetCallerIdentity', {}, None)\n"
    )
    assert set(calls(ast.parse(source))) == {
        ("ecs", "ListClusters", False),
        ("aas", "PutScalingPolicy", True),
        ("sts", "GetCallerIdentity", False),
    }
