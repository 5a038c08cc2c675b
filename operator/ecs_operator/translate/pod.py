"""A task definition (in its service or task context) → a pod spec, pod annotations and warnings."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.naming import dns_label, dns_subdomain
from ecs_operator.translate import placement
from ecs_operator.translate.containers import (
    ContainerContext,
    build_container,
    cpu_quantity,
    memory_quantity,
    plan_containers,
)
from ecs_operator.translate.coverage import unmapped_warnings
from ecs_operator.translate.result import TranslationWarning
from ecs_operator.translate.secrets import pull_secret_name
from ecs_operator.translate.volumes import task_volumes

DEFAULT_STOP_TIMEOUT = 30  # the ECS agent's default, also Kubernetes' default grace period

# Namespaced sysctls Kubernetes allows without kubelet configuration (docs: "safe sysctls", 1.32+).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)


@dataclass(frozen=True)
class PodContext:
    """What the workload around the task definition decides: placement, restart, names."""

    cluster: str
    workload: str  # "service", "task" or "template"
    pool: str
    selector: Mapping[str, str]
    service_account: str | None = None
    grace_period: int = 0
    constraints: Sequence[Mapping[str, Any]] = ()
    strategies: Sequence[Mapping[str, Any]] = ()
    launch_volumes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pod_level_resources: bool = True


@dataclass
class PodBuild:
    spec: dict[str, Any]
    annotations: dict[str, str]
    port_names: dict[str, dict[tuple[int, str], str]]  # ECS container name → (port, protocol) → port name
    warnings: list[TranslationWarning]  # about task definition members (paths relative to it)
    context_warnings: list[TranslationWarning]  # about the service/task members


def tags_annotation(tags: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    if not tags:
        return {}
    pairs = {str(tag.get("key", "")): str(tag.get("value", "")) for tag in tags}
    return {labels.TAGS_ANNOTATION: json.dumps(pairs, sort_keys=True, separators=(",", ":"))}


def build_pod(taskdef: Mapping[str, Any], context: PodContext) -> PodBuild:
    definitions: list[Mapping[str, Any]] = list(taskdef.get("containerDefinitions") or ())
    warnings = list(unmapped_warnings("RegisterTaskDefinitionRequest", taskdef))
    context_warnings: list[TranslationWarning] = []
    network_mode = str(taskdef.get("networkMode") or ("awsvpc" if context.pool == "fargate" else "bridge"))
    launch_path = "" if context.workload == "template" else "volumeConfigurations"
    volumes, found = task_volumes(taskdef, context.launch_volumes, launch_path)
    for warning in found:
        (context_warnings if warning.path.startswith("volumeConfigurations") else warnings).append(warning)
    plan = plan_containers(definitions)
    warnings += plan.warnings
    container_context = ContainerContext(network_mode, context.workload, context.grace_period, volumes)
    init_containers: list[dict[str, Any]] = []
    containers: list[dict[str, Any]] = []
    port_names: dict[str, dict[tuple[int, str], str]] = {}
    taken_ports: set[str] = set()
    listening: dict[tuple[int, str], int] = {}
    for index in plan.order:
        container, names, found = build_container(definitions, index, plan, container_context, taken_ports)
        warnings += found
        for port in names:
            other = listening.setdefault(port, index)
            if other != index:
                warnings.append(
                    TranslationWarning(
                        f"containerDefinitions[{index}].portMappings",
                        f"port {port[0]}/{port[1]} is also used by containerDefinitions[{other}]: the "
                        "containers of a pod share one network namespace, so only one can listen on it",
                    )
                )
        ecs_name = str(definitions[index].get("name", ""))
        port_names[ecs_name] = names
        (containers if plan.roles[ecs_name] == "container" else init_containers).append(container)

    spec: dict[str, Any] = {}
    if context.service_account:
        spec["serviceAccountName"] = context.service_account
    if init_containers:
        spec["initContainers"] = init_containers
    spec["containers"] = containers
    if volumes.volumes:
        spec["volumes"] = volumes.volumes
    warnings += _pod_settings(taskdef, definitions, network_mode, spec)
    resources = _pod_resources(taskdef)
    if resources and context.pod_level_resources:
        spec["resources"] = resources
    elif resources:
        _spread_task_size(taskdef, spec["containers"])
    pulls = sorted(
        {
            pull_secret_name(str(d["repositoryCredentials"]["credentialsParameter"]))
            for d in definitions
            if (d.get("repositoryCredentials") or {}).get("credentialsParameter")
        }
    )
    if pulls:
        spec["imagePullSecrets"] = [{"name": name} for name in pulls]
    warnings += _placement(taskdef, context, spec, context_warnings)
    return PodBuild(spec, _annotations(definitions), port_names, warnings, context_warnings)


def _pod_settings(
    taskdef: Mapping[str, Any],
    definitions: Sequence[Mapping[str, Any]],
    network_mode: str,
    spec: dict[str, Any],
) -> list[TranslationWarning]:
    warnings: list[TranslationWarning] = []
    _namespaces(taskdef, definitions, network_mode, spec, warnings)
    if any(d.get("stopTimeout") is not None for d in definitions):
        spec["terminationGracePeriodSeconds"] = max(
            int(d["stopTimeout"]) if d.get("stopTimeout") is not None else DEFAULT_STOP_TIMEOUT
            for d in definitions
        )
    wide = _pod_wide(definitions, network_mode, warnings)
    _dns(wide, network_mode, spec, warnings)
    if wide.aliases:
        spec["hostAliases"] = [{"ip": ip, "hostnames": names} for ip, names in wide.aliases.items()]
    _hostname(wide.hostnames, spec, warnings)
    if wide.sysctls:
        spec["securityContext"] = {"sysctls": [{"name": k, "value": v} for k, v in wide.sysctls.items()]}
    return warnings


def _namespaces(
    taskdef: Mapping[str, Any],
    definitions: Sequence[Mapping[str, Any]],
    network_mode: str,
    spec: dict[str, Any],
    warnings: list[TranslationWarning],
) -> None:
    if network_mode == "host":
        spec["hostNetwork"] = True
    elif network_mode == "none":
        warnings.append(
            TranslationWarning("networkMode", "pods always have a network interface; the pod network is used")
        )
    pid_mode, ipc_mode = taskdef.get("pidMode"), taskdef.get("ipcMode")
    if pid_mode == "host":
        spec["hostPID"] = True
    if ipc_mode == "host":
        spec["hostIPC"] = True
    elif ipc_mode == "none":
        warnings.append(TranslationWarning("ipcMode", "containers of a pod always share an IPC namespace"))
    init_process = any((d.get("linuxParameters") or {}).get("initProcessEnabled") for d in definitions)
    if (pid_mode == "task" or init_process) and pid_mode != "host":
        spec["shareProcessNamespace"] = True


@dataclass
class _PodWide:
    """Container settings that a pod holds once: DNS, /etc/hosts entries, its hostname, sysctls."""

    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    hostnames: list[tuple[int, str]] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)


def _pod_wide(
    definitions: Sequence[Mapping[str, Any]], network_mode: str, warnings: list[TranslationWarning]
) -> _PodWide:
    wide = _PodWide()
    for index, definition in enumerate(definitions):
        path = f"containerDefinitions[{index}]"
        wide.nameservers += [
            str(s) for s in definition.get("dnsServers") or () if str(s) not in wide.nameservers
        ]
        wide.searches += [
            str(s) for s in definition.get("dnsSearchDomains") or () if str(s) not in wide.searches
        ]
        for number, entry in enumerate(definition.get("extraHosts") or ()):
            here = f"{path}.extraHosts[{number}].hostname"
            address, hostname = str(entry.get("ipAddress", "")), str(entry.get("hostname", ""))
            _alias(wide.aliases, address, hostname, here, warnings)
        for number, link in enumerate(definition.get("links") or ()):
            _alias(wide.aliases, "127.0.0.1", str(link).split(":")[-1], f"{path}.links[{number}]", warnings)
        if definition.get("hostname"):
            wide.hostnames.append((index, str(definition["hostname"])))
        for number, control in enumerate(definition.get("systemControls") or ()):
            _sysctl(wide.sysctls, control, network_mode, f"{path}.systemControls[{number}]", warnings)
    return wide


def _sysctl(
    sysctls: dict[str, str],
    control: Mapping[str, Any],
    network_mode: str,
    here: str,
    warnings: list[TranslationWarning],
) -> None:
    name, value = str(control.get("namespace", "")), str(control.get("value", ""))
    if name not in SAFE_SYSCTLS:
        warnings.append(
            TranslationWarning(
                here,
                f"{name} is not a safe sysctl: allow it on the kubelet (--allowed-unsafe-sysctls) "
                "and add it to the pod by hand; ignored",
            )
        )
    elif network_mode == "host" and name.startswith("net."):
        warnings.append(TranslationWarning(here, f"{name} cannot be set with the host network; ignored"))
    elif sysctls.setdefault(name, value) != value:
        warnings.append(
            TranslationWarning(here, f"{name} is pod-wide; the first container's value {sysctls[name]} wins")
        )


def _dns(wide: _PodWide, network_mode: str, spec: dict[str, Any], warnings: list[TranslationWarning]) -> None:
    if wide.nameservers:
        spec["dnsPolicy"] = "None"
    elif network_mode == "host":
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    dns_config: dict[str, Any] = {}
    if wide.nameservers:
        dns_config["nameservers"] = wide.nameservers[:3]
        if len(wide.nameservers) > 3:
            warnings.append(
                TranslationWarning("containerDefinitions", "at most 3 DNS servers; the rest dropped")
            )
    if wide.searches:
        dns_config["searches"] = wide.searches[:32]
    if dns_config:
        spec["dnsConfig"] = dns_config


def _hostname(
    hostnames: Sequence[tuple[int, str]], spec: dict[str, Any], warnings: list[TranslationWarning]
) -> None:
    if not hostnames:
        return
    index, hostname = hostnames[0]
    spec["hostname"] = dns_label(hostname.split(".")[0])
    if spec["hostname"] != hostname:
        warnings.append(
            TranslationWarning(
                f"containerDefinitions[{index}].hostname",
                f"pod hostname is {spec['hostname']!r} (a DNS label)",
            )
        )
    for other, name in hostnames[1:]:
        if name != hostname:
            warnings.append(
                TranslationWarning(
                    f"containerDefinitions[{other}].hostname",
                    f"a pod has one hostname; {hostname!r} is used",
                )
            )


def _alias(
    aliases: dict[str, list[str]], ip: str, hostname: str, path: str, warnings: list[TranslationWarning]
) -> None:
    name = dns_subdomain(hostname.rstrip("."), fallback="")
    if not name:
        warnings.append(TranslationWarning(path, f"{hostname!r} is not a host name; ignored"))
        return
    if name != hostname:
        warnings.append(
            TranslationWarning(path, f"written as {name!r} (host aliases are lowercase DNS names)")
        )
    hosts = aliases.setdefault(ip, [])
    if name not in hosts:
        hosts.append(name)


def _pod_resources(taskdef: Mapping[str, Any]) -> dict[str, Any]:
    size: dict[str, str] = {}
    if str(taskdef.get("cpu") or "").isdigit():
        size["cpu"] = cpu_quantity(int(taskdef["cpu"]))
    if str(taskdef.get("memory") or "").isdigit():
        size["memory"] = memory_quantity(int(taskdef["memory"]))
    return {"requests": dict(size), "limits": dict(size)} if size else {}


def _spread_task_size(taskdef: Mapping[str, Any], containers: list[dict[str, Any]]) -> None:
    """Without pod-level resources: containers that set no memory limit share what the others leave."""
    if not str(taskdef.get("memory") or "").isdigit():
        return
    task_memory = int(taskdef["memory"])
    unset = [c for c in containers if "memory" not in c.get("resources", {}).get("limits", {})]
    used = sum(
        int(c["resources"]["limits"]["memory"].removesuffix("Mi")) for c in containers if c not in unset
    )
    if unset and task_memory > used:
        share = (task_memory - used) // len(unset)
        for container in unset:
            container.setdefault("resources", {}).setdefault("limits", {})["memory"] = memory_quantity(share)


def _annotations(definitions: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    annotations: dict[str, str] = {}
    docker_labels = {str(d.get("name")): d["dockerLabels"] for d in definitions if d.get("dockerLabels")}
    if docker_labels:
        annotations[labels.DOCKER_LABELS_ANNOTATION] = json.dumps(
            docker_labels, sort_keys=True, separators=(",", ":")
        )
    # Docker labels under our API group are instructions to the platform (e.g. the local cluster's
    # `ecs.operator.dev/kwok-fail-exit-code`): Kubernetes has no container labels, so they become annotations.
    for found in docker_labels.values():
        for key, value in found.items():
            if str(key).startswith(labels.PLATFORM_PREFIX):
                annotations[str(key)] = str(value)
    logs: dict[str, Any] = {}
    for definition in definitions:
        entry: dict[str, Any] = {}
        if definition.get("logConfiguration"):
            entry.update(definition["logConfiguration"])
        if definition.get("firelensConfiguration"):
            entry["firelensConfiguration"] = definition["firelensConfiguration"]
        if entry:
            logs[str(definition.get("name"))] = entry
    if logs:
        annotations[labels.LOG_CONFIGURATION_ANNOTATION] = json.dumps(
            logs, sort_keys=True, separators=(",", ":")
        )
    return annotations


def _placement(
    taskdef: Mapping[str, Any],
    context: PodContext,
    spec: dict[str, Any],
    context_warnings: list[TranslationWarning],
) -> list[TranslationWarning]:
    warnings: list[TranslationWarning] = []
    selector, tolerations = placement.pool_placement(context.pool, context.cluster)
    platform, found = placement.runtime_platform_selector(
        taskdef.get("runtimePlatform") or {}, "runtimePlatform"
    )
    warnings += found
    selector = {**selector, **platform}
    own_affinity, _, found = placement.placement(
        taskdef.get("placementConstraints") or (),
        (),
        selector=context.selector,
        constraints_path="placementConstraints",
        strategies_path="",
    )
    warnings += found
    affinity, spread, found = placement.placement(
        context.constraints,
        context.strategies,
        selector=context.selector,
        constraints_path="placementConstraints",
        strategies_path="placementStrategy",
    )
    context_warnings += found
    own_terms = own_affinity.get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", {})
    if own_terms:
        terms = affinity.get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", {})
        merged = placement.and_terms(terms.get("nodeSelectorTerms", []), own_terms["nodeSelectorTerms"])
        affinity["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": merged}
        }
    spec["nodeSelector"] = selector
    if tolerations:
        spec["tolerations"] = tolerations
    if affinity:
        spec["affinity"] = dict(sorted(affinity.items()))
    if spread:
        spec["topologySpreadConstraints"] = spread
    return warnings
