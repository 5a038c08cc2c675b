"""The ECS API's way in (`check_*_request`: members checked against botocore's input shape, then ECS's
limits and rules) and a custom resource's (`parse_*`: the spec model, then the same limits and rules) agree:
the same ECS JSON, in the same order, or the same errors, and a request is never checked twice."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from ecs_operator.awsmodel.check import problems
from ecs_operator.awsmodel.ecs import INPUTS
from ecs_operator.resources import (
    SpecError,
    check_cluster_request,
    check_service_request,
    check_task_definition_request,
    check_task_request,
    parse_cluster,
    parse_service,
    parse_task,
    parse_task_definition,
)
from ecs_operator.resources.base import EcsShape
from hypothesis import HealthCheck, given, settings

from tests import corpus
from tests.unit.resources import specs
from tests.unit.resources import test_service_task_cluster_rules as other_rules
from tests.unit.resources import test_taskdefinition_rules as task_definition_rules
from tests.unit.resources.test_properties import task_definitions

Way = Callable[[dict[str, Any]], dict[str, Any]]
WAYS: dict[str, tuple[Way, Way]] = {
    "RegisterTaskDefinition": (parse_task_definition, check_task_definition_request),
    "CreateService": (parse_service, check_service_request),
    "RunTask": (parse_task, check_task_request),
    "CreateCluster": (parse_cluster, check_cluster_request),
}
OPERATION_OF = {parse_service: "CreateService", parse_task: "RunTask", parse_cluster: "CreateCluster"}


def cases() -> list[tuple[str, str, dict[str, Any]]]:
    """Specs of the rule tables and the corpus that pass the ECS API's member check (the others are refused
    before ECS's rules: test_validate.py)."""
    found: list[tuple[str, str, Any]] = []
    for name, mutate, *_ in [*task_definition_rules.INVALID, *task_definition_rules.VALID]:
        body = specs.task_definition()
        mutate(body)
        found.append((f"task definition: {name}", "RegisterTaskDefinition", body))
    for name, parser, base, mutate, *_ in other_rules.INVALID:
        body = base()
        mutate(body)
        operation = OPERATION_OF[parser]  # type: ignore[index]
        if operation == "CreateService":
            body.setdefault("serviceName", "web")
        found.append((name, operation, body))
    found += [
        ("a valid service", "CreateService", {**specs.service(), "serviceName": "web"}),
        ("a valid task", "RunTask", specs.task()),
        ("a valid cluster", "CreateCluster", specs.cluster()),
    ]
    for path in corpus.example_files("taskdefs"):
        try:
            found.append((path.name, "RegisterTaskDefinition", json.loads(path.read_text())))
        except ValueError:
            continue
    return [
        (n, op, body) for n, op, body in found if isinstance(body, dict) and not problems(INPUTS[op], body)
    ]


CASES = cases()


def outcome(way: Way, body: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", json.dumps(way(copy.deepcopy(body)))  # the order of members counts too
    except SpecError as error:
        return "refused", [str(e) for e in error.errors]


@pytest.mark.parametrize(("operation", "body"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_checked_request_and_a_parsed_spec_agree(operation: str, body: dict[str, Any]) -> None:
    parse, check = WAYS[operation]
    assert outcome(check, body) == outcome(parse, body)


def test_the_cases_cover_every_operation_accepted_and_refused() -> None:
    seen = {(operation, outcome(WAYS[operation][0], body)[0]) for _, operation, body in CASES}
    assert seen == {(operation, result) for operation in WAYS for result in ("ok", "refused")}


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(task_definitions())
def test_valid_task_definitions_are_the_same_ecs_json_both_ways(spec: dict[str, Any]) -> None:
    assert outcome(check_task_definition_request, spec) == outcome(parse_task_definition, spec)


def test_a_request_goes_through_no_spec_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ECS API has checked a request's members: the spec models would check them a second time."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a spec model checked a request")

    monkeypatch.setattr(EcsShape, "model_validate", classmethod(refuse))
    request = {**specs.task_definition(), "cpu": "0.5 vCPU", "memory": "1 GB"}
    assert check_task_definition_request(request)["cpu"] == "512"
    assert check_service_request({**specs.service(), "desiredCount": 3})["desiredCount"] == 3
    with pytest.raises(AssertionError, match="a spec model"):
        parse_task_definition(request)


def test_nulls_are_dropped_and_sizes_normalized_as_a_spec_is() -> None:
    request = specs.task_definition()
    request["containerDefinitions"][0]["healthCheck"]["retries"] = None
    request["cpu"], request["memory"] = 512, "1 GB"
    checked = check_task_definition_request(request)
    assert "retries" not in checked["containerDefinitions"][0]["healthCheck"]
    assert (checked["cpu"], checked["memory"]) == ("512", "1024")
    assert list(check_task_definition_request(dict(reversed(request.items())))) == list(checked)
