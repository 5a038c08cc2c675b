"""Property tests: valid specs round-trip unchanged; a mutated spec is refused naming the mutated path."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from ecs_operator.resources import SpecError, parse_service, parse_task_definition
from ecs_operator.resources.rules import FARGATE_SIZES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}", fullmatch=True)
TEXT = st.text(max_size=40)
ENUM_MEMBERS = {"networkMode", "protocol", "logDriver", "condition", "launchType", "schedulingStrategy"}

port_mappings = st.lists(
    st.fixed_dictionaries(
        {"containerPort": st.integers(1, 65535)},
        optional={"protocol": st.sampled_from(["tcp", "udp"]), "name": NAMES},
    ),
    max_size=3,
)
health_checks = st.fixed_dictionaries(
    {"command": st.tuples(st.sampled_from(["CMD", "CMD-SHELL"]), TEXT).map(list)},
    optional={
        "interval": st.integers(5, 300),
        "timeout": st.integers(2, 60),
        "retries": st.integers(1, 10),
        "startPeriod": st.integers(0, 300),
    },
)
containers = st.fixed_dictionaries(
    {"name": NAMES, "image": st.sampled_from(["nginx:1.27", "busybox", "public.ecr.aws/x/y@sha256:0a1b"])},
    optional={
        "cpu": st.integers(0, 4096),
        "memory": st.integers(64, 512),
        "essential": st.booleans(),
        "portMappings": port_mappings,
        "command": st.lists(TEXT, max_size=3),
        "entryPoint": st.lists(TEXT, max_size=2),
        "environment": st.lists(st.fixed_dictionaries({"name": NAMES, "value": TEXT}), max_size=3),
        "dockerLabels": st.dictionaries(TEXT, TEXT, max_size=3),
        "healthCheck": health_checks,
        "user": TEXT,
        "readonlyRootFilesystem": st.booleans(),
        "logConfiguration": st.fixed_dictionaries(
            {"logDriver": st.sampled_from(["awslogs", "json-file", "awsfirelens"])},
            optional={"options": st.dictionaries(TEXT, TEXT, max_size=3)},
        ),
    },
)


@st.composite
def task_definitions(draw: st.DrawFn) -> dict[str, Any]:
    defs = draw(st.lists(containers, min_size=1, max_size=4, unique_by=lambda c: c["name"]))
    defs[0]["essential"] = True
    names = [c["name"] for c in defs]
    for index, container in enumerate(defs[1:], start=1):
        targets = names[:index]  # depending only on earlier containers keeps the graph acyclic
        chosen = draw(st.lists(st.sampled_from(targets), max_size=2, unique=True))
        if chosen:
            condition = st.sampled_from(["START", "COMPLETE", "SUCCESS", "HEALTHY"])
            container["dependsOn"] = [{"containerName": t, "condition": draw(condition)} for t in chosen]
    spec: dict[str, Any] = {"family": draw(NAMES), "containerDefinitions": defs}
    if draw(st.booleans()):
        cpu = draw(st.sampled_from(sorted(FARGATE_SIZES)))
        memory = draw(st.sampled_from(FARGATE_SIZES[cpu]))
        spec.update(
            networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu=str(cpu), memory=str(memory)
        )
        for container in defs:
            container.pop("memory", None)
    else:
        spec.update(
            networkMode=draw(st.sampled_from(["bridge", "host", "none"])), requiresCompatibilities=["EC2"]
        )
        for container in defs:
            container.setdefault("memory", 128)
        if spec["networkMode"] == "host":
            _each_host_port_once(defs)
    return spec


def _each_host_port_once(defs: list[dict[str, Any]]) -> None:
    """With networkMode host a containerPort is a host port: a second container cannot bind it (refused)."""
    owners: dict[tuple[int, str], str] = {}
    for container in defs:
        kept = []
        for mapping in container.get("portMappings") or ():
            port = (mapping["containerPort"], mapping.get("protocol", "tcp"))
            if owners.setdefault(port, container["name"]) == container["name"]:
                kept.append(mapping)
        if "portMappings" in container:
            container["portMappings"] = kept


services = st.fixed_dictionaries(
    {"taskDefinition": st.tuples(NAMES, st.integers(1, 999)).map(lambda t: f"{t[0]}:{t[1]}")},
    optional={
        "serviceName": NAMES,
        "desiredCount": st.integers(0, 100),
        "launchType": st.sampled_from(["EC2", "FARGATE", "EXTERNAL"]),
        "deploymentConfiguration": st.fixed_dictionaries(
            {"maximumPercent": st.integers(100, 400), "minimumHealthyPercent": st.integers(0, 100)},
            optional={
                "deploymentCircuitBreaker": st.fixed_dictionaries(
                    {"enable": st.booleans(), "rollback": st.booleans()}
                )
            },
        ),
        "loadBalancers": st.lists(
            st.fixed_dictionaries({"containerName": NAMES, "containerPort": st.integers(1, 65535)}),
            max_size=2,
        ),
        "tags": st.lists(st.fixed_dictionaries({"key": NAMES, "value": NAMES}), max_size=3),
        "enableExecuteCommand": st.booleans(),
    },
)


def path_of(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += f".{part}" if text else part
        else:
            text += f'["{part}"]'
    return text


def locations(node: Any, parts: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (path, value) in a spec, except inside free-form string maps."""
    yield parts, node
    if isinstance(node, dict) and parts[-1:] not in (("dockerLabels",), ("options",)):
        for key, value in node.items():
            yield from locations(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from locations(value, (*parts, index))


def set_at(spec: dict[str, Any], parts: tuple[str | int, ...], value: Any) -> None:
    parent: Any = spec
    for part in parts[:-1]:
        parent = parent[part]
    parent[parts[-1]] = value


def mutations(spec: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, Any]]:
    """(where, expected words, new value): an unknown member, a string for an integer, a bad enum."""
    found: list[tuple[tuple[str | int, ...], str, Any]] = []
    for parts, value in locations(spec):
        if isinstance(value, dict) and parts[-1:] not in (("dockerLabels",), ("options",)):
            found.append(((*parts, "notAnEcsMember"), "unknown member", True))
        elif isinstance(value, int) and not isinstance(value, bool):
            found.append((parts, "valid integer", str(value)))
        elif isinstance(value, str) and parts and parts[-1] in ENUM_MEMBERS:
            found.append((parts, "is not one of", "NOT_AN_ECS_VALUE"))
    return found


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(task_definitions())
def test_valid_task_definitions_round_trip_unchanged(spec: dict[str, Any]) -> None:
    assert parse_task_definition(copy.deepcopy(spec)) == spec


