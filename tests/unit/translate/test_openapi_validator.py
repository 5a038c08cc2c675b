"""The schema validator used by the property and corpus tests rejects what the API server rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.unit.translate.helpers import container, service, taskdef
from tests.unit.translate.openapi import semantic_errors, validate_object

DEPLOYMENT = service(taskdef(container(portMappings=[{"containerPort": 80}]))).objects[-1]


def broken(change: str) -> dict[str, Any]:
    obj = copy.deepcopy(DEPLOYMENT)
    pod = obj["spec"]["template"]["spec"]
    main = pod["containers"][0]
    if change == "unknown field":
        main["imagePullPolicyy"] = "Always"
    elif change == "wrong type":
        main["ports"][0]["containerPort"] = "80"
    elif change == "bad quantity":
        main["resources"]["limits"]["memory"] = "512 MB"
    elif change == "missing required":
        del main["name"]
    elif change == "bad enum":
        main["ports"][0]["protocol"] = "HTTP"
    return obj


@pytest.mark.parametrize(
    "change", ["unknown field", "wrong type", "bad quantity", "missing required", "bad enum"]
)
def test_schema_errors_are_found(change: str) -> None:
    assert validate_object(DEPLOYMENT) == []
    assert validate_object(broken(change)) != []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("containers", 0, "name"), "Side_Car"),
        (("containers", 0, "ports", 0, "name"), "a-very-long-port-name"),
        (("hostAliases",), [{"ip": "10.0.0.1", "hostnames": ["db."]}]),
        (("hostname",), "a.b"),
    ],
)
def test_semantic_errors_are_found(path: tuple[Any, ...], value: Any) -> None:
    assert semantic_errors(DEPLOYMENT) == []
    obj = copy.deepcopy(DEPLOYMENT)
    target = obj["spec"]["template"]["spec"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert semantic_errors(obj) != []
