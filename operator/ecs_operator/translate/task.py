"""A task (RunTask) + its task definition revision → `count` Pods (restartPolicy Never) (+ ServiceAccount).

`translate_task(task, taskdef, *, revision, cluster, namespace, name, owner=None,
default_capacity_provider_strategy=None, pod_level_resources=True)`: pods are named `<name>-<i>`, i =
0…count-1. `overrides` are applied to the task definition first. Warnings are about task members (paths
relative to the task), plus task-definition members that behave differently in a task (e.g. container
restart policies).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Unpack

from ecs_operator import labels
from ecs_operator.translate.coverage import unmapped_warnings
from ecs_operator.translate.metadata import base_labels, new_object
from ecs_operator.translate.pod import tags_annotation
from ecs_operator.translate.result import Translation, in_path_order
from ecs_operator.translate.workload import Placement, build_workload, pool_of, propagated_tags


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
    task: Mapping[str, Any], taskdef: Mapping[str, Any], **at: Unpack[Placement]
) -> Translation:
    namespace, name, owner = at["namespace"], at["name"], at.get("owner")
    cluster, revision = at["cluster"], at["revision"]
    warnings = list(unmapped_warnings("RunTaskRequest", task))
    effective = apply_overrides(taskdef, task.get("overrides") or {})
    family = str(taskdef.get("family") or "")
    pool, found = pool_of(task, taskdef, at)
    warnings += found
    built = build_workload("task", task, effective, pool, at)
    pod, object_name = built.pod, built.object_name
    pod_labels = base_labels(cluster, task=name, family=family, revision=revision)
    warnings += pod.context_warnings
    warnings += [w for w in pod.warnings if w.path.endswith(".restartPolicy.enabled")]
    objects = list(built.objects)
    annotations = {
        **pod.annotations,
        **tags_annotation(list(task.get("tags") or ()) + list(propagated_tags(task, taskdef))),
        labels.TASK_DEFINITION_ANNOTATION: f"{family}:{revision}",
    }
    for key, annotation in (
        ("group", labels.GROUP_ANNOTATION),
        ("startedBy", labels.STARTED_BY_ANNOTATION),
        ("referenceId", labels.REFERENCE_ID_ANNOTATION),
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
