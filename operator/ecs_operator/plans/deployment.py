"""UpdateService's forceNewDeployment: the service's `labels.FORCE_NEW_DEPLOYMENT` annotation, copied onto
the workload's pod template, so each new value starts a new deployment (a new ReplicaSet) of the same
revision, as `kubectl rollout restart` does with its own annotation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator import labels

WORKLOAD_KINDS = ("Deployment", "DaemonSet")


def template_annotations(service: Mapping[str, Any]) -> dict[str, str]:
    value = ((service.get("metadata") or {}).get("annotations") or {}).get(labels.FORCE_NEW_DEPLOYMENT)
    return {labels.FORCE_NEW_DEPLOYMENT: str(value)} if value else {}


def with_template_annotations(
    objects: Sequence[Mapping[str, Any]], annotations: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The translated objects with `annotations` added to the workload's pod template."""
    result = []
    for obj in objects:
        copy = dict(obj)
        if annotations and obj.get("kind") in WORKLOAD_KINDS:
            spec = dict(copy["spec"])
            template = dict(spec["template"])
            metadata = dict(template.get("metadata") or {})
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
            template["metadata"] = metadata
            spec["template"] = template
            copy["spec"] = spec
        result.append(copy)
    return result
