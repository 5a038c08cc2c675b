"""Requests are checked against botocore's input shapes, naming every member at fault."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator.awsmodel.check import problems
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.ecsapi.validate import check_request


def message(operation: str, body: Any) -> str:
    with pytest.raises(InvalidParameterException) as caught:
        check_request(operation, body)
    return caught.value.message


def test_a_valid_request_passes() -> None:
    check_request("CreateService", {"serviceName": "web", "taskDefinition": "web:1", "desiredCount": 2})


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        (
            "CreateService",
            {"serviceName": "web", "desiredCount": "2"},
            "desiredCount: must be an integer (got the string '2')",
        ),
        (
            "CreateService",
            {"serviceName": "web", "desiredCount": True},
            "desiredCount: must be an integer (got a boolean)",
        ),
        ("CreateService", {"desiredCount": 1}, "serviceName: required member is missing"),
        ("CreateService", {"serviceName": "web", "colour": "blue"}, "colour: unknown member"),
        ("ListServices", {"launchType": "SPACESHIP"}, "launchType: the string 'SPACESHIP' is not one of EC2"),
        (
            "RegisterTaskDefinition",
            {
                "family": "f",
                "containerDefinitions": [{"name": "a", "portMappings": [{"containerPort": "80"}]}],
            },
            "containerDefinitions[0].portMappings[0].containerPort: must be an integer",
        ),
        ("DescribeServices", {"services": "web"}, "services: must be a list (got the string 'web')"),
        (
            "TagResource",
            {"resourceArn": "x", "tags": [{"key": ""}]},
            "tags[0].key: must have at least 1 characters",
        ),
        ("DescribeClusters", [], "request: must be an object (got a list)"),
    ],
)
def test_each_problem_names_the_member(operation: str, body: Any, expected: str) -> None:
    assert expected in message(operation, body)


def test_every_problem_is_reported_up_to_a_limit() -> None:
    body = {"serviceName": 1, **{f"unknown{i}": i for i in range(10)}}
    text = message("CreateService", body)
    assert text.startswith("unknown0: unknown member") or "serviceName: must be a string" in text
    assert "(and 6 more)" in text
    assert len(problems("CreateServiceRequest", body)) == 11
