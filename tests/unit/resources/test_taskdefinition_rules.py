"""Every task definition rule ECS applies: one valid and one or more invalid cases, each naming its path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ecs_operator.resources import SpecError, parse_task_definition

from tests.unit.resources.specs import task_definition

Mutation = Callable[[dict[str, Any]], object]


def container(spec: dict[str, Any], index: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = spec["containerDefinitions"][index]
    return result


INVALID: list[tuple[str, Mutation, str, str]] = [
    # (case id, mutation, expected path, words the message contains)
    ("family missing", lambda s: s.pop("family"), "family", "required"),
    ("family pattern", lambda s: s.update(family="web app"), "family", "Family contains invalid characters"),
    # Python's `$` would also match before a final newline; the whole value must match
    (
        "family with a final newline",
        lambda s: s.update(family="web\n"),
        "family",
        "letters, numbers, hyphens",
    ),
    ("family too long", lambda s: s.update(family="a" * 256), "family", "at most 255"),
    ("no containers", lambda s: s.update(containerDefinitions=[]), "containerDefinitions", "at least 1"),
    (
        "eleven containers",
        lambda s: s.update(containerDefinitions=[{**container(s), "name": f"c{i}"} for i in range(11)]),
        "containerDefinitions",
        "at most 10",
    ),
    ("unknown member", lambda s: s.update(familly="web"), "familly", "unknown member"),
    (
        "unknown container member",
        lambda s: container(s).update(inferenceDevices=["d"]),
        "containerDefinitions[0].inferenceDevices",
        "unknown member",
    ),
    (
        "network mode enum",
        lambda s: s.update(networkMode="overlay"),
        "networkMode",
        "'overlay' is not one of",
    ),
    (
        "compatibility enum",
        lambda s: s.update(requiresCompatibilities=["LAMBDA"]),
        "requiresCompatibilities[0]",
        "is not one of",
    ),
    (
        "protocol enum",
        lambda s: container(s)["portMappings"][0].update(protocol="http"),
        "containerDefinitions[0].portMappings[0].protocol",
        "'http' is not one of 'tcp' or 'udp'",
    ),
    (
        "memory as string",
        lambda s: container(s).update(memory="512"),
        "containerDefinitions[0].memory",
        "valid integer",
    ),
    (
        "container name missing",
        lambda s: container(s).pop("name"),
        "containerDefinitions[0].name",
        "Container.name should not be null or empty.",
    ),
    (
        "image missing",
        lambda s: container(s).pop("image"),
        "containerDefinitions[0].image",
        "Container.image should not be null or empty.",
    ),
    (
        "image empty",
        lambda s: container(s).update(image=""),
        "containerDefinitions[0].image",
        "Container.image should not be null or empty.",
    ),
    (
        "container name pattern",
        lambda s: container(s, 1).update(name="my agent", dependsOn=[]),
        "containerDefinitions[1].name",
        "letters, numbers",
    ),
    (
        "duplicate container names",
        lambda s: container(s, 1).update(name="nginx", dependsOn=[], volumesFrom=[]),
        "containerDefinitions[1].name",
        "duplicate container name 'nginx'",
    ),
    (
        "no essential container",
        lambda s: container(s).update(essential=False),
        "containerDefinitions",
        "at least one container must be essential",
    ),
    ("fargate needs awsvpc", lambda s: s.update(networkMode="bridge"), "networkMode", "awsvpc"),
    ("fargate needs cpu", lambda s: s.pop("cpu"), "cpu", "required when requiresCompatibilities"),
    (
        "fargate cpu size",
        lambda s: s.update(cpu="384"),
        "cpu",
        "No Fargate configuration exists for given values: 384 CPU, 1024 memory (Fargate task cpu is one "
        "of 256, 512, 1024, 2048, 4096, 8192 or 16384)",
    ),
    (
        "fargate memory pair",
        lambda s: s.update(cpu="256", memory="4096"),
        "memory",
        "No Fargate configuration exists for given values: 256 CPU, 4096 memory "
        "(with 256 CPU, memory is 512, 1024 or 2048)",
    ),
    (
        "fargate memory step",
        lambda s: s.update(cpu="8 vCPU", memory="18 GB"),
        "memory",
        "(with 8192 CPU, memory is 16384-61440 in steps of 4096)",
    ),
    ("task cpu unit", lambda s: s.update(cpu="1 GB"), "cpu", "not an integer or a string like"),
    ("task memory garbage", lambda s: s.update(memory="lots"), "memory", "not an integer or a string like"),
    ("task memory fraction", lambda s: s.update(memory="0.0001 GB"), "memory", "positive whole number"),
    (
        "task size longer than any real one",
        lambda s: s.update(cpu="512" + " " * 30),
        "cpu",
        "not an integer or a string like",
    ),
    (
        "container without memory",
        lambda s: (
            s.update(requiresCompatibilities=["EC2"]),
            s.pop("memory"),
            s.pop("cpu"),
            container(s, 1).pop("memory", None),
        ),
        "containerDefinitions[1]",
        "Invalid setting for container 'agent'. At least one of 'memory' or 'memoryReservation' must be "
        "specified.",
    ),
    (
        "container memory above task memory",
        lambda s: container(s).update(memory=4096),
        "containerDefinitions[0].memory",
        "The 'memory' setting for container 'nginx' is greater than for the task.",
    ),
    (
        "reservation above task memory",
        lambda s: container(s).update(memory=None, memoryReservation=2048),
        "containerDefinitions[0].memoryReservation",
        "The 'memoryReservation' setting for container 'nginx' is greater than for the task.",
    ),
    (
        "reservation above memory",
        lambda s: container(s).update(memoryReservation=768),
        "containerDefinitions[0].memoryReservation",
        "768 exceeds the container memory 512",
    ),
    (
        "dependsOn unknown container",
        lambda s: container(s, 1)["dependsOn"][0].update(containerName="db"),
        "containerDefinitions[1].dependsOn[0].containerName",
        "no container named 'db'",
    ),
    (
        "dependsOn itself",
        lambda s: container(s, 1)["dependsOn"][0].update(containerName="agent"),
        "containerDefinitions[1].dependsOn[0].containerName",
        "cannot depend on itself",
    ),
    (
        "dependsOn cycle",
        lambda s: container(s).update(dependsOn=[{"containerName": "agent", "condition": "START"}]),
        "containerDefinitions[1].dependsOn",
        "dependency cycle: agent -> nginx -> agent",
    ),
    (
        "dependsOn condition enum",
        lambda s: container(s, 1)["dependsOn"][0].update(condition="READY"),
        "containerDefinitions[1].dependsOn[0].condition",
        "is not one of",
    ),
    (
        "links to unknown container",
        lambda s: (
            s.update(networkMode="bridge", requiresCompatibilities=["EC2"]),
            container(s).update(links=["db:database"]),
        ),
        "containerDefinitions[0].links[0]",
        "no other container named 'db'",
    ),
    (
        "links with awsvpc",
        lambda s: container(s).update(links=["agent"]),
        "containerDefinitions[0].links[0]",
        "not supported with networkMode awsvpc",
    ),
    (
        "volumesFrom unknown container",
        lambda s: container(s, 1)["volumesFrom"][0].update(sourceContainer="db"),
        "containerDefinitions[1].volumesFrom[0].sourceContainer",
        "no other container named 'db'",
    ),
    (
        "mountPoints unknown volume",
        lambda s: container(s)["mountPoints"][0].update(sourceVolume="data"),
        "containerDefinitions[0].mountPoints[0].sourceVolume",
        "no volume named 'data'",
    ),
    (
        "duplicate volume",
        lambda s: s["volumes"].append({"name": "cache"}),
        "volumes[1].name",
        "duplicate volume name 'cache'",
    ),
    (
        "negative container cpu",
        lambda s: container(s).update(cpu=-1),
        "containerDefinitions[0].cpu",
        "greater than or equal to 0",
    ),
    (
        "container memory under 6 MiB",
        lambda s: container(s).update(memory=5),
        "containerDefinitions[0].memory",
        "greater than or equal to 6",
    ),
    (
        "container port above 65535",
        lambda s: container(s)["portMappings"][0].update(containerPort=65536),
        "containerDefinitions[0].portMappings[0].containerPort",
        "less than or equal to 65535",
    ),
    (
        "health check interval low",
        lambda s: container(s)["healthCheck"].update(interval=4),
        "containerDefinitions[0].healthCheck.interval",
        "greater than or equal to 5",
    ),
    (
        "health check interval high",
        lambda s: container(s)["healthCheck"].update(interval=301),
        "containerDefinitions[0].healthCheck.interval",
        "less than or equal to 300",
    ),
    (
        "health check timeout",
        lambda s: container(s)["healthCheck"].update(timeout=1),
        "containerDefinitions[0].healthCheck.timeout",
        "greater than or equal to 2",
    ),
    (
        "health check retries",
        lambda s: container(s)["healthCheck"].update(retries=11),
        "containerDefinitions[0].healthCheck.retries",
        "less than or equal to 10",
    ),
    (
        "health check start period",
        lambda s: container(s)["healthCheck"].update(startPeriod=301),
        "containerDefinitions[0].healthCheck.startPeriod",
        "less than or equal to 300",
    ),
    (
        "health check without command",
        lambda s: container(s)["healthCheck"].update(command=["CMD-SHELL"]),
        "containerDefinitions[0].healthCheck.command",
        "needs a command",
    ),
    (
        "awsvpc host port",
        lambda s: container(s)["portMappings"][0].update(hostPort=8080),
        "containerDefinitions[0].portMappings[0].hostPort",
        "8080 must equal containerPort 80",
    ),
    (
        "port mapping without port",
        lambda s: container(s)["portMappings"][0].pop("containerPort"),
        "containerDefinitions[0].portMappings[0].containerPort",
        "required",
    ),
    (
        "host mode port in two containers",
        lambda s: (
            s.update(networkMode="host", requiresCompatibilities=["EC2"]),
            container(s, 1).update(portMappings=[{"containerPort": 80}]),
        ),
        "containerDefinitions[1].portMappings[0].containerPort",
        "host port 80/tcp is already taken by containerDefinitions[0].portMappings[0] (networkMode host)",
    ),
    (
        "bridge host port in two containers",
        lambda s: (
            s.update(networkMode="bridge", requiresCompatibilities=["EC2"]),
            container(s)["portMappings"][0].update(hostPort=8080),
            container(s, 1).update(portMappings=[{"containerPort": 9000, "hostPort": 8080}]),
        ),
        "containerDefinitions[1].portMappings[0].hostPort",
        "host port 8080/tcp is already taken by containerDefinitions[0].portMappings[0]",
    ),
    (
        "bridge host port for two ports of one container",
        lambda s: (
            s.pop("networkMode"),
            s.update(requiresCompatibilities=["EC2"]),
            container(s)["portMappings"][0].update(hostPort=8080),
            container(s)["portMappings"].append({"containerPort": 81, "hostPort": 8080}),
        ),
        "containerDefinitions[0].portMappings[1].hostPort",
        "(networkMode bridge)",
    ),
]


def test_the_base_spec_is_valid() -> None:
    spec = parse_task_definition(task_definition())
    assert spec == task_definition()


@pytest.mark.parametrize(
    ("mutation", "path", "words"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_spec_names_the_path(mutation: Mutation, path: str, words: str) -> None:
    data = task_definition()
    mutation(data)
    with pytest.raises(SpecError) as caught:
        parse_task_definition(data)
    found = {error.path: error.message for error in caught.value.errors}
    assert path in found, f"expected an error at {path}, got {caught.value}"
    assert words in found[path]
    assert f"{path}: {found[path]}" in str(caught.value).splitlines()


VALID: list[tuple[str, Mutation]] = [
    (
        "EC2 with container memory only",
        lambda s: (
            s.update(requiresCompatibilities=["EC2"], networkMode="bridge"),
            s.pop("cpu"),
            s.pop("memory"),
            container(s, 1).update(memoryReservation=64),
        ),
    ),
    (
        "essential defaults to true",
        lambda s: (container(s).pop("essential"), container(s, 1).pop("essential")),
    ),
    (
        "bridge links",
        lambda s: (
            s.update(networkMode="bridge", requiresCompatibilities=["EC2"]),
            container(s, 1).update(links=["nginx:web"]),
        ),
    ),
    (
        "bridge host port",
        lambda s: (
            s.update(networkMode="bridge", requiresCompatibilities=["EC2"]),
            container(s)["portMappings"][0].update(hostPort=8080),
        ),
    ),
    ("awsvpc host port equal", lambda s: container(s)["portMappings"][0].update(hostPort=80)),
    (
        "host mode: one port, two protocols, and a mapping repeated",
        lambda s: (
            s.update(networkMode="host", requiresCompatibilities=["EC2"]),
            container(s)["portMappings"].append({"containerPort": 80}),
            container(s, 1).update(portMappings=[{"containerPort": 80, "protocol": "udp"}]),
        ),
    ),
    (
        "bridge: dynamic host ports and one container port in two containers",
        lambda s: (
            s.update(networkMode="bridge", requiresCompatibilities=["EC2"]),
            container(s)["portMappings"][0].update(hostPort=0),
            container(s, 1).update(
                portMappings=[{"containerPort": 80, "hostPort": 0}, {"containerPort": 80}]
            ),
        ),
    ),
    ("explicit nulls", lambda s: container(s).update(linuxParameters=None, dependsOn=None, user=None)),
    ("blank enum is unset", lambda s: container(s).update(versionConsistency="")),
    ("health check NONE", lambda s: container(s)["healthCheck"].update(command=["NONE"])),
    (
        "health check of a kind Docker ignores (not run, like in ECS)",
        lambda s: container(s)["healthCheck"].update(command=["curl", "-f", "http://localhost/"]),
    ),
    ("fargate largest size", lambda s: s.update(cpu="16384", memory="122880")),
    (
        "output-only members of describe output",
        lambda s: s.update(
            taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
            revision=3,
            status="ACTIVE",
            registeredAt="2024-01-01T00:00:00.000Z",
            registeredBy="arn:aws:iam::123456789012:user/me",
            compatibilities=["EC2", "FARGATE"],
            requiresAttributes=[{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
            deregisteredAt=1700000000.5,
        ),
    ),
]


@pytest.mark.parametrize("mutation", [case[1] for case in VALID], ids=[c[0] for c in VALID])
def test_valid_variants(mutation: Mutation) -> None:
    data = task_definition()
    mutation(data)
    parse_task_definition(data)


def test_output_only_and_null_members_are_dropped() -> None:
    data = task_definition()
    data.update(revision=3, status="ACTIVE", compatibilities=["FARGATE"], pidMode=None, ipcMode="")
    ecs = parse_task_definition(data)
    assert ecs == task_definition()


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        ("1 vCPU", "2 GB", ("1024", "2048")),
        ("0.5 vcpu", "1GB", ("512", "1024")),
        ("0.25 VCPU", "0.5 GB", ("256", "512")),
        (1024, 2048, ("1024", "2048")),
        (" 2048 ", "4096", ("2048", "4096")),
    ],
)
def test_task_sizes_are_normalized(cpu: object, memory: object, expected: tuple[str, str]) -> None:
    data = task_definition()
    data.update(cpu=cpu, memory=memory)
    ecs = parse_task_definition(data)
    assert (ecs["cpu"], ecs["memory"]) == expected


def test_every_error_is_reported_at_once() -> None:
    data = task_definition()
    container(data).update(memory=4096, memoryReservation=8192)
    container(data, 1)["dependsOn"][0].update(containerName="db")
    with pytest.raises(SpecError) as caught:
        parse_task_definition(data)
    assert [error.path for error in caught.value.errors] == [
        "containerDefinitions[0].memoryReservation",
        "containerDefinitions[0].memory",
        "containerDefinitions[0].memoryReservation",
        "containerDefinitions[1].dependsOn[0].containerName",
    ]


def test_a_spec_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(SpecError, match="a spec must be an object"):
        parse_task_definition(["web"])  # type: ignore[arg-type]
