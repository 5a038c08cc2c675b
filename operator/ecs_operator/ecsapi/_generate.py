"""Generate `model.py`: what the ECS endpoint needs of botocore's ECS model, as plain Python data.

Run `python -m ecs_operator.ecsapi._generate` after upgrading botocore; a unit test fails when the
checked-in `model.py` differs from what this produces. botocore stays a development dependency: the
endpoint imports the generated module, never botocore.

The module holds, for the supported operations only: the input shapes in a compact form the request
validator walks (`SHAPES`, `INPUTS`), the error shape names, the three waiters `kubectl ecs wait` runs,
and one TypedDict per request and response (the typed signatures of the operations layer).
"""

from __future__ import annotations

import json
import pprint
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecs_operator.resources._generate import children, formatted

MODEL_FILE = Path(__file__).with_name("model.py")

OPERATIONS = (
    "CreateCluster",
    "DescribeClusters",
    "ListClusters",
    "DeleteCluster",
    "UpdateCluster",
    "UpdateClusterSettings",
    "PutClusterCapacityProviders",
    "CreateCapacityProvider",
    "DescribeCapacityProviders",
    "UpdateCapacityProvider",
    "DeleteCapacityProvider",
    "PutAccountSetting",
    "PutAccountSettingDefault",
    "ListAccountSettings",
    "DeleteAccountSetting",
    "RegisterTaskDefinition",
    "DescribeTaskDefinition",
    "ListTaskDefinitions",
    "ListTaskDefinitionFamilies",
    "DeregisterTaskDefinition",
    "DeleteTaskDefinitions",
    "CreateService",
    "DescribeServices",
    "ListServices",
    "UpdateService",
    "DeleteService",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "RunTask",
    "StartTask",
    "StopTask",
    "DescribeTasks",
    "ListTasks",
    "ListContainerInstances",
    "DescribeContainerInstances",
    "UpdateContainerInstancesState",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)
WAITERS = ("ServicesStable", "ServicesInactive", "TasksRunning", "TasksStopped")

PYTHON_TYPES = {
    "string": "str",
    "integer": "int",
    "long": "int",
    "boolean": "bool",
    "double": "float",
    "float": "float",
    "timestamp": "float",
    "list": "list[Any]",
    "map": "dict[str, Any]",
    "structure": "dict[str, Any]",
    "blob": "str",
}


def load(name: str) -> dict[str, Any]:
    from botocore.loaders import Loader

    model: dict[str, Any] = Loader().load_service_model("ecs", name)
    return model


def reachable(shapes: Mapping[str, Any], roots: list[str]) -> list[str]:
    """Every shape the roots use, structures or not, in name order."""
    seen: dict[str, None] = {}

    def visit(name: str) -> None:
        if name in seen:
            return
        seen[name] = None
        for child in children(shapes[name]):
            visit(child)

    for root in roots:
        visit(root)
    return sorted(seen)


def compact(shape: Mapping[str, Any]) -> tuple[Any, ...]:
    """(type, details...): structure (members name->shape, required), list (member, min, max),
    map (key, value), string (enum or None, min, max), number (min, max), other types alone."""
    kind = shape["type"]
    if kind == "structure":
        members = {name: m["shape"] for name, m in shape["members"].items()}
        return (kind, members, tuple(shape.get("required", ())))
    if kind == "list":
        return (kind, shape["member"]["shape"], shape.get("min"), shape.get("max"))
    if kind == "map":
        return (kind, shape["key"]["shape"], shape["value"]["shape"])
    if kind == "string":
        enum = tuple(shape["enum"]) if "enum" in shape else None
        return (kind, enum, shape.get("min"), shape.get("max"))
    if kind in ("integer", "long", "double", "float"):
        return (kind, shape.get("min"), shape.get("max"))
    return (kind,)


def typed_dict(name: str, shape: Mapping[str, Any], shapes: Mapping[str, Any]) -> str:
    required = set(shape.get("required", ()))
    lines = [f"class {name}(TypedDict, total=False):"]
    members = shape["members"]
    if not members:
        lines.append("    pass")
    for member, spec in members.items():
        python = PYTHON_TYPES[shapes[spec["shape"]]["type"]]
        lines.append(f"    {member}: {f'Required[{python}]' if member in required else python}")
    return "\n".join(lines)


def generate() -> str:
    service = load("service-2")
    shapes = service["shapes"]
    operations = {name: service["operations"][name] for name in OPERATIONS}
    inputs = {name: op["input"]["shape"] for name, op in operations.items()}
    outputs = {name: op["output"]["shape"] for name, op in operations.items()}
    errors = sorted({e["shape"] for op in operations.values() for e in op.get("errors", ())})
    waiters = load("waiters-2")["waiters"]
    chosen_waiters = {name: waiters[name] for name in WAITERS}
    paginators = {
        name: spec for name, spec in load("paginators-1")["pagination"].items() if name in operations
    }
    compact_shapes = {name: compact(shapes[name]) for name in reachable(shapes, list(inputs.values()))}
    classes = [typed_dict(inputs[op], shapes[inputs[op]], shapes) for op in OPERATIONS]
    classes += [typed_dict(outputs[op], shapes[outputs[op]], shapes) for op in OPERATIONS]

    def literal(value: Any) -> str:
        return pprint.pformat(json.loads(json.dumps(value)), width=110, sort_dicts=False)

    metadata = service["metadata"]
    parts = [
        '"""What the ECS endpoint uses of botocore\'s ECS model (API version '
        f"{metadata['apiVersion']}). GENERATED by\n"
        '`python -m ecs_operator.ecsapi._generate`; do not edit by hand.\n"""',
        "from __future__ import annotations\n\nfrom typing import Any, Required, TypedDict",
        f"TARGET_PREFIX = {metadata['targetPrefix']!r}",
        f"SIGNING_NAME = {metadata['signingName']!r}",
        f"API_VERSION = {metadata['apiVersion']!r}",
        f"OPERATIONS: tuple[str, ...] = {literal(list(OPERATIONS)).replace('[', '(', 1)[:-1]},)",
        f"INPUTS: dict[str, str] = {literal(inputs)}",
        f"OUTPUTS: dict[str, str] = {literal(outputs)}",
        f"ERROR_SHAPES: tuple[str, ...] = {literal(errors).replace('[', '(', 1)[:-1]},)",
        "# Input shapes: (type, ...) as `_generate.compact` documents.",
        f"SHAPES: dict[str, tuple[Any, ...]] = {pprint.pformat(compact_shapes, width=110, sort_dicts=True)}",
        f"WAITERS: dict[str, Any] = {literal(chosen_waiters)}",
        f"PAGINATORS: dict[str, Any] = {literal(paginators)}",
        *classes,
    ]
    text = "\n\n".join(parts) + "\n"
    return formatted(text)


def main() -> None:
    MODEL_FILE.write_text(generate())
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
