"""A spec or a request to ECS JSON, checked once: its members, then ECS's limits and task sizes
(`limits.py`), then ECS's rules across members (`rules.py`).

`parse` is a custom resource's way in: its spec model checks the members (and drops what describe output
adds). `check` is the ECS API's: the endpoint has checked the request's members against botocore's input
shape already (`awsmodel/check.py`), so only ECS's own rules are left. Both give the same normalized ECS
JSON (no nulls, task sizes in units), or raise SpecError naming every broken rule; each later step needs
the one before it to pass (a rule across members reads well-typed members within their limits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ecs_operator.resources.base import EcsShape
from ecs_operator.resources.limits import checked
from ecs_operator.resources.spec_errors import FieldError, SpecError, from_validation_error


@dataclass(frozen=True)
class SpecRules:
    """What ECS checks of one kind beyond botocore's member rules: the limits of the request shape its spec
    is, and the rules across its members."""

    shape: str
    across: Callable[[Mapping[str, Any]], list[FieldError]]


def parse(model: type[EcsShape], rules: SpecRules, data: Mapping[str, Any]) -> dict[str, Any]:
    """A custom resource's spec as normalized ECS JSON, or SpecError listing every broken rule (a member
    of the wrong type with the limits the others break, as admission lists them)."""
    try:
        ecs = members(model, data)
    except SpecError as error:
        _, broken_limits = checked(rules.shape, data)
        raise SpecError([*error.errors, *broken_limits]) from None
    return check(rules, ecs)


def members(model: type[EcsShape], data: Mapping[str, Any]) -> dict[str, Any]:
    """A spec's members as ECS JSON (output-only members dropped), checked by its spec model only."""
    if not isinstance(data, Mapping):
        raise SpecError([FieldError("", f"a spec must be an object, not {type(data).__name__}")])
    try:
        spec = model.model_validate(dict(data))
    except ValidationError as error:
        raise SpecError(from_validation_error(error)) from None
    return spec.to_ecs()


def check(rules: SpecRules, ecs: Mapping[str, Any]) -> dict[str, Any]:
    """ECS JSON whose members have their types (a parsed spec, a checked request), normalized, through
    ECS's limits and rules: SpecError listing every one it breaks."""
    normalized, errors = checked(rules.shape, ecs)
    if errors:
        raise SpecError(errors)
    errors = list(dict.fromkeys(rules.across(normalized)))
    if errors:
        raise SpecError(errors)
    result: dict[str, Any] = normalized
    return result
