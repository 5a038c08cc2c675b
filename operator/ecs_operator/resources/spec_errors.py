"""Errors that name the JSON path of the member at fault, e.g. `containerDefinitions[1].memory: ...`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ecs_operator.awsmodel.check import describe_value, join_path

_SHOULD = re.compile(r"^(?:Input|String|List|Value|Dictionary|Object|Data) should ")


@dataclass(frozen=True)
class FieldError:
    """One rule broken by one member; `path` is dotted camelCase with `[i]` indexes, relative to the spec."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """A spec ECS would refuse; `errors` lists every rule it breaks, `str()` gives one per line.

    `ecs_exception` names the exception ECS answers with when it is not the operation's usual validation
    error (for example `InvalidParameterException` from CreateService); None leaves that to the caller.
    """

    def __init__(self, errors: Sequence[FieldError], ecs_exception: str | None = None) -> None:
        self.errors = list(errors)
        self.ecs_exception = ecs_exception
        super().__init__("\n".join(str(error) for error in self.errors))


def from_validation_error(error: ValidationError) -> list[FieldError]:
    return [FieldError(join_path(*detail["loc"]), _message(detail)) for detail in error.errors()]


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    value = detail.get("input")
    context = detail.get("ctx") or {}
    if kind == "missing":
        return "required member is missing"
    if kind == "extra_forbidden":
        return "unknown member: ECS has no such field here"
    if kind == "literal_error":
        return f"{value!r} is not one of {context.get('expected', '')}"
    text = detail["msg"].removeprefix("Value error, ")
    match = _SHOULD.match(text)
    if match:
        text = "must " + text[match.end() :]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        text += f" (got {describe_value(value)})"
    return text
