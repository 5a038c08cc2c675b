"""Where a service meets its task definition: CreateService refuses a load balancer on a container the task
definition does not have, or on a port that container does not map (InvalidParameterException)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ecs_operator.resources import (
    SpecError,
    check_service_against_task_definition,
    parse_service,
    parse_task_definition,
)

from tests.unit.resources.specs import service, task_definition

Mutation = Callable[[dict[str, Any], dict[str, Any]], object]


def balancer(spec: dict[str, Any], index: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = spec["loadBalancers"][index]
    return found


def check(mutation: Mutation) -> None:
    svc, td = service(), task_definition()
    mutation(svc, td)
    check_service_against_task_definition(parse_service(svc), parse_task_definition(td))


REFUSED: list[tuple[str, Mutation, list[str]]] = [
    (
        "no such container",
        lambda s, _: balancer(s).update(containerName="web"),
        ["loadBalancers[0].containerName: The container web does not exist in the task definition."],
    ),
    (
        "names are case-sensitive",
        lambda s, _: balancer(s).update(containerName="Nginx"),
        ["loadBalancers[0].containerName: The container Nginx does not exist in the task definition."],
    ),
    (
        "port not mapped",
        lambda s, _: balancer(s).update(containerPort=8080),
        ["loadBalancers[0].containerPort: The container nginx did not have a container port 8080 defined."],
    ),
    (
        "port mapped by another container only",
        lambda s, td: (
            td["containerDefinitions"][1].update(portMappings=[{"containerPort": 9000}]),
            balancer(s).update(containerPort=9000),
        ),
        ["loadBalancers[0].containerPort: The container nginx did not have a container port 9000 defined."],
    ),
    (
        "container without port mappings",
        lambda s, _: balancer(s).update(containerName="agent"),
        ["loadBalancers[0].containerPort: The container agent did not have a container port 80 defined."],
    ),
    (
        "every load balancer is checked",
        lambda s, _: s["loadBalancers"].extend(
            [{"containerName": "nginx", "containerPort": 80}, {"containerName": "db", "containerPort": 5432}]
        ),
        ["loadBalancers[2].containerName: The container db does not exist in the task definition."],
    ),
]


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_like_create_service(mutation: Mutation, expected: list[str]) -> None:
    with pytest.raises(SpecError) as caught:
        check(mutation)
    assert [str(error) for error in caught.value.errors] == expected
    assert caught.value.ecs_exception == "InvalidParameterException"


ACCEPTED: list[tuple[str, Mutation]] = [
    ("the container and its port", lambda s, td: None),
    ("no load balancers", lambda s, _: s.pop("loadBalancers")),
    (
        "a second mapping of the container",
        lambda s, td: (
            td["containerDefinitions"][0]["portMappings"].append({"containerPort": 443}),
            balancer(s).update(containerPort=443),
        ),
    ),
    ("a udp mapping", lambda s, td: td["containerDefinitions"][0]["portMappings"][0].update(protocol="udp")),
]


@pytest.mark.parametrize("mutation", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted(mutation: Mutation) -> None:
    check(mutation)
