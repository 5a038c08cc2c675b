"""The pure layers stay pure: translate/, status/ and plans/ import nothing that does I/O or starts the
runtime (directly, and through what they import), call no builtin I/O and read no clock: the controllers
gather the time and pass it in."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "ecs_operator"
PURE = ("translate", "status", "plans")
FORBIDDEN_IMPORTS = {
    "kopf",
    "kubernetes",
    "aiohttp",
    "prometheus_client",
    "io",
    "pathlib",
    "subprocess",
    "socket",
    "random",
    "secrets",
    "time",
    "uuid",
    "logging",
    "threading",
    "ecs_operator.kube",
    "ecs_operator.runtime",
    "ecs_operator.controllers",
    "ecs_operator.ecsapi",
    "ecs_operator.console",
    "ecs_operator.localcluster",
    "ecs_operator.metrics",
    "ecs_operator.resources",
}
FORBIDDEN_CALLS = {"open", "print", "input"}
CLOCK = {"now", "today", "utcnow", "time", "monotonic"}
# What importing the pure layers must not load, whatever they import on the way.
HEAVY = ["kopf", "kubernetes", "aiohttp", "prometheus_client", "urllib3", "ecs_operator.kube",
         "ecs_operator.runtime", "ecs_operator.metrics"]  # fmt: skip


def modules() -> list[Path]:
    return sorted(path for layer in PURE for path in (PACKAGE / layer).glob("*.py"))


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_nothing_impure(path: Path) -> None:
    bad = {
        module
        for module in imported(path)
        if any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN_IMPORTS)
    }
    assert bad == set()


@pytest.mark.parametrize("path", modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_calls_no_io_and_reads_no_clock(path: Path) -> None:
    bad = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            bad.add(node.func.id)
        if isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK:
            bad.add(ast.unparse(node.func))
    assert bad == set()


def test_importing_the_pure_layers_loads_no_framework_client_or_runtime() -> None:
    names = [f"ecs_operator.{layer}.{path.stem}" for layer in PURE for path in (PACKAGE / layer).glob("*.py")]
    script = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name.removesuffix('.__init__'))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY))
    assert heavy == []
