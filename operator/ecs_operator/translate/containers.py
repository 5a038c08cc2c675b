"""ECS container definitions → Kubernetes containers, init containers and native sidecars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.naming import container_name, port_name, unique
from ecs_operator.translate.probes import check_is_run, health_probes
from ecs_operator.translate.result import TranslationWarning
from ecs_operator.translate.secrets import config_map_name, secret_reference
from ecs_operator.translate.volumes import VolumeSet

GPU_RESOURCES = {"GPU": "nvidia.com/gpu", "NeuronDevice": "aws.amazon.com/neurondevice"}
SIDECAR_CONDITIONS = frozenset({"START", "HEALTHY"})


def cpu_quantity(units: int) -> str:
    """ECS CPU units (1024 per vCPU) as a Kubernetes quantity in millicores, rounded down: the containers'
    requests then never add up to more than the task's (pod-level) request, which Kubernetes refuses."""
    return f"{max(1, units * 1000 // 1024)}m"


def memory_quantity(mib: int) -> str:
    return f"{mib}Mi"


@dataclass
class ContainerPlan:
    """How each ECS container becomes a Kubernetes one, decided from all containers at once."""

    names: dict[str, str]
    roles: dict[str, str]  # ECS name → "container" | "init" | "sidecar"
    healthy_targets: set[str]
    order: list[int]  # definition indexes: init/sidecar containers in dependency order, then the rest
    warnings: list[TranslationWarning] = field(default_factory=list)


