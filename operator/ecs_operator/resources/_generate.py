"""Generate `shapes.py`: pydantic models of the ECS request shapes, from the API model botocore ships.

Run `python -m ecs_operator.resources._generate` after upgrading botocore; a unit test fails when the
checked-in `shapes.py` differs from what this produces. botocore is a development dependency only: the
operator imports the generated file, never botocore.
"""

from __future__ import annotations

import html
import keyword
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SHAPES_FILE = Path(__file__).with_name("shapes.py")

# The request shapes users paste under `spec:`, and the describe shape whose extra members are output-only.
ROOTS: dict[str, str | None] = {
    "RegisterTaskDefinitionRequest": "TaskDefinition",
    "CreateServiceRequest": "Service",
    "RunTaskRequest": None,
    "CreateClusterRequest": "Cluster",
    "CreateCapacityProviderRequest": "CapacityProvider",
}

# Task-level sizes accept the console's units ("1 vCPU", "2 GB") and plain integers, normalized on parse.
TYPE_OVERRIDES: dict[tuple[str, str], str] = {
    ("RegisterTaskDefinitionRequest", "cpu"): "TaskCpu",
    ("RegisterTaskDefinitionRequest", "memory"): "TaskMemory",
    ("TaskOverride", "cpu"): "TaskCpu",
    ("TaskOverride", "memory"): "TaskMemory",
}

# Limits ECS documents (and enforces) that botocore's model does not carry. They bound CEL costs too.
NAME_LIMIT = {"max_length": 255}
PORT_RANGE = {"ge": 0, "le": 65535}
CONSTRAINTS: dict[tuple[str, str], dict[str, int]] = {
    ("RegisterTaskDefinitionRequest", "family"): NAME_LIMIT,
    ("RegisterTaskDefinitionRequest", "containerDefinitions"): {"min_length": 1, "max_length": 10},
    ("RegisterTaskDefinitionRequest", "requiresCompatibilities"): {"max_length": 4},
    ("ContainerDefinition", "name"): NAME_LIMIT,
    ("ContainerDefinition", "dependsOn"): {"max_length": 10},
    ("ContainerDependency", "containerName"): NAME_LIMIT,
    ("ContainerDefinition", "cpu"): {"ge": 0},
    # ECS refuses a container with less than 6 MiB ("At least 6 MiB of memory is required").
    ("ContainerDefinition", "memory"): {"ge": 6},
    ("ContainerDefinition", "memoryReservation"): {"ge": 6},
    ("PortMapping", "containerPort"): PORT_RANGE,
    ("PortMapping", "hostPort"): PORT_RANGE,
    ("LoadBalancer", "containerPort"): PORT_RANGE,
    ("HealthCheck", "interval"): {"ge": 5, "le": 300},
    ("HealthCheck", "timeout"): {"ge": 2, "le": 60},
    ("HealthCheck", "retries"): {"ge": 1, "le": 10},
    ("HealthCheck", "startPeriod"): {"ge": 0, "le": 300},
    ("HealthCheck", "command"): {"min_length": 1},
    ("CreateServiceRequest", "serviceName"): NAME_LIMIT,
    ("CreateServiceRequest", "desiredCount"): {"ge": 0},
    ("CreateServiceRequest", "healthCheckGracePeriodSeconds"): {"ge": 0, "le": 2147483647},
    ("DeploymentConfiguration", "minimumHealthyPercent"): {"ge": 0, "le": 100},
    ("DeploymentConfiguration", "maximumPercent"): {"ge": 0},
    ("RunTaskRequest", "count"): {"ge": 1, "le": 10},
    ("CreateClusterRequest", "clusterName"): NAME_LIMIT,
    ("CreateCapacityProviderRequest", "name"): NAME_LIMIT,
}

# Required by ECS, optional here because the custom resource supplies it: an EcsService's name is
# `metadata.name` unless `serviceName` says otherwise.
NOT_REQUIRED_HERE = {("CreateServiceRequest", "serviceName")}


def lists_read_as_empty(shapes: Mapping[str, Any], structures: list[str]) -> set[tuple[str, str]]:
    """Required list members of the structures translation ignores (warned or not needed as a whole).

    Deploy tools leave empty lists out of the files they write (`deploymentConfiguration.alarms` without
    `alarmNames`); inside a structure that is only reported, a missing list reads as empty rather than
    refusing the file. A structure is mapped when translate/coverage.py classifies its members.
    """
    from ecs_operator.translate.coverage import SHAPES as MAPPED_STRUCTURES

    return {
        (name, member)
        for name in structures
        if name not in MAPPED_STRUCTURES
        for member in shapes[name].get("required", [])
        if shapes[shapes[name]["members"][member]["shape"]]["type"] == "list"
    }


