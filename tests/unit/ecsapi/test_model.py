"""The generated model is current, every error it names has a class, and every operation a function."""

from __future__ import annotations

import pytest
from ecs_operator.ecsapi import errors, model, operations


def test_model_module_matches_botocore() -> None:
    pytest.importorskip("botocore")
    from ecs_operator.ecsapi import _generate

    assert _generate.MODEL_FILE.read_text() == _generate.generate(), (
        "operator/ecs_operator/ecsapi/model.py is stale: run `python -m ecs_operator.ecsapi._generate`"
    )


@pytest.mark.parametrize("name", model.ERROR_SHAPES)
def test_every_error_shape_has_a_class(name: str) -> None:
    assert errors.named(name).__name__ == name


def test_every_operation_has_a_function() -> None:
    assert tuple(operations.OPERATIONS) == model.OPERATIONS


def test_an_unknown_operation_is_an_ecs_error() -> None:
    with pytest.raises(errors.UnknownOperationException):
        operations.call(None, "LaunchRockets", {})  # type: ignore[arg-type]
