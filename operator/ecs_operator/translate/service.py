"""A service (+ its task definition revision) → Deployment or DaemonSet, Services, ServiceAccount.

`translate_service(service, taskdef, *, revision, cluster, namespace, name, owner=None,
default_capacity_provider_strategy=None, pod_level_resources=True)`. `name` is the EcsService's name
(objects are named after it); the workload selector is cluster + service only, so it stays stable across
revisions. Warnings are about service members (paths relative to the service); task definition warnings come
from `translate_task_definition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from ecs_operator import labels
from ecs_operator.naming import dns1035_label
from ecs_operator.translate.coverage import unmapped_warnings
from ecs_operator.translate.metadata import base_labels, managed, new_object
from ecs_operator.translate.pod import PodBuild, tags_annotation
from ecs_operator.translate.result import Translation, TranslationWarning, in_path_order
from ecs_operator.translate.workload import Placement, build_workload, pool_of, propagated_tags

PROGRESS_DEADLINE_SECONDS = 600
REVISION_HISTORY_LIMIT = 10


def rolling_parameters(
    configuration: Mapping[str, Any], *, daemon: bool
) -> tuple[str, str, list[TranslationWarning]]:
    """(maxSurge, maxUnavailable) as percentages from ECS's maximumPercent / minimumHealthyPercent."""
    maximum = int(configuration.get("maximumPercent", 100 if daemon else 200))
    minimum = int(configuration.get("minimumHealthyPercent", 0 if daemon else 100))
    surge = max(0, maximum - 100)
    unavailable = min(100, max(0, 100 - minimum))
    warnings: list[TranslationWarning] = []
    if daemon and surge and unavailable:
        # a DaemonSet cannot do both; ECS daemon rollouts stop old tasks first (maximumPercent stays 100)
        warnings.append(
            TranslationWarning(
                "deploymentConfiguration.maximumPercent",
                "a DAEMON rollout replaces tasks in place; maximumPercent above 100 is not used",
            )
        )
        surge = 0
    if surge == 0 and unavailable == 0:
        warnings.append(
            TranslationWarning(
                "deploymentConfiguration",
                "maximumPercent 100 with minimumHealthyPercent 100 cannot progress; maxUnavailable 1 used",
            )
        )
        return "0%", "1", warnings
    return f"{surge}%", f"{unavailable}%", warnings


def translate_service(
    service: Mapping[str, Any], taskdef: Mapping[str, Any], **at: Unpack[Placement]
) -> Translation:
    cluster, name, revision = at["cluster"], at["name"], at["revision"]
    namespace, owner = at["namespace"], at.get("owner")
    warnings = list(unmapped_warnings("CreateServiceRequest", service))
    family = str(taskdef.get("family") or "")
    daemon = service.get("schedulingStrategy") == "DAEMON"
    pool, found = pool_of(service, taskdef, at)
    warnings += found
    if daemon and pool == "fargate":
        warnings.append(
            TranslationWarning(
                "schedulingStrategy", "DAEMON runs on the cluster's container instances, not Fargate"
            )
        )
        pool = "ec2"
    grace = int(service.get("healthCheckGracePeriodSeconds") or 0)
    built = build_workload("service", service, taskdef, pool, at, grace_period=grace)
    pod, selector, object_name = built.pod, built.selector, built.object_name
    workload_labels = base_labels(cluster, service=name, family=family, revision=revision)
    warnings += pod.context_warnings
    warnings += _deployment_warnings(service)
    objects = list(built.objects)
    services, found = _services(service, taskdef, pod, name, namespace, selector, owner)
    warnings += found
    objects += services
    annotations = tags_annotation(service.get("tags") or ())
    pod_annotations = {
        **pod.annotations,
        **tags_annotation(propagated_tags(service, taskdef)),
        labels.TASK_DEFINITION_ANNOTATION: f"{family}:{revision}",
    }
    template: dict[str, Any] = {"metadata": {"labels": workload_labels}, "spec": pod.spec}
    if pod_annotations:
        template["metadata"]["annotations"] = dict(sorted(pod_annotations.items()))
    configuration = service.get("deploymentConfiguration") or {}
    surge, unavailable, found = rolling_parameters(configuration, daemon=daemon)
    warnings += found
    kind = "DaemonSet" if daemon else "Deployment"
    workload = new_object(
        "apps/v1",
        kind,
        object_name,
        namespace=namespace,
        object_labels=workload_labels,
        owner=owner,
        annotations=annotations,
    )
    spec: dict[str, Any] = {}
    if not daemon:
        spec["replicas"] = int(service.get("desiredCount") or 0)
    spec["selector"] = {"matchLabels": selector}
    spec["revisionHistoryLimit"] = REVISION_HISTORY_LIMIT
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    if daemon:
        spec["updateStrategy"] = rolling
    else:
        spec["progressDeadlineSeconds"] = PROGRESS_DEADLINE_SECONDS
        spec["strategy"] = rolling
    spec["template"] = template
    workload["spec"] = spec
    objects.append(workload)
    return Translation(objects, in_path_order(warnings))