# Where this project gives a member a meaning of its own, `kubectl explain` should say so.
CLUSTER_IGNORED = (
    "Accepted for compatibility with ECS input files and otherwise ignored: the namespace decides the "
    "cluster (the EcsCluster that owns it)."
)
TASK_DEFINITION_REFERENCE = (
    "The task definition to run: family (its latest ACTIVE revision), family:revision, or a full task "
    "definition ARN; task definitions are regional: resolved against the EcsTaskDefinition of that family."
)
DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("CreateServiceRequest", "cluster"): CLUSTER_IGNORED,
    ("RunTaskRequest", "cluster"): CLUSTER_IGNORED,
    (
        "CreateServiceRequest",
        "serviceName",
    ): "The name of your service (default: the EcsService's metadata.name).",
    ("CreateServiceRequest", "taskDefinition"): TASK_DEFINITION_REFERENCE,
    ("RunTaskRequest", "taskDefinition"): TASK_DEFINITION_REFERENCE,
}

PRIMITIVES = {"integer": "StrictInt", "long": "StrictInt", "boolean": "StrictBool", "double": "float"}
BOTOCORE_LIMITS = {"min": "ge", "max": "le"}


def load_model() -> dict[str, Any]:
    from botocore.loaders import Loader

    model: dict[str, Any] = Loader().load_service_model("ecs", "service-2")
    return model


def snake_case(name: str) -> str:
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()
    return words + "_" if keyword.iskeyword(words) or words in {"model_config"} else words


