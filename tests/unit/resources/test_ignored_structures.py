"""A required list left out inside a structure translation ignores reads as empty; elsewhere it is refused.

Deploy tools drop empty members from the files they write (`"alarms": {"enable": false, "rollback": false}`
without `alarmNames`). Refusing such a file over a member that is only reported anyway helps no one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ecs_operator.resources import SpecError, parse_service, parse_task, parse_task_definition, spec_shapes
from ecs_operator.translate import translate_service, translate_task
from ecs_operator.translate.coverage import ROOTS, SHAPES

from tests.unit.resources.specs import service, task, task_definition

botocore_loaders = pytest.importorskip("botocore.loaders")

Parse = Callable[[dict[str, Any]], Any]


@pytest.fixture(scope="module")
def ecs_shapes() -> dict[str, Any]:
    model: dict[str, Any] = botocore_loaders.Loader().load_service_model("ecs", "service-2")
    return model["shapes"]


def structures_under(ecs_shapes: dict[str, Any], roots: list[str]) -> Iterator[str]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        shape = ecs_shapes[name]
        if shape["type"] == "list":
            pending.append(shape["member"]["shape"])
        elif shape["type"] == "map":
            pending.append(shape["value"]["shape"])
        elif shape["type"] == "structure" and name not in seen:
            seen.add(name)
            yield name
            pending += [member["shape"] for member in shape["members"].values()]


def required_lists(ecs_shapes: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name in structures_under(ecs_shapes, list(ROOTS.values())):
        for member in ecs_shapes[name].get("required", []):
            if ecs_shapes[ecs_shapes[name]["members"][member]["shape"]]["type"] == "list":
                yield name, member


def test_required_lists_are_optional_exactly_in_ignored_structures(ecs_shapes: dict[str, Any]) -> None:
    found = list(required_lists(ecs_shapes))
    assert ("HealthCheck", "command") in found  # a mapped structure keeps its required list
    for name, member in found:
        model = spec_shapes.model(name)
        field = next(f for f in model.model_fields.values() if f.alias == member)
        assert field.is_required() == (name in SHAPES), f"{name}.{member}"


# (case, parse, spec with the list left out, path of the ignored member the translation warns about)
LEFT_OUT: list[tuple[str, Parse, dict[str, Any], str]] = [
    (
        "DeploymentAlarms.alarmNames",
        parse_service,
        {**service(), "deploymentConfiguration": {"alarms": {"enable": False, "rollback": False}}},
        "deploymentConfiguration.alarms",
    ),
    (
        "AwsVpcConfiguration.subnets",
        parse_service,
        {**service(), "networkConfiguration": {"awsvpcConfiguration": {"securityGroups": ["sg-1"]}}},
        "networkConfiguration",
    ),
    (
        "MetricConfiguration.metricNames",
        parse_service,
        {**service(), "monitoring": {"metricConfigurations": [{"resolutionSeconds": 60}]}},
        "monitoring",
    ),
    (
        "AwsVpcConfiguration.subnets (RunTask)",
        parse_task,
        {**task(), "networkConfiguration": {"awsvpcConfiguration": {}}},
        "networkConfiguration",
    ),
]


def test_the_table_covers_every_list_read_as_empty(ecs_shapes: dict[str, Any]) -> None:
    relaxed = {f"{name}.{member}" for name, member in required_lists(ecs_shapes) if name not in SHAPES}
    assert relaxed == {case.split(" ")[0] for case, *_ in LEFT_OUT}


@pytest.mark.parametrize(("parse", "spec", "warned"), [c[1:] for c in LEFT_OUT], ids=[c[0] for c in LEFT_OUT])
def test_a_left_out_list_in_an_ignored_structure_is_accepted_and_reported(
    parse: Parse, spec: dict[str, Any], warned: str
) -> None:
    parsed = parse(spec)
    translate = translate_service if parse is parse_service else translate_task
    taskdef = parse_task_definition(task_definition())
    translation = translate(parsed, taskdef, revision=1, cluster="demo", namespace="demo", name="web")
    assert warned in [w.path for w in translation.warnings]


def test_a_left_out_list_in_a_mapped_structure_is_still_refused() -> None:
    spec = task_definition()
    del spec["containerDefinitions"][0]["healthCheck"]["command"]
    with pytest.raises(SpecError) as caught:
        parse_task_definition(spec)
    assert [str(e) for e in caught.value.errors] == [
        "containerDefinitions[0].healthCheck.command: required member is missing"
    ]