@settings(max_examples=150)
@given(services)
def test_valid_services_round_trip_unchanged(spec: dict[str, Any]) -> None:
    assert parse_service(copy.deepcopy(spec)) == spec


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(task_definitions(), st.data())
def test_mutated_task_definitions_are_refused_at_the_mutated_path(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    parts, words, value = data.draw(st.sampled_from(mutations(spec)))
    set_at(spec, parts, value)
    try:
        parse_task_definition(spec)
    except SpecError as error:
        messages = {e.path: e.message for e in error.errors}
        assert path_of(parts) in messages, str(error)
        assert words in messages[path_of(parts)]
    else:
        raise AssertionError(f"{path_of(parts)} = {value!r} was accepted")


@settings(max_examples=100)
@given(services, st.data())
def test_mutated_services_are_refused_at_the_mutated_path(spec: dict[str, Any], data: st.DataObject) -> None:
    parts, words, value = data.draw(st.sampled_from(mutations(spec)))
    set_at(spec, parts, value)
    try:
        parse_service(spec)
    except SpecError as error:
        messages = {e.path: e.message for e in error.errors}
        assert path_of(parts) in messages, str(error)
        assert words in messages[path_of(parts)]
    else:
        raise AssertionError(f"{path_of(parts)} = {value!r} was accepted")
