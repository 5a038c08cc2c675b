"""What service and task translation share: where they run (`Placement`), the pool, the pod built from the
task definition in its context, the ServiceAccount of a task role, tag propagation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Required, TypedDict

from ecs_operator.naming import dns_subdomain
from ecs_operator.translate.identity import service_account
from ecs_operator.translate.metadata import base_labels, selector_labels
from ecs_operator.translate.placement import node_pool
from ecs_operator.translate.pod import PodBuild, PodContext, build_pod
from ecs_operator.translate.result import TranslationWarning
from ecs_operator.translate.volumes import launch_volumes_by_name


class Placement(TypedDict, total=False):
    """Where a service or task runs, as the keyword arguments of `translate_service` and `translate_task`."""

    revision: Required[int]  # the task definition revision
    cluster: Required[str]
    namespace: Required[str]
    name: Required[str]  # the EcsService's or EcsTask's name; objects are named after it
    owner: Mapping[str, str] | None  # the ownerReference identity (apiVersion, kind, name, uid)
    default_capacity_provider_strategy: Sequence[Mapping[str, Any]] | None  # the cluster's
    capacity_providers: Sequence[str]  # the cluster's (a strategy naming one runs on its Nodes)
    pod_level_resources: bool  # False for clusters without the PodLevelResources feature


def cluster_placement(cluster: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """What `Placement` takes of an ECS cluster (a CreateCluster request, an EcsCluster's spec)."""
    strategy = spec.get("defaultCapacityProviderStrategy")
    return {
        "cluster": cluster,
        "default_capacity_provider_strategy": list(strategy) if strategy else None,
        "capacity_providers": tuple(str(p) for p in spec.get("capacityProviders") or ()),
    }


def pool_of(
    request: Mapping[str, Any], taskdef: Mapping[str, Any], at: Placement
) -> tuple[str, list[TranslationWarning]]:
    return node_pool(
        launch_type=str(request.get("launchType") or "") or None,
        strategy=request.get("capacityProviderStrategy") or None,
        default_strategy=at.get("default_capacity_provider_strategy"),
        compatibilities=[str(c) for c in taskdef.get("requiresCompatibilities") or ()],
        path="",
        providers=at.get("capacity_providers") or (),
    )


def propagated_tags(request: Mapping[str, Any], taskdef: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The tags ECS would put on the tasks (`propagateTags`)."""
    propagate = request.get("propagateTags")
    if propagate == "SERVICE":
        return list(request.get("tags") or ())
    if propagate == "TASK_DEFINITION":
        return list(taskdef.get("tags") or ())
    return []


@dataclass(frozen=True)
class Workload:
    """A service's or task's pod and companions, before the workload or Pods are wrapped around them."""

    object_name: str
    selector: dict[str, str]
    pod: PodBuild
    objects: list[dict[str, Any]]  # the ServiceAccount of the task role, when there is one


def build_workload(
    workload: str,
    request: Mapping[str, Any],
    taskdef: Mapping[str, Any],
    pool: str,
    at: Placement,
    grace_period: int = 0,
) -> Workload:
    """`workload` is "service" or "task": the label that names the owner, and the pod's restart rules."""
    cluster, name = at["cluster"], at["name"]
    owner_label = {workload: name}
    object_name = dns_subdomain(name)
    role = str(taskdef.get("taskRoleArn") or "")
    pod = build_pod(
        taskdef,
        PodContext(
            cluster=cluster,
            workload=workload,
            pod_level_resources=at.get("pod_level_resources", True),
            pool=pool,
            selector=selector_labels(cluster, **owner_label),
            service_account=object_name if role else None,
            grace_period=grace_period,
            constraints=list(request.get("placementConstraints") or ()),
            strategies=list(request.get("placementStrategy") or ()),
            launch_volumes=launch_volumes_by_name(request.get("volumeConfigurations") or ()),
        ),
    )
    objects = []
    if role:
        objects.append(
            service_account(
                object_name,
                role,
                namespace=at["namespace"],
                object_labels=base_labels(cluster, **owner_label),
                owner=at.get("owner"),
            )
        )
    return Workload(object_name, selector_labels(cluster, **owner_label), pod, objects)
