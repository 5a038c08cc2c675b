"""The generated models are current, every ECS error they name has a class, and every operation a function."""

from __future__ import annotations

from pathlib import Path

import pytest
from ecs_operator.awsmodel import ecs
from ecs_operator.ecsapi import errors, operations


@pytest.mark.parametrize("module", ["ecs.py", "sts.py", "autoscaling.py"])
def test_the_generated_module_matches_botocore(module: str) -> None:
    pytest.importorskip("botocore")
    from ecs_operator.awsmodel import generate

    (service,) = [s for s in generate.SERVICES if s.module == module]
    path = generate.HERE / module
    assert path.read_text() == generate.render(service), (
        f"{Path(*path.parts[-4:])} is stale: run `python -m ecs_operator.awsmodel.generate`"
    )


@pytest.mark.parametrize("name", ecs.ERRORS)
def test_every_error_shape_has_a_class(name: str) -> None:
    assert errors.named(name).__name__ == name


def test_every_operation_has_a_function() -> None:
    assert tuple(operations.OPERATIONS) == ecs.OPERATIONS


def test_an_unknown_operation_is_an_ecs_error() -> None:
    with pytest.raises(errors.UnknownOperationException):
        operations.call(None, "LaunchRockets", {})  # type: ignore[arg-type]
