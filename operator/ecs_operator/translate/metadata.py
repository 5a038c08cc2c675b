"""Labels, owner references and object skeletons shared by every kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator import labels
from ecs_operator.naming import label_value


def selector_labels(cluster: str, **extra: str) -> dict[str, str]:
    """The labels that pick a workload's pods: cluster + service (or task) only, stable across revisions."""
    result = base_labels(cluster, **extra)
    del result[labels.MANAGED_BY]
    return result


def managed(selector: Mapping[str, str]) -> dict[str, str]:
    """Selector labels + managed-by: the labels of a workload's companion objects."""
    return {**selector, labels.MANAGED_BY: labels.MANAGED_BY_VALUE}


def base_labels(cluster: str, **extra: str | int | None) -> dict[str, str]:
    """`ecs.operator.dev/cluster` + the given ones (service, task, family, revision) + managed-by."""
    keys = {
        "service": labels.SERVICE,
        "task": labels.TASK,
        "family": labels.FAMILY,
        "revision": labels.REVISION,
    }
    result = {labels.CLUSTER: label_value(cluster)}
    for name, value in extra.items():
        if value is not None and value != "":
            result[keys[name]] = label_value(str(value))
    result[labels.MANAGED_BY] = labels.MANAGED_BY_VALUE
    return result


def owner_identity(body: Mapping[str, Any]) -> dict[str, str]:
    """What an ownerReference names of a custom resource body (apiVersion, kind, name, uid)."""
    return {
        "apiVersion": str(body["apiVersion"]),
        "kind": str(body["kind"]),
        "name": str(body["metadata"]["name"]),
        "uid": str(body["metadata"]["uid"]),
    }


def owner_references(owner: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """The one way children name their owner: a controller reference that blocks the owner's deletion."""
    if not owner:
        return []
    return [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["name"],
            "uid": owner["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def new_object(
    api_version: str,
    kind: str,
    name: str,
    *,
    namespace: str | None,
    object_labels: Mapping[str, str],
    owner: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = dict(object_labels)
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    references = owner_references(owner)
    if references:
        metadata["ownerReferences"] = references
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}
