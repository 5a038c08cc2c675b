"""The pure layers stay pure: translate/, status/ and plans/, and the model of ECS they and every process
share (identifiers, names, the account, revisions, botocore's models, the custom resources), import
nothing that does I/O or starts the runtime (directly, and through what they import), call no builtin I/O
and read no clock: the controllers gather the time and pass it in."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "ecs_operator"
PURE = ("translate", "status", "plans")
MODEL = ("identifiers.py", "naming.py", "account.py", "revisions.py", "awsmodel", "resources")
# The commands that write generated files are not part of the model.
COMMANDS = {"awsmodel/generate.py", "resources/crds_command.py"}
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
# translate/ is stricter still: no environment, no dates, no models (ECS JSON in, Kubernetes objects out).
FORBIDDEN_IN_TRANSLATE = {"os", "datetime", "pydantic"}
FORBIDDEN_CALLS = {"open", "print", "input"}
CLOCK = {"now", "today", "utcnow", "time", "monotonic"}
# What importing the pure layers must not load, whatever they import on the way.
HEAVY = ["kopf", "kubernetes", "aiohttp", "prometheus_client", "urllib3", "ecs_operator.kube",
         "ecs_operator.runtime", "ecs_operator.metrics"]  # fmt: skip


def modules() -> list[Path]:
    found = [path for layer in PURE for path in (PACKAGE / layer).glob("*.py")]
    for part in MODEL:
        found += [PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).glob("*.py"))
    return sorted(path for path in found if str(path.relative_to(PACKAGE)) not in COMMANDS)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("ecs_operator", *parts)).removesuffix(".__init__")


def package_of(path: Path) -> str:
    """The package a module belongs to: what it may import from itself."""
    parts = path.relative_to(PACKAGE).parts
    return f"ecs_operator.{parts[0]}" if len(parts) > 1 else "ecs_operator"


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_nothing_impure(path: Path) -> None:
    forbidden = FORBIDDEN_IMPORTS - {package_of(path)}
    if package_of(path) == "ecs_operator.translate":
        forbidden |= FORBIDDEN_IN_TRANSLATE
    bad = {
        module
        for module in imported(path)
        if any(module == name or module.startswith(f"{name}.") for name in forbidden)
    }
    assert bad == set()


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
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
    names = [module_name(path) for path in modules()]
    script = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY))
    assert heavy == []