def summary(documentation: str, limit: int = 300) -> str:
    """The first sentence of botocore's HTML documentation, as plain text for `kubectl explain`."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", documentation))
    text = re.sub(r"\s+", " ", text).strip()
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def output_only_members(shapes: Mapping[str, Any], request: str, described: str | None) -> list[str]:
    if described is None:
        return []
    return [m for m in shapes[described]["members"] if m not in shapes[request]["members"]]


def reachable(shapes: Mapping[str, Any], roots: list[str]) -> list[str]:
    """Structure shapes in dependency order (a shape after every shape it uses)."""
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        shape = shapes[name]
        for child in children(shape):
            visit(child)
        if shape["type"] == "structure":
            ordered.append(name)

    for root in roots:
        visit(root)
    return ordered


def children(shape: Mapping[str, Any]) -> Iterator[str]:
    if shape["type"] == "structure":
        for member in shape["members"].values():
            yield member["shape"]
    elif shape["type"] == "list":
        yield shape["member"]["shape"]
    elif shape["type"] == "map":
        yield shape["key"]["shape"]
        yield shape["value"]["shape"]


def enum_shapes(shapes: Mapping[str, Any], structures: list[str]) -> list[str]:
    names: set[str] = set()

    def collect(name: str) -> None:
        shape = shapes[name]
        if shape["type"] == "string" and "enum" in shape:
            names.add(name)
        elif shape["type"] in ("list", "map"):
            for child in children(shape):
                collect(child)

    for structure in structures:
        for member in shapes[structure]["members"].values():
            collect(member["shape"])
    return sorted(names)


def annotation(shapes: Mapping[str, Any], name: str, extra: Mapping[str, int] | None = None) -> str:
    shape = shapes[name]
    kind = shape["type"]
    limits = {BOTOCORE_LIMITS[k]: shape[k] for k in ("min", "max") if k in shape and kind != "string"}
    if kind == "string":
        base = name if "enum" in shape else "StrictStr"
        limits = {}
        if "min" in shape and "enum" not in shape and shape["min"] > 0:
            limits["min_length"] = shape["min"]
        if "max" in shape and "enum" not in shape:
            limits["max_length"] = shape["max"]
    elif kind in PRIMITIVES:
        base = PRIMITIVES[kind]
    elif kind == "timestamp":
        base = "OutputOnly"
    elif kind == "structure":
        base = name
    elif kind == "list":
        base = f"list[{annotation(shapes, shape['member']['shape'])}]"
        limits = {}
        if "min" in shape:
            limits["min_length"] = shape["min"]
        if "max" in shape:
            limits["max_length"] = shape["max"]
    elif kind == "map":
        key = annotation(shapes, shape["key"]["shape"])
        base = f"dict[{key}, {annotation(shapes, shape['value']['shape'])}]"
    else:
        raise ValueError(f"shape {name}: unsupported type {kind}")
    limits.update(extra or {})
    if not limits:
        return base
    arguments = ", ".join(f"{k}={v}" for k, v in sorted(limits.items()))
    return f"Annotated[{base}, Field({arguments})]"


def render(model: Mapping[str, Any]) -> str:
    shapes = model["shapes"]
    structures = reachable(shapes, list(ROOTS))
    lines = [
        '"""ECS request shapes as pydantic models. GENERATED by `python -m ecs_operator.resources._generate`',
        f"from botocore's ECS model (API version {model['metadata']['apiVersion']}); do not edit by hand.",
        '"""',
        "",
        "# ruff: noqa: E501  (descriptions are botocore's sentences, kept whole for `kubectl explain`)",
        "",
        "from __future__ import annotations",
        "",
        "from typing import Annotated, ClassVar, Literal",
        "",
        "from pydantic import Field, StrictBool, StrictInt, StrictStr",
        "",
        "from ecs_operator.resources.base import EcsShape, OutputOnly",
        "from ecs_operator.resources.quantities import TaskCpu, TaskMemory",
    ]
    for name in enum_shapes(shapes, structures):
        values = ", ".join(repr(v) for v in shapes[name]["enum"])
        lines += ["", f"{name} = Literal[{values}]"]
    read_as_empty = lists_read_as_empty(shapes, structures)
    for name in structures:
        lines += ["", "", *render_structure(shapes, name, read_as_empty)]
    for request, described in ROOTS.items():
        output_only = output_only_members(shapes, request, described)
        if not output_only:
            continue
        lines += ["", "", f"class {request}OrDescription({request}):"]
        lines.append(f'    """`{request}` that also accepts the output-only members of `{described}`."""')
        lines.append("")
        lines.append(f"    output_only: ClassVar[frozenset[str]] = frozenset({sorted(output_only)!r})")
        for member in output_only:
            documentation = summary(shapes[described]["members"][member].get("documentation", ""))
            description = f"Output-only in ECS describe output; accepted and ignored. {documentation}"
            lines.append(
                f"    {snake_case(member)}: OutputOnly = Field(None, alias={member!r}, "
                f"description={description!r})"
            )
    return "\n".join(lines) + "\n"


def render_structure(shapes: Mapping[str, Any], name: str, read_as_empty: set[tuple[str, str]]) -> list[str]:
    shape = shapes[name]
    not_required = NOT_REQUIRED_HERE | read_as_empty
    required = {m for m in shape.get("required", []) if (name, m) not in not_required}
    lines = [f"class {name}(EcsShape):"]
    doc = summary(shape.get("documentation", ""))
    if doc:
        lines.append(f"    {_docstring(doc)}")
        lines.append("")
    blank_enums = sorted(
        member
        for member, spec in shape["members"].items()
        if member not in required and "enum" in shapes[spec["shape"]]
    )
    if blank_enums:
        lines.append(f"    blank_means_unset: ClassVar[frozenset[str]] = frozenset({blank_enums!r})")
    if not shape["members"]:
        lines.append("    pass")
    for member, spec in shape["members"].items():
        override = TYPE_OVERRIDES.get((name, member))
        typed = override or annotation(shapes, spec["shape"], CONSTRAINTS.get((name, member)))
        description = DESCRIPTIONS.get((name, member)) or summary(spec.get("documentation", ""))
        default = "..." if member in required else "None"
        optional = "" if member in required else " | None"
        lines.append(
            f"    {snake_case(member)}: {typed}{optional} = Field({default}, alias={member!r}, "
            f"description={description!r})"
        )
    return lines


def _docstring(text: str) -> str:
    return '"""' + text.replace("\\", "\\\\").replace('"""', "'''") + '"""'


def formatted(source: str) -> str:
    """The source as `ruff format` leaves it, so the checked-in file passes the format check unchanged."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(SHAPES_FILE), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def generate() -> str:
    return formatted(render(load_model()))


def main() -> int:
    SHAPES_FILE.write_text(generate())
    print(f"wrote {SHAPES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