def _deployment_warnings(service: Mapping[str, Any]) -> list[TranslationWarning]:
    warnings: list[TranslationWarning] = []
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy")
    if strategy and strategy != "ROLLING":
        warnings.append(
            TranslationWarning(
                "deploymentConfiguration.strategy", f"{strategy} is not translated; a rolling update is used"
            )
        )
    controller = (service.get("deploymentController") or {}).get("type")
    if controller and controller != "ECS":
        warnings.append(
            TranslationWarning(
                "deploymentController.type",
                f"{controller} deployments are not translated; Kubernetes rolls the Deployment itself",
            )
        )
    if service.get("availabilityZoneRebalancing") == "ENABLED":
        warnings.append(
            TranslationWarning(
                "availabilityZoneRebalancing",
                "Kubernetes does not move running pods between zones; use the descheduler",
            )
        )
    return warnings


def _container_port(pod: PodBuild, container: str, number: int, protocol: str = "TCP") -> str | None:
    return pod.port_names.get(container, {}).get((number, protocol))


def _mapped_port(pod: PodBuild, container: str, number: int) -> tuple[str | int, str]:
    """(targetPort, protocol) of a container's port: its name when mapped (TCP first), else the number."""
    for protocol in ("TCP", "UDP"):
        name = _container_port(pod, container, number, protocol)
        if name is not None:
            return name, protocol
    return number, "TCP"


def _app_protocol(taskdef: Mapping[str, Any], container: str, number: int) -> str | None:
    for definition in taskdef.get("containerDefinitions") or ():
        if definition.get("name") == container:
            for mapping in definition.get("portMappings") or ():
                if mapping.get("containerPort") == number and mapping.get("appProtocol"):
                    return str(mapping["appProtocol"])
    return None


def _port_by_ecs_name(taskdef: Mapping[str, Any], port: str) -> tuple[str, int, str] | None:
    for definition in taskdef.get("containerDefinitions") or ():
        for mapping in definition.get("portMappings") or ():
            if mapping.get("name") == port and "containerPort" in mapping:
                protocol = str(mapping.get("protocol") or "tcp").upper()
                return str(definition.get("name")), int(mapping["containerPort"]), protocol
    return None


class _ServicePorts:
    def __init__(self) -> None:
        self.ports: list[dict[str, Any]] = []

    def add(self, port: int, target: str | int, protocol: str, app_protocol: str | None) -> None:
        if any(p["port"] == port and p["protocol"] == protocol for p in self.ports):
            return
        name = target if isinstance(target, str) else f"{protocol.lower()}-{port}"
        if any(p["name"] == name for p in self.ports):
            name = f"{protocol.lower()}-{port}"
        entry: dict[str, Any] = {"name": name, "port": port, "targetPort": target, "protocol": protocol}
        if app_protocol:
            entry["appProtocol"] = app_protocol
        self.ports.append(entry)


