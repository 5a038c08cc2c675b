"""The models cover the ECS API model botocore ships: every member of every request shape, same enums."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from ecs_operator.resources import ClusterSpec, ServiceSpec, TaskDefinitionSpec, TaskSpec
from pydantic import BaseModel

botocore_loaders = pytest.importorskip("botocore.loaders")

ROOTS = [
    ("RegisterTaskDefinitionRequest", TaskDefinitionSpec),
    ("CreateServiceRequest", ServiceSpec),
    ("RunTaskRequest", TaskSpec),
    ("CreateClusterRequest", ClusterSpec),
]
# Members of describe output a pasted spec may carry: accepted, then dropped by to_ecs().
DESCRIBED = [("TaskDefinition", TaskDefinitionSpec), ("Service", ServiceSpec), ("Cluster", ClusterSpec)]


@pytest.fixture(scope="module")
def shapes() -> dict[str, Any]:
    model: dict[str, Any] = botocore_loaders.Loader().load_service_model("ecs", "service-2")
    return model["shapes"]


def leaves(annotation: Any) -> Iterator[Any]:
    """The model classes and Literal types inside Optional / Annotated / list / dict annotations."""
    origin = typing.get_origin(annotation)
    if origin is Literal or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        yield annotation
    elif origin in (typing.Union, types.UnionType, list, dict, typing.Annotated):
        for argument in typing.get_args(annotation):
            yield from leaves(argument)


def by_alias(model: type[BaseModel]) -> dict[str, Any]:
    return {field.alias or name: field.annotation for name, field in model.model_fields.items()}


def walk(shapes: dict[str, Any], shape_name: str, model: type[BaseModel], path: str) -> Iterator[str]:
    """Problems: members the model lacks, enums that differ, nested shapes not modeled."""
    fields = by_alias(model)
    for member, reference in shapes[shape_name]["members"].items():
        member_path = f"{path}.{member}"
        if member not in fields:
            yield f"{member_path}: missing from {model.__name__}"
            continue
        target = shapes[reference["shape"]]
        while target["type"] in ("list", "map"):
            target = shapes[target["member" if target["type"] == "list" else "value"]["shape"]]
        found = list(leaves(fields[member]))
        if target["type"] == "string" and "enum" in target:
            # Set comparison: typing caches Literal types by their set of values, not their order.
            enums = [set(typing.get_args(leaf)) for leaf in found if typing.get_origin(leaf) is Literal]
            if enums != [set(target["enum"])]:
                yield f"{member_path}: enum {enums} differs from ECS's {target['enum']}"
        elif target["type"] == "structure":
            nested = [leaf for leaf in found if isinstance(leaf, type) and issubclass(leaf, BaseModel)]
            if len(nested) != 1:
                yield f"{member_path}: not modeled as the {reference['shape']} structure"
                continue
            item_shape = reference["shape"]
            while shapes[item_shape]["type"] in ("list", "map"):
                inner = shapes[item_shape]
                item_shape = inner["member" if inner["type"] == "list" else "value"]["shape"]
            yield from walk(shapes, item_shape, nested[0], member_path)


@pytest.mark.parametrize(("shape_name", "model"), ROOTS, ids=[root for root, _ in ROOTS])
def test_every_member_and_enum_is_modeled(
    shapes: dict[str, Any], shape_name: str, model: type[BaseModel]
) -> None:
    problems = list(walk(shapes, shape_name, model, shape_name))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("shape_name", "model"), DESCRIBED, ids=[name for name, _ in DESCRIBED])
def test_describe_output_members_are_accepted(
    shapes: dict[str, Any], shape_name: str, model: type[BaseModel]
) -> None:
    fields = by_alias(model)
    missing = [member for member in shapes[shape_name]["members"] if member not in fields]
    assert not missing, f"{model.__name__} refuses members of ECS's {shape_name}: {missing}"


def test_required_members_match_ecs(shapes: dict[str, Any]) -> None:
    # serviceName is the one deliberate difference: an EcsService's metadata.name names the service.
    for shape_name, model in ROOTS:
        required = {field.alias or name for name, field in model.model_fields.items() if field.is_required()}
        expected = set(shapes[shape_name].get("required", [])) - {"serviceName"}
        assert required == expected, shape_name


def test_the_walk_notices_a_missing_member(shapes: dict[str, Any]) -> None:
    class Partial(BaseModel):
        family: str

    problems = list(walk(shapes, "RegisterTaskDefinitionRequest", Partial, "RegisterTaskDefinitionRequest"))
    assert "RegisterTaskDefinitionRequest.containerDefinitions: missing from Partial" in problems


def test_the_walk_notices_a_different_enum(shapes: dict[str, Any]) -> None:
    class PortMapping(BaseModel):
        protocol: Literal["tcp"] | None = None

    problems = list(walk(shapes, "PortMapping", PortMapping, "PortMapping"))
    assert any(problem.startswith("PortMapping.protocol: enum") for problem in problems)
