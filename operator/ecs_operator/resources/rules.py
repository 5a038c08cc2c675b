"""Cross-field rules ECS applies when it registers a task definition, creates a service or runs a task.

Single-member rules (types, enums, ranges, lengths) live on the models; each rule here returns every
`FieldError` it finds, with the path of the member at fault.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ecs_operator.awsmodel.check import join_path
from ecs_operator.resources.shapes import (
    CapacityProviderStrategyItem,
    ContainerDefinition,
    CreateClusterRequest,
    CreateServiceRequest,
    DeploymentConfiguration,
    LaunchType,
    RegisterTaskDefinitionRequest,
    RunTaskRequest,
)
from ecs_operator.resources.spec_errors import FieldError, SpecError

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


def task_definition_errors(spec: RegisterTaskDefinitionRequest) -> list[FieldError]:
    return [
        *_family(spec),
        *_container_names(spec.container_definitions),
        *_essential(spec.container_definitions),
        *_fargate(spec),
        *_memory(spec),
        *_dependencies(spec.container_definitions),
        *_references(spec),
        *_health_checks(spec.container_definitions),
        *_port_mappings(spec),
    ]


def service_errors(spec: CreateServiceRequest) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.service_name is not None and not NAME.fullmatch(spec.service_name):
        errors.append(FieldError("serviceName", NAME_RULE))
    external = spec.deployment_controller is not None and spec.deployment_controller.type == "EXTERNAL"
    if spec.task_definition is None and not external:
        errors.append(FieldError("taskDefinition", TASK_DEFINITION_MISSING))
    errors += _task_definition_reference(spec.task_definition)
    errors += _launch_type_or_strategy(spec.launch_type, spec.capacity_provider_strategy)
    if spec.scheduling_strategy == "DAEMON" and spec.launch_type == "FARGATE":
        errors.append(FieldError("schedulingStrategy", "DAEMON services cannot use the FARGATE launch type"))
    if spec.deployment_configuration is not None:
        errors += _deployment_percents(spec.deployment_configuration)
    for index, balancer in enumerate(spec.load_balancers or []):
        for member, value in (
            ("containerName", balancer.container_name),
            ("containerPort", balancer.container_port),
        ):
            if value is None:
                errors.append(FieldError(join_path("loadBalancers", index, member), BALANCER_MEMBER_MISSING))
    return errors


def check_service_against_task_definition(service: Mapping[str, Any], taskdef: Mapping[str, Any]) -> None:
    """Raise SpecError (ECS's InvalidParameterException) when the service routes traffic to a container the
    task definition does not have, or to a port that container does not map, as CreateService and
    UpdateService refuse it. Both are validated ECS JSON: `parse_service(...).to_ecs()` and
    `parse_task_definition(...).to_ecs()` (or a stored revision's data)."""
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


def task_errors(spec: RunTaskRequest) -> list[FieldError]:
    return [
        *_task_definition_reference(spec.task_definition),
        *_launch_type_or_strategy(spec.launch_type, spec.capacity_provider_strategy),
    ]


def cluster_errors(spec: CreateClusterRequest) -> list[FieldError]:
    if spec.cluster_name is not None and not NAME.fullmatch(spec.cluster_name):
        return [FieldError("clusterName", NAME_RULE)]
    return []


def _family(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    if not NAME.fullmatch(spec.family):
        yield FieldError("family", FAMILY_INVALID)


def _container_path(index: int, *members: str | int) -> str:
    return join_path("containerDefinitions", index, *members)


def _container_names(containers: Sequence[ContainerDefinition]) -> Iterator[FieldError]:
    seen: dict[str, int] = {}
    for index, container in enumerate(containers):
        if not container.image:
            yield FieldError(_container_path(index, "image"), CONTAINER_IMAGE_EMPTY)
        if not container.name:
            yield FieldError(_container_path(index, "name"), CONTAINER_NAME_EMPTY)
            continue
        if not NAME.fullmatch(container.name):
            yield FieldError(_container_path(index, "name"), CONTAINER_NAME_INVALID)
        if container.name in seen:
            yield FieldError(
                _container_path(index, "name"),
                f"duplicate container name {container.name!r} "
                f"(also {_container_path(seen[container.name], 'name')})",
            )
        else:
            seen[container.name] = index


def _essential(containers: Sequence[ContainerDefinition]) -> Iterator[FieldError]:
    if containers and all(container.essential is False for container in containers):
        yield FieldError("containerDefinitions", "at least one container must be essential")


def _fargate(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    if "FARGATE" not in (spec.requires_compatibilities or []):
        return
    if spec.network_mode != "awsvpc":
        yield FieldError("networkMode", f"FARGATE requires networkMode awsvpc, not {spec.network_mode!r}")
    for member, value in (("cpu", spec.cpu), ("memory", spec.memory)):
        if value is None:
            yield FieldError(member, "required when requiresCompatibilities includes FARGATE")
    if spec.cpu is None or spec.memory is None:
        return
    cpu, memory = int(spec.cpu), int(spec.memory)
    if cpu not in FARGATE_SIZES:
        yield FieldError(
            "cpu", NO_FARGATE_CONFIGURATION.format(cpu=cpu, memory=memory, offer=fargate_offer(cpu))
        )
    elif memory not in FARGATE_SIZES[cpu]:
        yield FieldError(
            "memory", NO_FARGATE_CONFIGURATION.format(cpu=cpu, memory=memory, offer=fargate_offer(cpu))
        )


def _memory(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    task_memory = int(spec.memory) if spec.memory is not None else None
    for index, container in enumerate(spec.container_definitions):
        hard, soft = container.memory, container.memory_reservation
        if hard is None and soft is None and task_memory is None:
            yield FieldError(
                _container_path(index), NO_CONTAINER_MEMORY.format(container=container.name or "")
            )
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
                    ABOVE_TASK_MEMORY.format(member=member, container=container.name or ""),
                )


def _dependencies(containers: Sequence[ContainerDefinition]) -> Iterator[FieldError]:
    names = {container.name for container in containers if container.name}
    graph: dict[str, list[str]] = {}
    for index, container in enumerate(containers):
        for position, dependency in enumerate(container.depends_on or []):
            path = _container_path(index, "dependsOn", position, "containerName")
            target = dependency.container_name
            if target == container.name:
                yield FieldError(path, SELF_DEPENDENCY.format(container=target))
            elif target not in names:
                yield FieldError(path, f"no container named {target!r} in containerDefinitions")
            elif container.name:
                graph.setdefault(container.name, []).append(target)
    cycle = _find_cycle(graph)
    if cycle:
        index = next(i for i, container in enumerate(containers) if container.name == cycle[0])
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


def _references(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    containers = {container.name for container in spec.container_definitions if container.name}
    volumes: dict[str, int] = {}
    for index, volume in enumerate(spec.volumes or []):
        if not volume.name:
            yield FieldError(join_path("volumes", index, "name"), "required member is missing or empty")
        elif volume.name in volumes:
            yield FieldError(join_path("volumes", index, "name"), f"duplicate volume name {volume.name!r}")
        else:
            volumes[volume.name] = index
    awsvpc = spec.network_mode == "awsvpc"
    for index, container in enumerate(spec.container_definitions):
        for position, link in enumerate(container.links or []):
            path = _container_path(index, "links", position)
            target = link.split(":", 1)[0]
            if awsvpc:
                yield FieldError(path, LINKS_WITH_AWSVPC)
            elif target not in containers or target == container.name:
                yield FieldError(path, f"no other container named {target!r} in containerDefinitions")
        for position, source in enumerate(container.volumes_from or []):
            path = _container_path(index, "volumesFrom", position, "sourceContainer")
            source_container = source.source_container
            if source_container is None:
                yield FieldError(path, "required member is missing")
            elif source_container not in containers or source_container == container.name:
                yield FieldError(
                    path, f"no other container named {source_container!r} in containerDefinitions"
                )
        for position, mount in enumerate(container.mount_points or []):
            path = _container_path(index, "mountPoints", position, "sourceVolume")
            if mount.source_volume is None:
                yield FieldError(path, "required member is missing")
            elif mount.source_volume not in volumes:
                yield FieldError(path, f"no volume named {mount.source_volume!r} in volumes")


def _health_checks(containers: Sequence[ContainerDefinition]) -> Iterator[FieldError]:
    for index, container in enumerate(containers):
        check = container.health_check
        if check is None:
            continue
        kind = check.command[0]
        if kind in COMMAND_HEALTH_CHECKS and len(check.command) < 2:
            yield FieldError(
                _container_path(index, "healthCheck", "command"), COMMAND_MISSING.format(kind=kind)
            )


def _port_mappings(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    same_port = spec.network_mode in ("awsvpc", "host")
    yield from _host_ports_taken_twice(spec)
    for index, container in enumerate(spec.container_definitions):
        for position, mapping in enumerate(container.port_mappings or []):
            if mapping.container_port is None and mapping.container_port_range is None:
                yield FieldError(
                    _container_path(index, "portMappings", position, "containerPort"), CONTAINER_PORT_MISSING
                )
            elif (
                same_port
                and mapping.host_port not in (None, 0)
                and mapping.container_port is not None
                and mapping.host_port != mapping.container_port
            ):
                yield FieldError(
                    _container_path(index, "portMappings", position, "hostPort"),
                    f"{mapping.host_port} must equal containerPort {mapping.container_port} "
                    f"with networkMode {spec.network_mode}",
                )


def _host_ports_taken_twice(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    """A host port binds once: with networkMode host every containerPort is one, with bridge every hostPort
    (0 = dynamic) is; a second mapping to another container or port could never start (and the Pod is
    refused by Kubernetes). Repeating the same mapping in one container is harmless."""
    mode = spec.network_mode or "bridge"  # ECS's default on Linux
    if mode not in ("host", "bridge"):
        return
    member = "containerPort" if mode == "host" else "hostPort"
    claimed: dict[tuple[int, str], tuple[int, int, int | None]] = {}
    for index, container in enumerate(spec.container_definitions):
        for position, mapping in enumerate(container.port_mappings or []):
            port = mapping.container_port if mode == "host" else mapping.host_port
            if not port:
                continue
            protocol = mapping.protocol or "tcp"
            first = claimed.setdefault((port, protocol), (index, position, mapping.container_port))
            if first[0] == index and first[2] == mapping.container_port:
                continue
            yield FieldError(
                _container_path(index, "portMappings", position, member),
                f"host port {port}/{protocol} is already taken by "
                f"{_container_path(first[0], 'portMappings', first[1])} (networkMode {mode})",
            )


def _task_definition_reference(reference: str | None) -> Iterator[FieldError]:
    if reference is not None and not TASK_DEFINITION_REFERENCE.fullmatch(reference):
        yield FieldError("taskDefinition", NOT_A_TASK_DEFINITION_REFERENCE.format(reference=reference))


def _launch_type_or_strategy(
    launch_type: LaunchType | None, strategy: Sequence[CapacityProviderStrategyItem] | None
) -> Iterator[FieldError]:
    if launch_type is not None and strategy:
        yield FieldError("capacityProviderStrategy", "cannot be combined with launchType; set one of them")


def _deployment_percents(configuration: DeploymentConfiguration) -> Iterator[FieldError]:
    minimum, maximum = configuration.minimum_healthy_percent, configuration.maximum_percent
    if minimum is not None and maximum is not None and maximum < minimum:
        yield FieldError(
            "deploymentConfiguration.maximumPercent",
            f"{maximum} is below minimumHealthyPercent {minimum}",
        )
