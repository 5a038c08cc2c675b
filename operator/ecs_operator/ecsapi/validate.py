"""Check a request body against its input shape in botocore's model (`model.SHAPES`), member by member.

What a client cannot send through botocore's own validation (and what a hand-made request can): wrong
types, unknown members, missing required members, values outside an enum or a length. Every problem is
named by its JSON path, as the custom resources' admission errors are (`containerDefinitions[0].cpu: …`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.ecsapi.model import INPUTS, SHAPES
from ecs_operator.resources.spec_errors import describe_value, join_path

MAX_REPORTED = 5
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


def describe(value: object) -> str:
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
    shape_name: str,
    value: object,
    path: tuple[str | int, ...] = (),
    shapes: Mapping[str, tuple[Any, ...]] = SHAPES,
) -> list[str]:
    """Every rule of `shape_name` (in `shapes`, ECS's by default) that `value` breaks, as `path: message`
    lines."""
    shape = shapes[shape_name]
    kind = shape[0]
    where = join_path(*path) or "request"
    if not _type_ok(kind, value):
        return [f"{where}: must be {_JSON_TYPES[kind]} (got {describe(value)})"]
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
        enum = shape[1]
        if enum is not None and value not in enum:
            return [f"{where}: {describe(value)} is not one of {', '.join(enum)}"]
        found = _length(where, len(value), shape[2], shape[3], "characters")
        # A fifth item is a pattern (the STS and Application Auto Scaling models carry them).
        if not found and len(shape) > 4 and re.fullmatch(shape[4], value) is None:
            found = [f"{where}: {describe(value)} does not match the pattern {shape[4]}"]
        return found
    if kind in ("integer", "long", "double", "float"):
        low, high = shape[1], shape[2]
        if (low is not None and value < low) or (high is not None and value > high):
            return [f"{where}: {value} is outside {low}..{high}"]
    return []


def _structure(
    shape: tuple[Any, ...],
    value: Mapping[str, Any],
    path: tuple[str | int, ...],
    shapes: Mapping[str, tuple[Any, ...]],
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


def report(found: list[str]) -> str:
    """The first few problems in one message."""
    more = f" (and {len(found) - MAX_REPORTED} more)" if len(found) > MAX_REPORTED else ""
    return "; ".join(found[:MAX_REPORTED]) + more


def check_request(operation: str, body: object) -> None:
    """Raise InvalidParameterException naming every broken rule (the first few) of `operation`'s input."""
    found = problems(INPUTS[operation], body)
    if found:
        raise InvalidParameterException(report(found))
