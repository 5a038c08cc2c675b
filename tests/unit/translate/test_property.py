"""Property: valid task definitions, services and tasks translate into schema-valid Kubernetes objects."""

from __future__ import annotations

from typing import Any

from ecs_operator.resources import SpecError, parse_service, parse_task_definition
from ecs_operator.translate import translate_service, translate_task, translate_task_definition
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.unit.translate.openapi import semantic_errors, validate_object
from tests.unit.translate.strategies import services, task_definitions


def normalized(taskdef: dict[str, Any]) -> dict[str, Any]:
    try:
        return parse_task_definition(taskdef)
    except SpecError:
        assume(False)
        raise


def assert_valid(objects: list[dict[str, Any]]) -> None:
    errors = [error for obj in objects for error in validate_object(obj) + semantic_errors(obj)]
    assert errors == []


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(task_definitions())
def test_task_definitions_translate_to_schema_valid_objects(taskdef: dict[str, Any]) -> None:
    spec = normalized(taskdef)
    translation = translate_task_definition(spec, revision=1, cluster="demo", namespace="demo")
    assert_valid(translation.objects)
    assert translation == translate_task_definition(spec, revision=1, cluster="demo", namespace="demo")
    tasks = translate_task(
        {"taskDefinition": spec["family"], "count": 2},
        spec,
        revision=1,
        cluster="demo",
        namespace="demo",
        name="run",
    )
    assert_valid(tasks.objects)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(st.data())
def test_services_translate_to_schema_valid_objects(data: st.DataObject) -> None:
    spec = normalized(data.draw(task_definitions()))
    body = data.draw(services(spec))
    try:
        service = parse_service(body)
    except SpecError:
        assume(False)
        raise
    translation = translate_service(service, spec, revision=3, cluster="demo", namespace="demo", name="web")
    assert_valid(translation.objects)
    workloads = [o for o in translation.objects if o["kind"] in ("Deployment", "DaemonSet")]
    assert len(workloads) == 1