def kubernetes_container_names(definitions: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """ECS container name → the name its Kubernetes container gets (sanitized, made unique in order)."""
    taken: set[str] = set()
    return {
        str(d.get("name", "")): unique(container_name(str(d.get("name", ""))), taken) for d in definitions
    }


def plan_containers(definitions: Sequence[Mapping[str, Any]]) -> ContainerPlan:
    names = kubernetes_container_names(definitions)
    conditions: dict[str, set[str]] = {}
    for definition in definitions:
        for dependency in definition.get("dependsOn") or ():
            target = str(dependency.get("containerName", ""))
            conditions.setdefault(target, set()).add(str(dependency.get("condition", "START")))
    warnings: list[TranslationWarning] = []
    roles: dict[str, str] = {}
    for index, definition in enumerate(definitions):
        name = str(definition.get("name", ""))
        wanted = conditions.get(name, set())
        if not wanted:
            roles[name] = "container"
        elif wanted & SIDECAR_CONDITIONS:
            roles[name] = "sidecar"
            if wanted - SIDECAR_CONDITIONS:
                warnings.append(
                    TranslationWarning(
                        f"containerDefinitions[{index}].name",
                        "other containers wait both for this container to start and to complete; it runs "
                        "as a native sidecar, so waiting for its completion is not possible",
                    )
                )
        else:
            roles[name] = "init"
            if "COMPLETE" in wanted:
                warnings.append(
                    TranslationWarning(
                        f"containerDefinitions[{index}].name",
                        "COMPLETE dependency: runs as an init container, which must exit 0 (like SUCCESS)",
                    )
                )
    warnings += _healthy_without_check(definitions)
    early = [i for i, d in enumerate(definitions) if roles[str(d.get("name", ""))] != "container"]
    order = _dependency_order(definitions, early) + [i for i in range(len(definitions)) if i not in early]
    healthy = {t for t, c in conditions.items() if "HEALTHY" in c}
    return ContainerPlan(names, roles, healthy, order, warnings)


def _healthy_without_check(definitions: Sequence[Mapping[str, Any]]) -> list[TranslationWarning]:
    """HEALTHY on a container whose health check is not run: ECS registers it, but the container never
    reports HEALTHY there, so ECS never starts the dependant (its agent stops the task or waits out the
    start timeout). Here the dependant starts once the target has started."""
    checked = {str(d.get("name", "")): check_is_run(d.get("healthCheck")) for d in definitions}
    warnings: list[TranslationWarning] = []
    for index, definition in enumerate(definitions):
        for position, dependency in enumerate(definition.get("dependsOn") or ()):
            target = str(dependency.get("containerName", ""))
            if dependency.get("condition") == "HEALTHY" and checked.get(target) is False:
                warnings.append(
                    TranslationWarning(
                        f"containerDefinitions[{index}].dependsOn[{position}].condition",
                        f"HEALTHY, but {target!r} runs no health check, so it never turns healthy: ECS never "
                        f"starts this container; here it starts once {target!r} has started",
                    )
                )
    return warnings


def _dependency_order(definitions: Sequence[Mapping[str, Any]], indexes: list[int]) -> list[int]:
    by_name = {str(definitions[i].get("name", "")): i for i in indexes}
    ordered: list[int] = []
    visiting: set[int] = set()

    def visit(index: int) -> None:
        if index in ordered or index in visiting:
            return
        visiting.add(index)
        for dependency in definitions[index].get("dependsOn") or ():
            target = by_name.get(str(dependency.get("containerName", "")))
            if target is not None:
                visit(target)
        ordered.append(index)

    for index in indexes:
        visit(index)
    return ordered


@dataclass(frozen=True)
class ContainerContext:
    network_mode: str
    workload: str  # "service", "task" or "template"
    grace_period: int
    volumes: VolumeSet


def ports(
    definition: Mapping[str, Any], path: str, network_mode: str, taken: set[str]
) -> tuple[list[dict[str, Any]], dict[tuple[int, str], str], list[TranslationWarning]]:
    """Container ports, the Kubernetes name of each (port, protocol), and warnings."""
    result: list[dict[str, Any]] = []
    names: dict[tuple[int, str], str] = {}
    warnings: list[TranslationWarning] = []
    for index, mapping in enumerate(definition.get("portMappings") or ()):
        here = f"{path}.portMappings[{index}]"
        if "containerPort" not in mapping:
            continue
        number = int(mapping["containerPort"])
        protocol = str(mapping.get("protocol") or "tcp").upper()
        if (number, protocol) in names:
            continue
        wanted = port_name(str(mapping.get("name") or "")) or f"{protocol.lower()}-{number}"
        name = unique(wanted, taken, limit=15)
        if mapping.get("name") and name != mapping["name"]:
            warnings.append(
                TranslationWarning(f"{here}.name", f"renamed to {name!r} (Kubernetes port name rules)")
            )
        port: dict[str, Any] = {"name": name, "containerPort": number, "protocol": protocol}
        host_port = int(mapping.get("hostPort") or 0)
        if network_mode == "host":
            port["hostPort"] = number
        elif network_mode == "bridge" and host_port:
            port["hostPort"] = host_port
        elif host_port and host_port != number:
            warnings.append(
                TranslationWarning(
                    f"{here}.hostPort",
                    f"hostPort {host_port} is ignored in {network_mode} network mode (pods get their own IP)",
                )
            )
        names[(number, protocol)] = name
        result.append(port)
    return result, names, warnings


def _env(definition: Mapping[str, Any], path: str) -> tuple[list[dict[str, Any]], list[TranslationWarning]]:
    env: dict[str, dict[str, Any]] = {}
    warnings: list[TranslationWarning] = []
    for pair in definition.get("environment") or ():
        if "name" in pair:
            env[str(pair["name"])] = {"name": str(pair["name"]), "value": str(pair.get("value", ""))}
    for index, secret in enumerate(definition.get("secrets") or ()):
        reference = secret_reference(str(secret.get("valueFrom", "")))
        if reference.problem:
            warnings.append(TranslationWarning(f"{path}.secrets[{index}].valueFrom", reference.problem))
        env[str(secret.get("name", ""))] = {
            "name": str(secret.get("name", "")),
            "valueFrom": {"secretKeyRef": {"name": reference.name, "key": reference.key}},
        }
    return list(env.values()), warnings


def _resources(definition: Mapping[str, Any], path: str) -> tuple[dict[str, Any], list[TranslationWarning]]:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    warnings: list[TranslationWarning] = []
    if definition.get("cpu"):
        requests["cpu"] = cpu_quantity(int(definition["cpu"]))
    if definition.get("memoryReservation"):
        requests["memory"] = memory_quantity(int(definition["memoryReservation"]))
    if definition.get("memory"):
        limits["memory"] = memory_quantity(int(definition["memory"]))
    for index, requirement in enumerate(definition.get("resourceRequirements") or ()):
        kind = str(requirement.get("type", ""))
        resource = GPU_RESOURCES.get(kind)
        if resource is None:
            warnings.append(
                TranslationWarning(
                    f"{path}.resourceRequirements[{index}]", f"{kind} has no Kubernetes resource; ignored"
                )
            )
        else:
            limits[resource] = str(int(requirement.get("value") or 1))
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return resources, warnings


def _user(user: str, path: str) -> tuple[dict[str, int], list[TranslationWarning]]:
    parts = user.split(":", 1)
    context: dict[str, int] = {}
    unknown = []
    for key, value in zip(("runAsUser", "runAsGroup"), parts, strict=False):
        if value.isdigit():
            context[key] = int(value)
        elif value == "root":
            context[key] = 0
        else:
            unknown.append(value)
    warnings = []
    if unknown:
        warnings.append(
            TranslationWarning(
                path, f"Kubernetes needs numeric ids; {', '.join(unknown)!s} left to the image"
            )
        )
    return context, warnings


def _security_context(
    definition: Mapping[str, Any], path: str
) -> tuple[dict[str, Any], list[TranslationWarning]]:
    context: dict[str, Any] = {}
    warnings: list[TranslationWarning] = []
    if definition.get("user"):
        ids, found = _user(str(definition["user"]), f"{path}.user")
        context.update(ids)
        warnings += found
    if definition.get("privileged"):
        context["privileged"] = True
    if definition.get("readonlyRootFilesystem"):
        context["readOnlyRootFilesystem"] = True
    capabilities = (definition.get("linuxParameters") or {}).get("capabilities") or {}
    caps: dict[str, list[str]] = {}
    for key in ("add", "drop"):
        values = [str(v).removeprefix("CAP_") for v in capabilities.get(key) or ()]
        if values:
            caps[key] = values
    if caps:
        context["capabilities"] = caps
    return context, warnings


def _mounts(
    definitions: Sequence[Mapping[str, Any]],
    index: int,
    volumes: VolumeSet,
    seen: frozenset[int] = frozenset(),
) -> tuple[list[dict[str, Any]], list[TranslationWarning]]:
    definition = definitions[index]
    path = f"containerDefinitions[{index}]"
    mounts: list[dict[str, Any]] = []
    warnings: list[TranslationWarning] = []
    for number, mount in enumerate(definition.get("mountPoints") or ()):
        source = str(mount.get("sourceVolume", ""))
        if source not in volumes.names:
            warnings.append(
                TranslationWarning(
                    f"{path}.mountPoints[{number}].sourceVolume", f"no volume named {source!r}; mount ignored"
                )
            )
            continue
        entry: dict[str, Any] = {
            "name": volumes.names[source],
            "mountPath": str(mount.get("containerPath", "")),
        }
        if mount.get("readOnly"):
            entry["readOnly"] = True
        mounts.append(entry)
    by_name = {str(d.get("name", "")): i for i, d in enumerate(definitions)}
    for source in definition.get("volumesFrom") or ():
        other = by_name.get(str(source.get("sourceContainer", "")))
        if other is None or other in seen or other == index:
            continue
        inherited, _ = _mounts(definitions, other, volumes, seen | {index})
        for entry in inherited:
            copied = dict(entry)
            if source.get("readOnly"):
                copied["readOnly"] = True
            mounts.append(copied)
    return mounts, warnings


def _memory_mounts(definition: Mapping[str, Any], kube_name: str, volumes: VolumeSet) -> list[dict[str, Any]]:
    linux = definition.get("linuxParameters") or {}
    mounts = []
    if linux.get("sharedMemorySize"):
        source = {
            "emptyDir": {"medium": "Memory", "sizeLimit": memory_quantity(int(linux["sharedMemorySize"]))}
        }
        mounts.append({"name": volumes.add_generated(f"{kube_name}-shm", source), "mountPath": "/dev/shm"})
    for number, tmpfs in enumerate(linux.get("tmpfs") or ()):
        empty_dir: dict[str, Any] = {"medium": "Memory"}
        if tmpfs.get("size"):
            empty_dir["sizeLimit"] = memory_quantity(int(tmpfs["size"]))
        name = volumes.add_generated(f"{kube_name}-tmpfs-{number}", {"emptyDir": empty_dir})
        mounts.append({"name": name, "mountPath": str(tmpfs.get("containerPath", ""))})
    return mounts


def build_container(
    definitions: Sequence[Mapping[str, Any]],
    index: int,
    plan: ContainerPlan,
    context: ContainerContext,
    port_names: set[str],
) -> tuple[dict[str, Any], dict[tuple[int, str], str], list[TranslationWarning]]:
    definition = definitions[index]
    path = f"containerDefinitions[{index}]"
    ecs_name = str(definition.get("name", ""))
    name = plan.names[ecs_name]
    role = plan.roles[ecs_name]
    warnings: list[TranslationWarning] = []
    if name != ecs_name:
        warnings.append(
            TranslationWarning(f"{path}.name", f"container is named {name!r} (Kubernetes naming rules)")
        )
    container: dict[str, Any] = {"name": name, "image": str(definition.get("image", ""))}
    if definition.get("entryPoint"):
        container["command"] = [str(part) for part in definition["entryPoint"]]
    if definition.get("command"):
        container["args"] = [str(part) for part in definition["command"]]
    if definition.get("workingDirectory"):
        container["workingDir"] = str(definition["workingDirectory"])
    container_ports, names, found = ports(definition, path, context.network_mode, port_names)
    warnings += found
    if container_ports:
        container["ports"] = container_ports
    env_files = [
        {"configMapRef": {"name": config_map_name(str(item.get("value", "")))}}
        for item in definition.get("environmentFiles") or ()
    ]
    if env_files:
        container["envFrom"] = env_files
    env, found = _env(definition, path)
    warnings += found
    if env:
        container["env"] = env
    resources, found = _resources(definition, path)
    warnings += found
    if resources:
        container["resources"] = resources
    mounts, found = _mounts(definitions, index, context.volumes)
    warnings += found
    mounts += _memory_mounts(definition, name, context.volumes)
    unique_mounts: dict[str, dict[str, Any]] = {}
    for mount in mounts:
        if mount["mountPath"] in unique_mounts:
            warnings.append(
                TranslationWarning(
                    f"{path}.mountPoints", f"{mount['mountPath']} is mounted twice; first mount kept"
                )
            )
            continue
        unique_mounts[mount["mountPath"]] = mount
    if unique_mounts:
        container["volumeMounts"] = list(unique_mounts.values())
    if role == "sidecar":
        container["restartPolicy"] = "Always"
    warnings += _probes(definition, path, role, ecs_name in plan.healthy_targets, context, container)
    security, found = _security_context(definition, path)
    warnings += found
    if security:
        container["securityContext"] = security
    restart = definition.get("restartPolicy") or {}
    if restart.get("enabled") and context.workload == "task":
        warnings.append(
            TranslationWarning(
                f"{path}.restartPolicy.enabled",
                "task pods never restart containers (restartPolicy: Never); the container is not restarted",
            )
        )
    return container, names, warnings


def _probes(
    definition: Mapping[str, Any],
    path: str,
    role: str,
    healthy_target: bool,
    context: ContainerContext,
    container: dict[str, Any],
) -> list[TranslationWarning]:
    health_check = definition.get("healthCheck")
    if not health_check:
        return []
    probes, problem = health_probes(
        health_check, grace_period=context.grace_period, always_startup=healthy_target
    )
    warnings = [TranslationWarning(f"{path}.healthCheck.{problem[0]}", problem[1])] if problem else []
    if probes is None:
        return warnings
    if role == "init":
        warnings.append(
            TranslationWarning(
                f"{path}.healthCheck", "init containers cannot have probes; the health check is not run"
            )
        )
        return warnings
    essential = definition.get("essential", True) is not False
    if essential:
        if probes.startup is not None:
            container["startupProbe"] = probes.startup
        container["readinessProbe"] = probes.readiness
        container["livenessProbe"] = probes.liveness
    elif healthy_target and probes.startup is not None:
        # only for the ordering: the dependants start once it is healthy
        container["startupProbe"] = probes.startup
    else:
        warnings.append(
            TranslationWarning(
                f"{path}.healthCheck",
                "non-essential container: its health does not count for the task in ECS, so no probe is set",
            )
        )
    return warnings
