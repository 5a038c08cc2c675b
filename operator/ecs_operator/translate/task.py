"""A task (RunTask) + its task definition revision → `count` Pods (restartPolicy Never) (+ ServiceAccount).

`translate_task(task, taskdef, *, revision, cluster, namespace, name, owner=None,
default_capacity_provider_strategy=None, pod_level_resources=True)`: pods are named `<name>-<i>`, i =
0…count-1. `overrides` are applied to the task definition first. Warnings are about task members (paths
relative to the task), plus task-definition members that behave differently in a task (e.g. container
restart policies).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.translate.coverage import unmapped_warnings
from ecs_operator.translate.identity import service_account
from ecs_operator.translate.metadata import base_labels, new_object, selector_labels
from ecs_operator.translate.names import dns_subdomain
from ecs_operator.translate.pod import PodContext, build_pod, tags_annotation
from ecs_operator.translate.result import Translation, in_path_order
from ecs_operator.translate.volumes import launch_volumes_by_name
from ecs_operator.translate.workload import pool_of, propagated_tags

GROUP_ANNOTATION = "ecs.operator.dev/group"
STARTED_BY_ANNOTATION = "ecs.operator.dev/started-by"
REFERENCE_ID_ANNOTATION = "ecs.operator.dev/reference-id"


def apply_overrides(taskdef: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The task definition as RunTask's `overrides` change it (command replaces, environment merges)."""
    result = copy.deepcopy(dict(taskdef))
    for key in ("cpu", "memory", "taskRoleArn"):
        if overrides.get(key):
            result[key] = overrides[key]
    by_name = {c.get("name"): c for c in result.get("containerDefinitions") or ()}
    for override in overrides.get("containerOverrides") or ():
        container = by_name.get(override.get("name"))
        if container is None:
            continue
        for key in ("command", "cpu", "memory", "memoryReservation", "resourceRequirements"):
            if key in override:
                container[key] = copy.deepcopy(override[key])
        if override.get("environment"):
            merged = {e.get("name"): e for e in container.get("environment") or ()}
            merged.update({e.get("name"): e for e in override["environment"]})
            container["environment"] = list(merged.values())
        if override.get("environmentFiles"):
            container["environmentFiles"] = list(container.get("environmentFiles") or ()) + list(
                override["environmentFiles"]
            )
    return result


def translate_task(
    task: Mapping[str, Any],
    taskdef: Mapping[str, Any],
    *,
    revision: int,
    cluster: str,
    namespace: str,
    name: str,
    owner: Mapping[str, str] | None = None,
    default_capacity_provider_strategy: Sequence[Mapping[str, Any]] | None = None,
    pod_level_resources: bool = True,
) -> Translation:
    warnings = list(unmapped_warnings("RunTaskRequest", task))
    effective = apply_overrides(taskdef, task.get("overrides") or {})
    family = str(taskdef.get("family") or "")
    pool, found = pool_of(task, taskdef, default_capacity_provider_strategy)
    warnings += found
    selector = selector_labels(cluster, task=name)
    pod_labels = base_labels(cluster, task=name, family=family, revision=revision)
    object_name = dns_subdomain(name)
    role = str(effective.get("taskRoleArn") or "")
    pod = build_pod(
        effective,
        PodContext(
            cluster=cluster,
            workload="task",
            pod_level_resources=pod_level_resources,
            pool=pool,
            selector=selector,
            service_account=object_name if role else None,
            constraints=list(task.get("placementConstraints") or ()),
            strategies=list(task.get("placementStrategy") or ()),
            launch_volumes=launch_volumes_by_name(task.get("volumeConfigurations") or ()),
        ),
    )
    warnings += pod.context_warnings
    warnings += [w for w in pod.warnings if w.path.endswith(".restartPolicy.enabled")]
    objects: list[dict[str, Any]] = []
    if role:
        objects.append(
            service_account(
                object_name,
                role,
                namespace=namespace,
                object_labels=base_labels(cluster, task=name),
                owner=owner,
            )
        )
    annotations = {
        **pod.annotations,
        **tags_annotation(list(task.get("tags") or ()) + list(propagated_tags(task, taskdef))),
    }
    for key, annotation in (
        ("group", GROUP_ANNOTATION),
        ("startedBy", STARTED_BY_ANNOTATION),
        ("referenceId", REFERENCE_ID_ANNOTATION),
    ):
        if task.get(key):
            annotations[annotation] = str(task[key])
    count = int(task.get("count") or 1)
    for index in range(count):
        body = new_object(
            "v1",
            "Pod",
            f"{object_name[:240]}-{index}",
            namespace=namespace,
            object_labels=pod_labels,
            owner=owner,
            annotations=annotations,
        )
        body["spec"] = {**copy.deepcopy(pod.spec), "restartPolicy": "Never"}
        objects.append(body)
    return Translation(objects, in_path_order(warnings))
