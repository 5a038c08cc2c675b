"""Cross-field rules ECS applies when it registers a task definition, creates a service or runs a task.

They read ECS JSON whose members are known to be well typed and within ECS's limits (`parsing.py` checks
those first), whether it came from a custom resource's spec or from a request to the ECS API; each rule
here returns every `FieldError` it finds, with the path of the member at fault.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ecs_operator.awsmodel.check import join_path
from ecs_operator.resources.spec_errors import FieldError, SpecError

Ecs = Mapping[str, Any]  # ECS JSON: a request, or a spec as ECS reads it

# Whole values must match these (Python's fullmatch, RE2 anchored in the CRD's admission rules alike).
NAME_PATTERN = "[A-Za-z0-9_-]{1,255}"
TASK_DEFINITION_REFERENCE_PATTERN = (
    r"(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?[A-Za-z0-9_-]{1,255}(?::[1-9]\d*)?"
)
NAME = re.compile(NAME_PATTERN)
TASK_DEFINITION_REFERENCE = re.compile(TASK_DEFINITION_REFERENCE_PATTERN)
NAME_RULE = "must be 1-255 letters, numbers, hyphens and underscores"

# Messages the admission rules (crdgen.CEL_RULES) repeat word for word; ECS's own wording where it has one.
FAMILY_INVALID = "Family contains invalid characters (up to 255 letters, numbers, hyphens and underscores)."
CONTAINER_NAME_EMPTY = "Container.name should not be null or empty."
CONTAINER_NAME_INVALID = (
    "Container.name contains invalid characters (up to 255 letters, numbers, hyphens and underscores)."
)
CONTAINER_IMAGE_EMPTY = "Container.image should not be null or empty."
TASK_DEFINITION_MISSING = "required member is missing (only EXTERNAL deployments omit it)"
BALANCER_MEMBER_MISSING = "required member is missing (the container to route traffic to)"
CONTAINER_PORT_MISSING = "required member is missing (or give containerPortRange)"
LINKS_WITH_AWSVPC = "links are not supported with networkMode awsvpc"
# Kinds that run a command; others (NONE, or one Docker does not know) are accepted and not run, as in ECS.
COMMAND_HEALTH_CHECKS = ("CMD", "CMD-SHELL")

# Fargate task sizes: CPU units -> the memory sizes (MiB) ECS accepts with them.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


def choices(values: Sequence[int]) -> str:
    """`512, 1024 or 2048`; `1024-4096 in steps of 1024` for longer even runs."""
    steps = {later - earlier for earlier, later in itertools.pairwise(values)}
    if len(values) > 3 and len(steps) == 1:
        return f"{values[0]}-{values[-1]} in steps of {steps.pop()}"
    return ", ".join(str(value) for value in values[:-1]) + f" or {values[-1]}"


FARGATE_CPU_OFFER = f"Fargate task cpu is one of {choices(list(FARGATE_SIZES))}"


def fargate_offer(cpu: int) -> str:
    """What Fargate offers instead of a size pair it does not."""
    if cpu not in FARGATE_SIZES:
        return FARGATE_CPU_OFFER
    return f"with {cpu} CPU, memory is {choices(FARGATE_SIZES[cpu])}"


# Message templates (str.format); crdgen turns the same templates into CEL message expressions.
NO_FARGATE_CONFIGURATION = (
    "No Fargate configuration exists for given values: {cpu} CPU, {memory} memory ({offer})"
)
NO_CONTAINER_MEMORY = (
    "Invalid setting for container '{container}'. At least one of 'memory' or 'memoryReservation' must be "
    "specified."
)
ABOVE_TASK_MEMORY = "The '{member}' setting for container '{container}' is greater than for the task."
SELF_DEPENDENCY = "container '{container}' cannot depend on itself"
COMMAND_MISSING = "{kind} needs a command after it"
NOT_A_TASK_DEFINITION_REFERENCE = "'{reference}' is not a family, family:revision or task definition ARN"


def task_definition_errors(spec: Ecs) -> list[FieldError]:
    containers = _containers(spec)
    return [
        *_family(spec),
        *_container_names(containers),
        *_essential(containers),
        *_fargate(spec),
        *_memory(spec),
        *_dependencies(containers),
        *_references(spec),
        *_health_checks(containers),
        *_port_mappings(spec),
    ]


def _containers(spec: Ecs) -> list[Ecs]:
    return list(spec.get("containerDefinitions") or ())


def service_errors(spec: Ecs) -> list[FieldError]:
    errors: list[FieldError] = []
    name = spec.get("serviceName")
    if name is not None and not NAME.fullmatch(name):
        errors.append(FieldError("serviceName", NAME_RULE))
    external = (spec.get("deploymentController") or {}).get("type") == "EXTERNAL"
    if spec.get("taskDefinition") is None and not external:
        errors.append(FieldError("taskDefinition", TASK_DEFINITION_MISSING))
    errors += _task_definition_reference(spec.get("taskDefinition"))
    errors += _launch_type_or_strategy(spec.get("launchType"), spec.get("capacityProviderStrategy"))
    if spec.get("schedulingStrategy") == "DAEMON" and spec.get("launchType") == "FARGATE":
        errors.append(FieldError("schedulingStrategy", "DAEMON services cannot use the FARGATE launch type"))
    if spec.get("deploymentConfiguration") is not None:
        errors += _deployment_percents(spec["deploymentConfiguration"])
    for index, balancer in enumerate(spec.get("loadBalancers") or ()):
        for member in ("containerName", "containerPort"):
            if balancer.get(member) is None:
                errors.append(FieldError(join_path("loadBalancers", index, member), BALANCER_MEMBER_MISSING))
    return errors


def check_service_against_task_definition(service: Mapping[str, Any], taskdef: Mapping[str, Any]) -> None:
    """Raise SpecError (ECS's InvalidParameterException) when the service routes traffic to a container the
    task definition does not have, or to a port that container does not map, as CreateService and
    UpdateService refuse it. Both are checked ECS JSON (`parse_service`, `check_service_request`,
    `parse_task_definition`, or a stored revision's data)."""
    errors = service_task_definition_errors(service, taskdef)
    if errors:
        raise SpecError(errors, ecs_exception="InvalidParameterException")


def service_task_definition_errors(
    service: Mapping[str, Any], taskdef: Mapping[str, Any]
) -> list[FieldError]:
    ports = {
        container.get("name"): {
            mapping.get("containerPort") for mapping in container.get("portMappings") or ()
        }
        for container in taskdef.get("containerDefinitions") or ()
    }
    errors: list[FieldError] = []
    for index, balancer in enumerate(service.get("loadBalancers") or ()):
        name, port = balancer.get("containerName"), balancer.get("containerPort")
        if name is None or port is None:
            continue  # service_errors reports the missing member
        if name not in ports:
            path = join_path("loadBalancers", index, "containerName")
            errors.append(FieldError(path, f"The container {name} does not exist in the task definition."))
        elif port not in ports[name]:
            path = join_path("loadBalancers", index, "containerPort")
            errors.append(
                FieldError(path, f"The container {name} did not have a container port {port} defined.")
            )
    return errors


def task_errors(spec: Ecs) -> list[FieldError]:
    return [
        *_task_definition_reference(spec.get("taskDefinition")),
        *_launch_type_or_strategy(spec.get("launchType"), spec.get("capacityProviderStrategy")),
    ]


def cluster_errors(spec: Ecs) -> list[FieldError]:
    name = spec.get("clusterName")
    if name is not None and not NAME.fullmatch(name):
        return [FieldError("clusterName", NAME_RULE)]
    return []


def _family(spec: Ecs) -> Iterator[FieldError]:
    if not NAME.fullmatch(str(spec.get("family") or "")):
        yield FieldError("family", FAMILY_INVALID)


def _container_path(index: int, *members: str | int) -> str:
    return join_path("containerDefinitions", index, *members)


def _container_names(containers: Sequence[Ecs]) -> Iterator[FieldError]:
    seen: dict[str, int] = {}
    for index, container in enumerate(containers):
        name = container.get("name")
        if not container.get("image"):
            yield FieldError(_container_path(index, "image"), CONTAINER_IMAGE_EMPTY)
        if not name:
            yield FieldError(_container_path(index, "name"), CONTAINER_NAME_EMPTY)
            continue
        if not NAME.fullmatch(name):
            yield FieldError(_container_path(index, "name"), CONTAINER_NAME_INVALID)
        if name in seen:
            yield FieldError(
                _container_path(index, "name"),
                f"duplicate container name {name!r} (also {_container_path(seen[name], 'name')})",
            )
        else:
            seen[name] = index


def _essential(containers: Sequence[Ecs]) -> Iterator[FieldError]:
    if containers and all(container.get("essential") is False for container in containers):
        yield FieldError("containerDefinitions", "at least one container must be essential")


def _fargate(spec: Ecs) -> Iterator[FieldError]:
    if "FARGATE" not in (spec.get("requiresCompatibilities") or ()):
        return
    mode = spec.get("networkMode")
    if mode != "awsvpc":
        yield FieldError("networkMode", f"FARGATE requires networkMode awsvpc, not {mode!r}")
    for member in ("cpu", "memory"):
        if spec.get(member) is None:
            yield FieldError(member, "required when requiresCompatibilities includes FARGATE")
    if spec.get("cpu") is None or spec.get("memory") is None:
        return
    cpu, memory = int(spec["cpu"]), int(spec["memory"])
    if cpu not in FARGATE_SIZES:
        yield FieldError(
            "cpu", NO_FARGATE_CONFIGURATION.format(cpu=cpu, memory=memory, offer=fargate_offer(cpu))
        )
    elif memory not in FARGATE_SIZES[cpu]:
        yield FieldError(
            "memory", NO_FARGATE_CONFIGURATION.format(cpu=cpu, memory=memory, offer=fargate_offer(cpu))
        )


def _memory(spec: Ecs) -> Iterator[FieldError]:
    task_memory = int(spec["memory"]) if spec.get("memory") is not None else None
    for index, container in enumerate(_containers(spec)):
        hard, soft, name = container.get("memory"), container.get("memoryReservation"), container.get("name")
        if hard is None and soft is None and task_memory is None:
            yield FieldError(_container_path(index), NO_CONTAINER_MEMORY.format(container=name or ""))
        if hard is not None and soft is not None and soft > hard:
            yield FieldError(
                _container_path(index, "memoryReservation"),
                f"{soft} exceeds the container memory {hard}",
            )
        if task_memory is None:
            continue
        for member, value in (("memory", hard), ("memoryReservation", soft)):
            if value is not None and value > task_memory:
                yield FieldError(
                    _container_path(index, member),
                    ABOVE_TASK_MEMORY.format(member=member, container=name or ""),
                )


def _dependencies(containers: Sequence[Ecs]) -> Iterator[FieldError]:
    names = {container["name"] for container in containers if container.get("name")}
    graph: dict[str, list[str]] = {}
    for index, container in enumerate(containers):
        name = container.get("name")
        for position, dependency in enumerate(container.get("dependsOn") or ()):
            path = _container_path(index, "dependsOn", position, "containerName")
            target = dependency.get("containerName")
            if target == name:
                yield FieldError(path, SELF_DEPENDENCY.format(container=target))
            elif target not in names:
                yield FieldError(path, f"no container named {target!r} in containerDefinitions")
            elif name:
                graph.setdefault(name, []).append(target)
    cycle = _find_cycle(graph)
    if cycle:
        index = next(i for i, container in enumerate(containers) if container.get("name") == cycle[0])
        yield FieldError(_container_path(index, "dependsOn"), "dependency cycle: " + " -> ".join(cycle))


def _find_cycle(graph: dict[str, list[str]]) -> list[str]:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str]:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return []
        visiting.append(node)
        for target in graph.get(node, []):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return []

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return []


def _references(spec: Ecs) -> Iterator[FieldError]:
    containers = _containers(spec)
    names = {container["name"] for container in containers if container.get("name")}
    volumes: dict[str, int] = {}
    for index, volume in enumerate(spec.get("volumes") or ()):
        name = volume.get("name")
        if not name:
            yield FieldError(join_path("volumes", index, "name"), "required member is missing or empty")
        elif name in volumes:
            yield FieldError(join_path("volumes", index, "name"), f"duplicate volume name {name!r}")
        else:
            volumes[name] = index
    awsvpc = spec.get("networkMode") == "awsvpc"
    for index, container in enumerate(containers):
        yield from _container_references(index, container, names, volumes, awsvpc)


def _container_references(
    index: int, container: Ecs, names: set[str], volumes: Mapping[str, int], awsvpc: bool
) -> Iterator[FieldError]:
    own = container.get("name")
    for position, link in enumerate(container.get("links") or ()):
        path = _container_path(index, "links", position)
        target = link.split(":", 1)[0]
        if awsvpc:
            yield FieldError(path, LINKS_WITH_AWSVPC)
        elif target not in names or target == own:
            yield FieldError(path, f"no other container named {target!r} in containerDefinitions")
    for position, source in enumerate(container.get("volumesFrom") or ()):
        path = _container_path(index, "volumesFrom", position, "sourceContainer")
        source_container = source.get("sourceContainer")
        if source_container is None:
            yield FieldError(path, "required member is missing")
        elif source_container not in names or source_container == own:
            yield FieldError(path, f"no other container named {source_container!r} in containerDefinitions")
    for position, mount in enumerate(container.get("mountPoints") or ()):
        path = _container_path(index, "mountPoints", position, "sourceVolume")
        source_volume = mount.get("sourceVolume")
        if source_volume is None:
            yield FieldError(path, "required member is missing")
        elif source_volume not in volumes:
            yield FieldError(path, f"no volume named {source_volume!r} in volumes")


def _health_checks(containers: Sequence[Ecs]) -> Iterator[FieldError]:
    for index, container in enumerate(containers):
        check = container.get("healthCheck")
        if check is None:
            continue
        command = check["command"]
        kind = command[0]
        if kind in COMMAND_HEALTH_CHECKS and len(command) < 2:
            yield FieldError(
                _container_path(index, "healthCheck", "command"), COMMAND_MISSING.format(kind=kind)
            )


def _port_mappings(spec: Ecs) -> Iterator[FieldError]:
    mode = spec.get("networkMode")
    yield from _host_ports_taken_twice(spec)
    for index, container in enumerate(_containers(spec)):
        for position, mapping in enumerate(container.get("portMappings") or ()):
            host, port = mapping.get("hostPort"), mapping.get("containerPort")
            if port is None and mapping.get("containerPortRange") is None:
                yield FieldError(
                    _container_path(index, "portMappings", position, "containerPort"), CONTAINER_PORT_MISSING
                )
            elif mode in ("awsvpc", "host") and host not in (None, 0) and port is not None and host != port:
                yield FieldError(
                    _container_path(index, "portMappings", position, "hostPort"),
                    f"{host} must equal containerPort {port} with networkMode {mode}",
                )


def _host_ports_taken_twice(spec: Ecs) -> Iterator[FieldError]:
    """A host port binds once: with networkMode host every containerPort is one, with bridge every hostPort
    (0 = dynamic) is; a second mapping to another container or port could never start (and the Pod is
    refused by Kubernetes). Repeating the same mapping in one container is harmless."""
    mode = spec.get("networkMode") or "bridge"  # ECS's default on Linux
    if mode not in ("host", "bridge"):
        return
    member = "containerPort" if mode == "host" else "hostPort"
    claimed: dict[tuple[int, str], tuple[int, int, int | None]] = {}
    for index, container in enumerate(_containers(spec)):
        for position, mapping in enumerate(container.get("portMappings") or ()):
            port = mapping.get("containerPort") if mode == "host" else mapping.get("hostPort")
            if not port:
                continue
            protocol = mapping.get("protocol") or "tcp"
            first = claimed.setdefault((port, protocol), (index, position, mapping.get("containerPort")))
            if first[0] == index and first[2] == mapping.get("containerPort"):
                continue
            yield FieldError(
                _container_path(index, "portMappings", position, member),
                f"host port {port}/{protocol} is already taken by "
                f"{_container_path(first[0], 'portMappings', first[1])} (networkMode {mode})",
            )


def _task_definition_reference(reference: str | None) -> Iterator[FieldError]:
    if reference is not None and not TASK_DEFINITION_REFERENCE.fullmatch(reference):
        yield FieldError("taskDefinition", NOT_A_TASK_DEFINITION_REFERENCE.format(reference=reference))


def _launch_type_or_strategy(launch_type: str | None, strategy: Sequence[Ecs] | None) -> Iterator[FieldError]:
    if launch_type is not None and strategy:
        yield FieldError("capacityProviderStrategy", "cannot be combined with launchType; set one of them")


def _deployment_percents(configuration: Ecs) -> Iterator[FieldError]:
    minimum, maximum = configuration.get("minimumHealthyPercent"), configuration.get("maximumPercent")
    if minimum is not None and maximum is not None and maximum < minimum:
        yield FieldError(
            "deploymentConfiguration.maximumPercent",
            f"{maximum} is below minimumHealthyPercent {minimum}",
        )
