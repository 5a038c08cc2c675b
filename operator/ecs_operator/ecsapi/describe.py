"""Pure conversions from the custom resources (spec + status + children) to ECS's response shapes.

Nothing here reads a cache or a clock: the operations pass what they found. Timestamps become epoch
seconds (what every SDK parses; a string breaks Terraform), task definitions become ARNs, and ECS's
defaults are echoed so a deploy tool diffing its file against the service sees no false difference.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ecs_operator import labels
from ecs_operator.identifiers import Partition, last_part, long_format, task_definition_arn_or_name
from ecs_operator.naming import cluster_name
from ecs_operator.plans.drift import quantity
from ecs_operator.revisions import Revision
from ecs_operator.status.deployments import primary_deployment
from ecs_operator.status.pods import PENDING, RUNNING, STOPPED, task_state
from ecs_operator.status.task import essential_containers, task_entry

Obj = Mapping[str, Any]

REPLICA_DEPLOYMENT = {"maximumPercent": 200, "minimumHealthyPercent": 100}
DAEMON_DEPLOYMENT = {"maximumPercent": 100, "minimumHealthyPercent": 0}
CIRCUIT_BREAKER_OFF = {"enable": False, "rollback": False}


def epoch(value: object) -> float | None:
    """RFC 3339 (as Kubernetes and the operator's status write it) -> seconds since the epoch."""
    if not value:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _compact(entries: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entries.items() if v is not None}


def tags_of(spec: Obj) -> list[dict[str, str]]:
    return [dict(t) for t in spec.get("tags") or ()]


# --- clusters -------------------------------------------------------------------------------------


def cluster(
    obj: Obj,
    partition: Partition,
    include: Sequence[str] = (),
    instances: int | None = None,
    statistics: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """`statistics`: ECS's per launch type counts, answered with STATISTICS."""
    name = cluster_name(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    state = "ACTIVE"
    if _meta(obj).get("deletionTimestamp"):
        state = "DEPROVISIONING"
    elif status.get("status"):
        state = str(status["status"])
    result: dict[str, Any] = {
        "clusterArn": partition.cluster(name),
        "clusterName": name,
        "status": state,
        "registeredContainerInstancesCount": int(
            instances if instances is not None else status.get("registeredContainerInstancesCount") or 0
        ),
        "runningTasksCount": int(status.get("runningTasksCount") or 0),
        "pendingTasksCount": int(status.get("pendingTasksCount") or 0),
        "activeServicesCount": int(status.get("activeServicesCount") or 0),
        "statistics": [dict(s) for s in statistics] if "STATISTICS" in include else [],
        "capacityProviders": list(spec.get("capacityProviders") or ()),
        "defaultCapacityProviderStrategy": [
            dict(s) for s in spec.get("defaultCapacityProviderStrategy") or ()
        ],
    }
    if "TAGS" in include:
        result["tags"] = tags_of(spec)
    if "SETTINGS" in include:
        result["settings"] = [dict(s) for s in spec.get("settings") or ()] or [
            {"name": "containerInsights", "value": "disabled"}
        ]
    if "CONFIGURATIONS" in include and spec.get("configuration"):
        result["configuration"] = dict(spec["configuration"])
    if "ATTACHMENTS" in include:
        # ECS attaches a scaling policy per capacity provider with managed scaling; here a pool of Nodes
        # is scaled by whatever makes its Nodes, so there is nothing to attach.
        result["attachments"] = []
        result["attachmentsStatus"] = "UPDATE_COMPLETE"
    if spec.get("serviceConnectDefaults"):
        result["serviceConnectDefaults"] = dict(spec["serviceConnectDefaults"])
    return result


# --- task definitions -----------------------------------------------------------------------------


def compatibilities(data: Obj) -> list[str]:
    found = ["EC2"]
    if data.get("networkMode") == "awsvpc" and data.get("cpu") and data.get("memory"):
        found.append("FARGATE")
    return found


def container_definition(container: Obj, network_mode: str | None) -> dict[str, Any]:
    """A container definition with the members ECS fills in when it registers one."""
    result: dict[str, Any] = {
        "cpu": 0,
        "portMappings": [],
        "essential": True,
        "environment": [],
        "mountPoints": [],
        "volumesFrom": [],
        **dict(container),
    }
    mappings = []
    for mapping in result["portMappings"]:
        entry = {"protocol": "tcp", **dict(mapping)}
        if network_mode in ("awsvpc", "host") and "containerPort" in entry:
            entry.setdefault("hostPort", entry["containerPort"])
        mappings.append(entry)
    result["portMappings"] = mappings
    return result


def task_definition(revision: Revision, partition: Partition) -> dict[str, Any]:
    data = dict(revision.data)
    tags = data.pop("tags", None)
    del tags
    network_mode = data.get("networkMode")
    data["containerDefinitions"] = [
        container_definition(c, network_mode) for c in data.get("containerDefinitions") or ()
    ]
    result: dict[str, Any] = {
        "taskDefinitionArn": partition.task_definition(revision.family, revision.number),
        **data,
        "family": revision.family,
        "revision": revision.number,
        "volumes": data.get("volumes") or [],
        "status": revision.status,
        "requiresAttributes": [],
        "placementConstraints": data.get("placementConstraints") or [],
        "compatibilities": compatibilities(data),
    }
    registered = epoch(revision.registered_at)
    if registered is not None:
        result["registeredAt"] = registered
    return result


# --- services -------------------------------------------------------------------------------------


def deployment_configuration(spec: Obj) -> dict[str, Any]:
    daemon = spec.get("schedulingStrategy") == "DAEMON"
    given = dict(spec.get("deploymentConfiguration") or {})
    breaker = {**CIRCUIT_BREAKER_OFF, **dict(given.get("deploymentCircuitBreaker") or {})}
    return {
        **(DAEMON_DEPLOYMENT if daemon else REPLICA_DEPLOYMENT),
        **given,
        "deploymentCircuitBreaker": breaker,
    }


def network_configuration(spec: Obj) -> dict[str, Any] | None:
    given = spec.get("networkConfiguration")
    if not given:
        return None
    awsvpc = dict(given.get("awsvpcConfiguration") or {})
    awsvpc.setdefault("assignPublicIp", "DISABLED")
    awsvpc.setdefault("securityGroups", [])
    return {**dict(given), "awsvpcConfiguration": awsvpc}


def launch_fields(spec: Obj) -> dict[str, Any]:
    if spec.get("capacityProviderStrategy"):
        return {"capacityProviderStrategy": [dict(s) for s in spec["capacityProviderStrategy"]]}
    launch_type = spec.get("launchType") or "EC2"
    result: dict[str, Any] = {"launchType": launch_type}
    if launch_type == "FARGATE":
        result["platformVersion"] = spec.get("platformVersion") or "LATEST"
        result["platformFamily"] = "Linux"
    return result


@dataclass(frozen=True)
class Expected:
    """The deployment a spec asks for before the operator has rolled it out: its id and revision."""

    id: str
    task_definition: str


def service(
    obj: Obj,
    cluster_name: str,
    partition: Partition,
    expected: Expected | None,
    include_tags: bool = False,
) -> dict[str, Any]:
    """`expected`: the deployment the spec asks for while the status does not show it yet (ECS shows a new
    deployment at once), else None."""
    metadata = _meta(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    name = str(spec.get("serviceName") or metadata["name"])
    observed = status.get("observedGeneration") == metadata.get("generation")
    state = "DRAINING" if metadata.get("deletionTimestamp") else str(status.get("status") or "ACTIVE")
    daemon = spec.get("schedulingStrategy") == "DAEMON"
    desired = int(status.get("desiredCount") or 0) if daemon else int(spec.get("desiredCount") or 0)
    if state == "DRAINING":
        desired = 0
    launch = launch_fields(spec)
    deployments = [
        deployment(d, partition, launch)
        for d in status.get("deployments") or ()
        if d.get("status") in ("PRIMARY", "ACTIVE")
    ]
    primary = primary_deployment(status.get("deployments"))
    current = str(primary["taskDefinition"]) if primary and primary.get("taskDefinition") else None
    if state == "ACTIVE" and expected is not None:
        for entry in deployments:
            entry["status"] = "ACTIVE"
        created = epoch(metadata.get("creationTimestamp")) if current is None else None
        deployments.insert(0, _pending_deployment(expected, desired, partition, launch, created))
    target = expected.task_definition if expected is not None else None
    task_definition_ref = current if observed and current else (target or current)
    result: dict[str, Any] = {
        "serviceArn": partition.service(cluster_name, name, long_format(obj)),
        "serviceName": name,
        "clusterArn": partition.cluster(cluster_name),
        "loadBalancers": [dict(lb) for lb in spec.get("loadBalancers") or ()],
        "serviceRegistries": [dict(r) for r in spec.get("serviceRegistries") or ()],
        "status": state,
        "desiredCount": desired,
        "runningCount": int(status.get("runningCount") or 0),
        "pendingCount": int(status.get("pendingCount") or 0),
        **launch,
        "deploymentConfiguration": deployment_configuration(spec),
        "deployments": deployments,
        "events": [
            _compact({"id": e.get("id"), "createdAt": epoch(e.get("createdAt")), "message": e.get("message")})
            for e in status.get("events") or ()
        ],
        "createdAt": epoch(metadata.get("creationTimestamp")),
        "placementConstraints": [dict(c) for c in spec.get("placementConstraints") or ()],
        "placementStrategy": [dict(s) for s in spec.get("placementStrategy") or ()],
        "healthCheckGracePeriodSeconds": int(spec.get("healthCheckGracePeriodSeconds") or 0),
        "schedulingStrategy": "DAEMON" if daemon else "REPLICA",
        "deploymentController": dict(spec.get("deploymentController") or {"type": "ECS"}),
        "enableECSManagedTags": bool(spec.get("enableECSManagedTags", False)),
        "propagateTags": str(spec.get("propagateTags") or "NONE"),
        "enableExecuteCommand": bool(spec.get("enableExecuteCommand", False)),
    }
    if task_definition_ref:
        result["taskDefinition"] = task_definition_arn_or_name(partition, task_definition_ref)
    network = network_configuration(spec)
    if network is not None:
        result["networkConfiguration"] = network
    for member in (
        "serviceConnectConfiguration",
        "volumeConfigurations",
        "availabilityZoneRebalancing",
        "role",
    ):
        if spec.get(member) is not None:
            result["roleArn" if member == "role" else member] = spec[member]
    if include_tags:
        result["tags"] = tags_of(spec)
    return _compact(result)


def deployment(entry: Obj, partition: Partition, launch: Mapping[str, Any]) -> dict[str, Any]:
    result = {
        "id": entry.get("id"),
        "status": entry.get("status"),
        "taskDefinition": task_definition_arn_or_name(partition, str(entry.get("taskDefinition") or "")),
        "desiredCount": int(entry.get("desiredCount") or 0),
        "pendingCount": int(entry.get("pendingCount") or 0),
        "runningCount": int(entry.get("runningCount") or 0),
        "failedTasks": int(entry.get("failedTasks") or 0),
        "createdAt": epoch(entry.get("createdAt")),
        "updatedAt": epoch(entry.get("updatedAt")),
        **launch,
        "rolloutState": entry.get("rolloutState"),
        "rolloutStateReason": entry.get("rolloutStateReason"),
    }
    return _compact(result)


def _pending_deployment(
    expected: Expected,
    desired: int,
    partition: Partition,
    launch: Mapping[str, Any],
    created: float | None,
) -> dict[str, Any]:
    return _compact(
        {
            "id": expected.id,
            "status": "PRIMARY",
            "taskDefinition": task_definition_arn_or_name(partition, expected.task_definition),
            "desiredCount": desired,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": created,
            "updatedAt": created,
            **launch,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": "ECS deployment in progress: the operator has not applied it yet.",
        }
    )


def inactive_service(obj: Obj, cluster_name: str, partition: Partition) -> dict[str, Any]:
    """A deleted service, as DescribeServices shows it for a while (ECS: INACTIVE)."""
    result = service(obj, cluster_name, partition, None)
    result.update(status="INACTIVE", desiredCount=0, runningCount=0, pendingCount=0, deployments=[])
    return result


# --- tasks ----------------------------------------------------------------------------------------

TASK_STATUSES = (
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
)


def pod_entry(pod: Obj, taskdef: Obj, stopped: bool, now: str) -> dict[str, Any]:
    """The operator's own task entry of a Pod (the function EcsTask status uses), for a service task."""
    metadata = _meta(pod)
    entry = task_entry(pod, essential_containers(taskdef), False, None, "", str(metadata.get("name")), now)
    annotations = metadata.get("annotations") or {}
    if stopped or metadata.get("deletionTimestamp"):
        entry["desiredStatus"] = "STOPPED"
        entry.setdefault("stopCode", annotations.get(labels.STOP_CODE) or "ServiceSchedulerInitiated")
        entry.setdefault(
            "stoppedReason", annotations.get(labels.STOPPED_REASON) or "Task stopped by the service scheduler"
        )
    if stopped:
        entry["lastStatus"] = "STOPPED"
        entry.setdefault("stoppedAt", now)
    return entry


def _resources(taskdef: Obj) -> dict[str, Any]:
    return _compact({"cpu": _text(taskdef.get("cpu")), "memory": _text(taskdef.get("memory"))})


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def task(
    entry: Obj,
    *,
    task_arn: str,
    cluster_name: str,
    partition: Partition,
    task_definition: str,
    taskdef: Obj,
    pod: Obj | None,
    instance_id: str | None,
    group: str,
    started_by: str | None,
    launch_type: str,
    tags: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """One ECS Task from the operator's task entry (`status.task_entry` shape) and what surrounds it."""
    images = {c.get("name"): c.get("image") for c in ((pod or {}).get("spec") or {}).get("containers") or ()}
    if not images:
        images = {c.get("name"): c.get("image") for c in taskdef.get("containerDefinitions") or ()}
    containers = []
    for container in entry.get("containers") or [
        {"name": c.get("name"), "lastStatus": "PENDING"} for c in taskdef.get("containerDefinitions") or ()
    ]:
        name = str(container.get("name"))
        containers.append(
            _compact(
                {
                    "containerArn": partition.container(cluster_name, last_part(task_arn), name),
                    "taskArn": task_arn,
                    "name": name,
                    "image": images.get(name),
                    "lastStatus": container.get("lastStatus"),
                    "exitCode": container.get("exitCode"),
                    "reason": container.get("reason"),
                    "networkBindings": [],
                    "networkInterfaces": [],
                    "healthStatus": "UNKNOWN",
                }
            )
        )
    result = {
        "taskArn": task_arn,
        "clusterArn": partition.cluster(cluster_name),
        "taskDefinitionArn": task_definition_arn_or_name(partition, task_definition),
        "containerInstanceArn": partition.container_instance(cluster_name, instance_id)
        if instance_id
        else None,
        "overrides": {"containerOverrides": [], "inferenceAcceleratorOverrides": []},
        "lastStatus": entry.get("lastStatus"),
        "desiredStatus": entry.get("desiredStatus"),
        **_resources(taskdef),
        "containers": containers,
        "startedBy": started_by,
        "version": 1,
        "stopCode": entry.get("stopCode"),
        "stoppedReason": entry.get("stoppedReason"),
        "connectivity": "CONNECTED" if entry.get("lastStatus") == "RUNNING" else None,
        "createdAt": epoch(entry.get("createdAt")),
        "startedAt": epoch(entry.get("startedAt")),
        "stoppedAt": epoch(entry.get("stoppedAt")),
        "group": group,
        "launchType": launch_type,
        "platformVersion": "1.4.0" if launch_type == "FARGATE" else None,
        "attachments": [],
        "healthStatus": "UNKNOWN",
        "tags": [dict(t) for t in tags],
    }
    return _compact(result)


# --- container instances --------------------------------------------------------------------------


def _quantity(value: object) -> Decimal:
    found = quantity(str(value)) if value is not None else None
    return found if found is not None else Decimal(0)


def _pod_requests(pod: Obj) -> tuple[int, int]:
    cpu = memory = 0
    for container in (pod.get("spec") or {}).get("containers") or ():
        requests = (container.get("resources") or {}).get("requests") or {}
        # CPU units went to millicores (32 units -> 31m): round back to the units ECS counts in.
        cpu += round(_quantity(requests.get("cpu")) * 1024)
        memory += round(_quantity(requests.get("memory")) / (1024 * 1024))
    return cpu, memory


def _resource_list(cpu: int, memory: int, ports: Sequence[str] = ()) -> list[dict[str, Any]]:
    return [
        {"name": "CPU", "type": "INTEGER", "doubleValue": 0.0, "longValue": 0, "integerValue": cpu},
        {"name": "MEMORY", "type": "INTEGER", "doubleValue": 0.0, "longValue": 0, "integerValue": memory},
        {"name": "PORTS", "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0, "integerValue": 0,
         "stringSetValue": list(ports)},
        {"name": "PORTS_UDP", "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0, "integerValue": 0,
         "stringSetValue": []},
    ]  # fmt: skip


def instance_status(node: Obj) -> str:
    """DRAINING when the Node is cordoned or asked to drain (`labels.INSTANCE_DESIRED_STATUS`)."""
    annotations = _meta(node).get("annotations") or {}
    if (node.get("spec") or {}).get("unschedulable") or annotations.get(
        labels.INSTANCE_DESIRED_STATUS
    ) == "DRAINING":
        return "DRAINING"
    return "ACTIVE"


def container_instance(
    node: Obj,
    cluster_name: str,
    partition: Partition,
    pods: Sequence[Obj],
    instance_id: str,
    long: bool = True,
) -> dict[str, Any]:
    metadata = _meta(node)
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}
    cpu = int(_quantity(allocatable.get("cpu")) * 1024)
    memory = int(_quantity(allocatable.get("memory")) / (1024 * 1024))
    used_cpu = used_memory = 0
    running = pending = 0
    for pod in pods:
        state = task_state(pod)
        if state == STOPPED:
            continue
        pod_cpu, pod_memory = _pod_requests(pod)
        used_cpu += pod_cpu
        used_memory += pod_memory
        running += state == RUNNING
        pending += state == PENDING
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ()
    )
    node_labels = metadata.get("labels") or {}
    attributes = [
        {"name": "ecs.os-type", "value": node_labels.get("kubernetes.io/os", "linux")},
        {"name": "ecs.cpu-architecture", "value": node_labels.get("kubernetes.io/arch", "amd64")},
    ]
    for label, attribute in (
        ("node.kubernetes.io/instance-type", "ecs.instance-type"),
        ("topology.kubernetes.io/zone", "ecs.availability-zone"),
    ):
        if node_labels.get(label):
            attributes.append({"name": attribute, "value": node_labels[label]})
    # Custom attributes are the Node's labels (placement constraints read them the same way).
    attributes += [{"name": k, "value": str(v)} for k, v in sorted(node_labels.items())]
    state = instance_status(node)
    return _compact(
        {
            "containerInstanceArn": partition.container_instance(cluster_name, instance_id, long),
            "ec2InstanceId": metadata.get("name"),
            "version": int(metadata.get("resourceVersion") or 0),
            "versionInfo": {
                "agentVersion": "ecs-operator",
                "agentHash": "",
                "dockerVersion": str((status.get("nodeInfo") or {}).get("containerRuntimeVersion") or ""),
            },
            "remainingResources": _resource_list(max(cpu - used_cpu, 0), max(memory - used_memory, 0)),
            "registeredResources": _resource_list(cpu, memory),
            "status": state,
            "statusReason": "Node cordoned" if (node.get("spec") or {}).get("unschedulable") else None,
            "agentConnected": ready,
            "runningTasksCount": running,
            "pendingTasksCount": pending,
            "attributes": attributes,
            "registeredAt": epoch(metadata.get("creationTimestamp")),
            "attachments": [],
            "tags": [],
        }
    )