def _services(
    service: Mapping[str, Any],
    taskdef: Mapping[str, Any],
    pod: PodBuild,
    name: str,
    namespace: str,
    selector: Mapping[str, str],
    owner: Mapping[str, str] | None,
) -> tuple[list[dict[str, Any]], list[TranslationWarning]]:
    warnings: list[TranslationWarning] = []
    main = _ServicePorts()
    for index, balancer in enumerate(service.get("loadBalancers") or ()):
        container, number = str(balancer.get("containerName") or ""), balancer.get("containerPort")
        if not container or number is None:
            warnings.append(
                TranslationWarning(
                    f"loadBalancers[{index}]", "needs containerName and containerPort; ignored"
                )
            )
            continue
        target, protocol = _mapped_port(pod, container, int(number))
        if isinstance(target, int):
            warnings.append(
                TranslationWarning(
                    f"loadBalancers[{index}].containerPort",
                    f"container {container!r} has no port mapping for {number}; targeted by number",
                )
            )
        main.add(int(number), target, protocol, _app_protocol(taskdef, container, int(number)))
    registry_ports = _ServicePorts()
    for registry in service.get("serviceRegistries") or ():
        container = str(registry.get("containerName") or "")
        number = registry.get("containerPort") or registry.get("port")
        if number is None:
            continue
        target, protocol = _mapped_port(pod, container, int(number))
        registry_ports.add(int(registry.get("port") or number), target, protocol, None)
    objects: list[dict[str, Any]] = []
    main_name = dns1035_label(name)
    balanced = bool(service.get("loadBalancers"))
    if balanced or service.get("serviceRegistries"):
        for port in registry_ports.ports:
            main.add(port["port"], port["targetPort"], port["protocol"], None)
        spec: dict[str, Any] = {"selector": dict(selector)}
        if balanced:
            spec["type"] = "LoadBalancer"
        else:
            spec["clusterIP"] = "None"
        if main.ports:
            spec["ports"] = main.ports
        if main.ports or not balanced:
            body = new_object(
                "v1",
                "Service",
                main_name,
                namespace=namespace,
                object_labels=managed(selector),
                owner=owner,
            )
            body["spec"] = spec
            objects.append(body)
    connect = service.get("serviceConnectConfiguration") or {}
    if connect.get("enabled", True) and connect.get("services"):
        found = _service_connect(connect, taskdef, pod, namespace, selector, owner, objects)
        warnings += found
    return objects, warnings


def _service_connect(
    connect: Mapping[str, Any],
    taskdef: Mapping[str, Any],
    pod: PodBuild,
    namespace: str,
    selector: Mapping[str, str],
    owner: Mapping[str, str] | None,
    objects: list[dict[str, Any]],
) -> list[TranslationWarning]:
    warnings: list[TranslationWarning] = []
    for index, entry in enumerate(connect.get("services") or ()):
        here = f"serviceConnectConfiguration.services[{index}]"
        port_name = str(entry.get("portName") or "")
        found = _port_by_ecs_name(taskdef, port_name)
        if found is None:
            warnings.append(
                TranslationWarning(f"{here}.portName", f"no port mapping is named {port_name!r}; ignored")
            )
            continue
        container, number, protocol = found
        target = _container_port(pod, container, number, protocol) or number
        discovery = str(entry.get("discoveryName") or port_name)
        service_name = dns1035_label(discovery)
        existing = next((o for o in objects if o["metadata"]["name"] == service_name), None)
        ports = _ServicePorts()
        if existing is not None:
            ports.ports = existing["spec"].setdefault("ports", [])
        aliases = list(entry.get("clientAliases") or ())
        app_protocol = _app_protocol(taskdef, container, number)
        for alias_index, alias in enumerate(aliases):
            ports.add(int(alias.get("port") or number), target, protocol, app_protocol)
            dns_name = str(alias.get("dnsName") or "")
            if dns_name and dns_name.split(".")[0] != service_name:
                warnings.append(
                    TranslationWarning(
                        f"{here}.clientAliases[{alias_index}].dnsName",
                        f"clients reach this service as {service_name}.{namespace}, not {dns_name}",
                    )
                )
        if not aliases:
            ports.add(number, target, protocol, app_protocol)
        if existing is None:
            body = new_object(
                "v1",
                "Service",
                service_name,
                namespace=namespace,
                object_labels=managed(selector),
                owner=owner,
            )
            body["spec"] = {"selector": dict(selector), "ports": ports.ports}
            objects.append(body)
    return warnings
