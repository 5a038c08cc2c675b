"""ECS's cluster query language over container instance descriptions (ListContainerInstances' filter)."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator.ecsapi.cluster_query import matcher
from ecs_operator.ecsapi.errors import InvalidParameterException


def instance(name: str, kind: str, zone: str, running: int, connected: bool = True) -> dict[str, Any]:
    return {
        "ec2InstanceId": name,
        "runningTasksCount": running,
        "pendingTasksCount": 0,
        "agentConnected": connected,
        "status": "ACTIVE",
        "versionInfo": {"agentVersion": "ecs-operator"},
        "attributes": [
            {"name": "ecs.instance-type", "value": kind},
            {"name": "ecs.availability-zone", "value": zone},
            {"name": "team", "value": "web"},
        ],
    }


FLEET = [
    instance("n1", "t3.micro", "us-east-1a", 0),
    instance("n2", "t3.large", "us-east-1b", 3),
    instance("n3", "m5.large", "us-east-1a", 1, connected=False),
]


def chosen(expression: str) -> list[str]:
    test = matcher(expression)
    return [i["ec2InstanceId"] for i in FLEET if test(i)]


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("attribute:ecs.instance-type == t3.micro", ["n1"]),
        ("attribute:ecs.instance-type != t3.micro", ["n2", "n3"]),
        ("ec2InstanceId == n2", ["n2"]),
        ("ec2InstanceId in [n1, n3]", ["n1", "n3"]),
        ("ec2InstanceId not_in [n1, n3]", ["n2"]),
        ("ec2InstanceId not in [n1, n3]", ["n2"]),
        ("runningTasksCount > 0", ["n2", "n3"]),
        ("runningTasksCount >= 3", ["n2"]),
        ("runningTasksCount < 1", ["n1"]),
        ("agentConnected == false", ["n3"]),
        ("attribute:ecs.instance-type =~ t3.*", ["n1", "n2"]),
        ("attribute:ecs.instance-type !~ t3.*", ["n3"]),
        ("attribute:team exists", ["n1", "n2", "n3"]),
        ("attribute:gpu !exists", ["n1", "n2", "n3"]),
        ("attribute:ecs.availability-zone == us-east-1a and runningTasksCount == 0", ["n1"]),
        ("ec2InstanceId == n1 or ec2InstanceId == n2 && runningTasksCount > 2", ["n1", "n2"]),
        ("not (attribute:ecs.availability-zone == us-east-1a)", ["n2"]),
        ("(ec2InstanceId == n1 || ec2InstanceId == n3) and agentConnected == true", ["n1"]),
    ],
)
def test_filters_choose_the_instances_ecs_would(expression: str, names: list[str]) -> None:
    assert chosen(expression) == names


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("", "empty"),
        ("colour == red", "'colour' is not an attribute"),
        ("ec2InstanceId in n1", "needs a list"),
        ("(ec2InstanceId == n1", "not closed"),
        ("ec2InstanceId ==", "ends too early"),
        ("attribute:x =~ (", "not a regular expression"),
        ("ec2InstanceId == n1 n2", "unexpected"),
    ],
)
def test_bad_filters_are_refused_naming_the_member(expression: str, problem: str) -> None:
    with pytest.raises(InvalidParameterException, match=f"filter: .*{problem}"):
        matcher(expression)
