"""translate/ stays pure: no operator framework, no API client, no I/O, clock or randomness, no models."""

from __future__ import annotations

import ast
from pathlib import Path

import ecs_operator.translate

FORBIDDEN = {
    "kopf",
    "kubernetes",
    "os",
    "io",
    "pathlib",
    "subprocess",
    "socket",
    "random",
    "secrets",
    "time",
    "datetime",
    "uuid",
    "logging",
    "pydantic",
    "ecs_operator.resources",
    "ecs_operator.kube",
}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_translate_imports_nothing_impure() -> None:
    package = Path(ecs_operator.translate.__file__).parent
    offenders = {
        f"{path.name}: {module}"
        for path in sorted(package.glob("*.py"))
        for module in imported_modules(path)
        if any(module == bad or module.startswith(f"{bad}.") for bad in FORBIDDEN)
    }
    assert offenders == set()


def test_translate_calls_no_builtin_io() -> None:
    package = Path(ecs_operator.translate.__file__).parent
    calls = {
        f"{path.name}: {node.func.id}"
        for path in sorted(package.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"open", "print", "input"}
    }
    assert calls == set()
