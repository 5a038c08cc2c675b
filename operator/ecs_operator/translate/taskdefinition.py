"""A task definition revision → a PodTemplate (core/v1) named after the family (+ ServiceAccount).

`translate_task_definition(taskdef, *, revision, cluster, namespace, launch_type=None,
capacity_provider_strategy=None, owner=None, pod_level_resources=True)`: the PodTemplate's `template` is the
pod a service or task of this revision runs (for the launch type given, else the task definition's
compatibilities). Warnings are about task definition members; their paths are relative to the task
definition. With `pod_level_resources=False` (clusters without the PodLevelResources feature) the task
memory is split over the containers that set no memory of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.naming import dns_subdomain
from ecs_operator.translate.coverage import is_present
from ecs_operator.translate.identity import service_account
from ecs_operator.translate.metadata import base_labels, new_object, selector_labels
from ecs_operator.translate.placement import node_pool
from ecs_operator.translate.pod import PodContext, build_pod, tags_annotation
from ecs_operator.translate.result import Translation, in_path_order


def translate_task_definition(
    taskdef: Mapping[str, Any],
    *,
    revision: int,
    cluster: str,
    namespace: str,
    launch_type: str | None = None,
    capacity_provider_strategy: Sequence[Mapping[str, Any]] | None = None,
    owner: Mapping[str, str] | None = None,
    pod_level_resources: bool = True,
) -> Translation:
    family = str(taskdef.get("family") or "")
    name = dns_subdomain(family, fallback="task-definition")
    pool, warnings = node_pool(
        launch_type=launch_type,
        strategy=capacity_provider_strategy,
        default_strategy=None,
        compatibilities=[str(c) for c in taskdef.get("requiresCompatibilities") or ()],
        path="",
    )
    labels = base_labels(cluster, family=family, revision=revision)
    selector = selector_labels(cluster, family=family)
    role = str(taskdef.get("taskRoleArn") or "")
    pod = build_pod(
        taskdef,
        PodContext(
            cluster=cluster,
            workload="template",
            pod_level_resources=pod_level_resources,
            pool=pool,
            selector=selector,
            service_account=name if role else None,
        ),
    )
    objects: list[dict[str, Any]] = []
    if role:
        objects.append(service_account(name, role, namespace=namespace, object_labels=labels, owner=owner))
    annotations = tags_annotation(taskdef.get("tags") or ()) if is_present(taskdef.get("tags")) else {}
    template = new_object(
        "v1",
        "PodTemplate",
        name,
        namespace=namespace,
        object_labels=labels,
        owner=owner,
        annotations=annotations,
    )
    pod_metadata: dict[str, Any] = {"labels": labels}
    if pod.annotations:
        pod_metadata["annotations"] = pod.annotations
    template["template"] = {"metadata": pod_metadata, "spec": pod.spec}
    objects.append(template)
    return Translation(objects, in_path_order(warnings + pod.warnings))
