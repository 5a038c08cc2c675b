"""Check a value against a shape of a generated model (`ecs.SHAPES` by default), member by member.

What a client cannot send through botocore's own validation (and what a hand-made request can): wrong
types, unknown members, missing required members, values outside an enum, a length, a range or a pattern.
Every problem is named by its JSON path, as the custom resources' errors are (`containerDefinitions[0].cpu:
…`). ECS's own rules beyond botocore's model (documented limits, task sizes, rules across members) are
the custom resources' (`resources/limits.py`, `resources/rules.py`), which the ECS API applies next.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ecs_operator.awsmodel.ecs import SHAPES

Shapes = Mapping[str, tuple[Any, ...]]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "double": "a number",
    "float": "a number",
    "boolean": "a boolean",
    "timestamp": "a number (seconds since the epoch)",
    "list": "a list",
    "map": "an object",
    "structure": "an object",
    "blob": "a string",
}


def join_path(*parts: str | int) -> str:
    """`containerDefinitions[0].portMappings`: dotted camelCase members, `[i]` indexes, `["key"]` keys."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path += f".{part}" if path else part
        else:
            path += f'["{part}"]'
    return path


def describe_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _describe(value: object) -> str:
    if isinstance(value, str) and len(value) > 40:
        value = value[:40] + "…"
    return describe_value(value)


def _type_ok(kind: str, value: object) -> bool:
    if kind in ("string", "blob"):
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("double", "float", "timestamp"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, dict)


def problems(
    shape_name: str, value: object, path: tuple[str | int, ...] = (), shapes: Shapes = SHAPES
) -> list[str]:
    """Every rule of `shape_name` (in `shapes`, ECS's by default) that `value` breaks, as `path: message`
    lines."""
    shape = shapes[shape_name]
    kind = shape[0]
    where = join_path(*path) or "request"
    if not _type_ok(kind, value):
        return [f"{where}: must be {_JSON_TYPES[kind]} (got {_describe(value)})"]
    if kind == "structure":
        return _structure(shape, value, path, shapes)  # type: ignore[arg-type]
    if kind == "list":
        assert isinstance(value, list)
        found = _length(where, len(value), shape[2], shape[3], "items")
        for index, item in enumerate(value):
            found += problems(shape[1], item, (*path, index), shapes)
        return found
    if kind == "map":
        assert isinstance(value, dict)
        found = []
        for key, item in value.items():
            found += problems(shape[1], key, (*path, str(key)), shapes)
            found += problems(shape[2], item, (*path, str(key)), shapes)
        return found
    if kind == "string":
        assert isinstance(value, str)
        return _string(where, shape, value)
    if kind in ("integer", "long", "double", "float"):
        low, high = shape[1], shape[2]
        if (low is not None and value < low) or (high is not None and value > high):
            return [f"{where}: {value} is outside {low}..{high}"]
    return []


def _string(where: str, shape: tuple[Any, ...], value: str) -> list[str]:
    enum = shape[1]
    if enum is not None and value not in enum:
        return [f"{where}: {_describe(value)} is not one of {', '.join(enum)}"]
    found = _length(where, len(value), shape[2], shape[3], "characters")
    # A fifth item is a pattern (the STS and Application Auto Scaling models carry them).
    if not found and len(shape) > 4 and re.fullmatch(shape[4], value) is None:
        found = [f"{where}: {_describe(value)} does not match the pattern {shape[4]}"]
    return found


def _structure(
    shape: tuple[Any, ...], value: Mapping[str, Any], path: tuple[str | int, ...], shapes: Shapes
) -> list[str]:
    members: Mapping[str, str] = shape[1]
    found = []
    for name, item in value.items():
        if name not in members:
            service = "ECS" if shapes is SHAPES else "the service"
            found.append(f"{join_path(*path, name)}: unknown member: {service} has no such field here")
        elif item is not None:
            found += problems(members[name], item, (*path, name), shapes)
    for name in shape[2]:
        if value.get(name) is None:
            found.append(f"{join_path(*path, name)}: required member is missing")
    return found


def _length(where: str, size: int, low: int | None, high: int | None, unit: str) -> list[str]:
    if low is not None and size < low:
        return [f"{where}: must have at least {low} {unit}"]
    if high is not None and size > high:
        return [f"{where}: must have at most {high} {unit}"]
    return []
