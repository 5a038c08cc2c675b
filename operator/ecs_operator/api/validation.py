"""Cross-field rules ECS applies when it registers a task definition, creates a service or runs a task.

Single-member rules (types, enums, ranges, lengths) live on the models; each rule here returns every
`FieldError` it finds, with the path of the member at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ecs_operator.api.errors import FieldError, SpecError, join_path
from ecs_operator.api.shapes import (
    CapacityProviderStrategyItem,
    ContainerDefinition,
    CreateClusterRequest,
    CreateServiceRequest,
    DeploymentConfiguration,
    LaunchType,
    RegisterTaskDefinitionRequest,
    RunTaskRequest,
)

NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
NAME_RULE = "must be 1-255 letters, numbers, hyphens and underscores"
TASK_DEFINITION_REFERENCE = re.compile(
    r"^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?[A-Za-z0-9_-]{1,255}(?::[1-9]\d*)?$"
)
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
    if spec.service_name is not None and not NAME.match(spec.service_name):
        errors.append(FieldError("serviceName", f"{spec.service_name!r} {NAME_RULE}"))
    external = spec.deployment_controller is not None and spec.deployment_controller.type == "EXTERNAL"
    if spec.task_definition is None and not external:
        errors.append(
            FieldError("taskDefinition", "required member is missing (only EXTERNAL deployments omit it)")
        )
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
                path = join_path("loadBalancers", index, member)
                errors.append(
                    FieldError(path, "required member is missing (the container to route traffic to)")
                )
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
    if spec.cluster_name is not None and not NAME.match(spec.cluster_name):
        return [FieldError("clusterName", f"{spec.cluster_name!r} {NAME_RULE}")]
    return []


def _family(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    if not NAME.match(spec.family):
        yield FieldError("family", f"{spec.family!r} {NAME_RULE}")


def _container_path(index: int, *members: str | int) -> str:
    return join_path("containerDefinitions", index, *members)


def _container_names(containers: Sequence[ContainerDefinition]) -> Iterator[FieldError]:
    seen: dict[str, int] = {}
    for index, container in enumerate(containers):
        if not container.image:
            yield FieldError(_container_path(index, "image"), "required member is missing or empty")
        if not container.name:
            yield FieldError(_container_path(index, "name"), "required member is missing or empty")
            continue
        if not NAME.match(container.name):
            yield FieldError(_container_path(index, "name"), f"{container.name!r} {NAME_RULE}")
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
        sizes = ", ".join(str(size) for size in FARGATE_SIZES)
        yield FieldError("cpu", f"{cpu} is not a Fargate task size (one of {sizes})")
    elif memory not in FARGATE_SIZES[cpu]:
        allowed = FARGATE_SIZES[cpu]
        yield FieldError(
            "memory",
            f"{memory} is not valid with cpu {cpu} on Fargate "
            f"({allowed[0]}-{allowed[-1]} in steps of {allowed[1] - allowed[0]})",
        )


def _memory(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    task_memory = int(spec.memory) if spec.memory is not None else None
    for index, container in enumerate(spec.container_definitions):
        hard, soft = container.memory, container.memory_reservation
        if hard is None and soft is None and task_memory is None:
            yield FieldError(
                _container_path(index),
                "needs memory or memoryReservation when the task sets no memory",
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
                    _container_path(index, member), f"{value} exceeds the task memory {task_memory}"
                )


def _dependencies(containers: Sequence[ContainerDefinition]) -> Iterator[FieldError]:
    names = {container.name for container in containers if container.name}
    graph: dict[str, list[str]] = {}
    for index, container in enumerate(containers):
        for position, dependency in enumerate(container.depends_on or []):
            path = _container_path(index, "dependsOn", position, "containerName")
            target = dependency.container_name
            if target == container.name:
                yield FieldError(path, f"container {target!r} cannot depend on itself")
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
                yield FieldError(path, "links are not supported with networkMode awsvpc")
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
                _container_path(index, "healthCheck", "command"), f"{kind} needs a command after it"
            )


def _port_mappings(spec: RegisterTaskDefinitionRequest) -> Iterator[FieldError]:
    same_port = spec.network_mode in ("awsvpc", "host")
    yield from _host_ports_taken_twice(spec)
    for index, container in enumerate(spec.container_definitions):
        for position, mapping in enumerate(container.port_mappings or []):
            if mapping.container_port is None and mapping.container_port_range is None:
                yield FieldError(
                    _container_path(index, "portMappings", position, "containerPort"),
                    "required member is missing (or give containerPortRange)",
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
    if reference is not None and not TASK_DEFINITION_REFERENCE.match(reference):
        yield FieldError(
            "taskDefinition", f"{reference!r} is not a family, family:revision or task definition ARN"
        )


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
