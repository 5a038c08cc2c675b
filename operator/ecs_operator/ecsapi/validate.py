"""The endpoint's check of a request: its input shape in botocore's model, member by member
(`awsmodel/check.py`), refused with `InvalidParameterException` naming the first few members at fault."""

from __future__ import annotations

from ecs_operator.awsmodel.check import Shapes, problems
from ecs_operator.awsmodel.ecs import INPUTS, SHAPES
from ecs_operator.ecsapi.errors import InvalidParameterException

MAX_REPORTED = 5


def report(found: list[str]) -> str:
    """The first few problems in one message."""
    more = f" (and {len(found) - MAX_REPORTED} more)" if len(found) > MAX_REPORTED else ""
    return "; ".join(found[:MAX_REPORTED]) + more


def check_input(shape_name: str, body: object, shapes: Shapes) -> None:
    """Raise InvalidParameterException naming every broken rule (the first few) of the input shape."""
    found = problems(shape_name, body, shapes=shapes)
    if found:
        raise InvalidParameterException(report(found))


def check_request(operation: str, body: object) -> None:
    """`check_input` for an ECS operation."""
    check_input(INPUTS[operation], body, SHAPES)
