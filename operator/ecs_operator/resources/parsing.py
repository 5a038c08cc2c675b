"""One way to turn a spec mapping into a model: pydantic's member rules, then ECS's cross-field rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from ecs_operator.resources.base import EcsShape
from ecs_operator.resources.spec_errors import FieldError, SpecError, from_validation_error

Spec = TypeVar("Spec", bound=EcsShape)


def parse(model: type[Spec], rules: Callable[[Spec], list[FieldError]], data: Mapping[str, Any]) -> Spec:
    """The validated model, or SpecError listing every broken rule.

    Cross-field rules need a well-typed model, so they run only once every member is valid.
    """
    if not isinstance(data, Mapping):
        raise SpecError([FieldError("", f"a spec must be an object, not {type(data).__name__}")])
    try:
        spec = model.model_validate(dict(data))
    except ValidationError as error:
        raise SpecError(from_validation_error(error)) from None
    errors = list(dict.fromkeys(rules(spec)))
    if errors:
        raise SpecError(errors)
    return spec
