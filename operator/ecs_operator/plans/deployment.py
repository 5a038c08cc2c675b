"""A service's deployments: what its workload's pod template is, which revision it runs (the circuit
breaker's rollback), and the id each deployment keeps from the first answer that shows it.

- forceNewDeployment: the service's `labels.FORCE_NEW_DEPLOYMENT` annotation is copied onto the pod template,
  so each new value starts a new deployment (a new ReplicaSet) of the same revision.
- A deployment is a pod template: its key is a digest of the template, and its id (`ecs-svc/<19 digits>`)
  travels on the template (`labels.DEPLOYMENT_ID`, with the key in `labels.DEPLOYMENT_KEY`), so every
  ReplicaSet and task carries the id of the deployment that started it. The id of a new template is, in
  order: the one the ECS API answered CreateService/UpdateService with (pinned on the EcsService in
  `labels.DEPLOYMENT_PIN` with its key), the one a workload revision of the same template already has (a
  rollback returns to its deployment), else one derived from the service's uid, the key and the
  generation that asked for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import identifiers, labels
from ecs_operator.translate import Translation, translate_service
from ecs_operator.translate.workload import Placement

WORKLOAD_KINDS = ("Deployment", "DaemonSet")
_OWN = (labels.DEPLOYMENT_ID, labels.DEPLOYMENT_KEY)


@dataclass(frozen=True)
class Pin:
    """A deployment id the ECS API answered with, for the pod template of `key`."""

    key: str
    id: str

    def annotation(self) -> dict[str, str]:
        return {labels.DEPLOYMENT_PIN: json.dumps({"key": self.key, "id": self.id}, sort_keys=True)}


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


def service_objects(
    service: Mapping[str, Any], taskdef: Mapping[str, Any], force: Mapping[str, str], **at: Any
) -> Translation:
    """A service's children as the operator applies them, before their deployment id: the translation,
    with the forceNewDeployment token on the pod template. The ECS API derives the same template to know
    the key of the deployment an UpdateService starts."""
    placement: Placement = at  # type: ignore[assignment]
    translation = translate_service(service, taskdef, **placement)
    return Translation(with_template_annotations(translation.objects, force), translation.warnings)


def workload_of(objects: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((o for o in objects if o.get("kind") in WORKLOAD_KINDS), None)


def template_key(workload: Mapping[str, Any]) -> str:
    """The digest of a workload's pod template as the translation builds it (ids left out)."""
    template = dict((workload.get("spec") or {}).get("template") or {})
    metadata = dict(template.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in _OWN}
    template["metadata"] = {**metadata, "annotations": annotations}
    encoded = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def pin_of(service: Mapping[str, Any]) -> Pin | None:
    value = ((service.get("metadata") or {}).get("annotations") or {}).get(labels.DEPLOYMENT_PIN)
    try:
        found = json.loads(value) if value else None
        return Pin(str(found["key"]), str(found["id"])) if isinstance(found, dict) else None
    except (ValueError, KeyError):
        return None


def deployment_of(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(key, id) a ReplicaSet's, DaemonSet's or Deployment's pod template carries, or a Pod's own."""
    if obj.get("kind") == "Pod":
        metadata = obj.get("metadata") or {}
    else:
        metadata = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    return annotations.get(labels.DEPLOYMENT_KEY), annotations.get(labels.DEPLOYMENT_ID)


def choose_id(key: str, service: Mapping[str, Any], revisions: Iterable[Mapping[str, Any]]) -> str:
    """The id of the deployment of the pod template `key` (see the module's docstring)."""
    pin = pin_of(service)
    if pin is not None and pin.key == key:
        return pin.id
    for revision in revisions:
        found_key, found_id = deployment_of(revision)
        if found_key == key and found_id:
            return found_id
    return derived_id(service, key)


def derived_id(service: Mapping[str, Any], key: str) -> str:
    metadata = service.get("metadata") or {}
    return identifiers.deployment_id(
        str(metadata.get("uid") or ""), key, str(metadata.get("generation") or 0)
    )


def with_deployment(
    objects: Sequence[Mapping[str, Any]], key: str, deployment_id: str
) -> list[dict[str, Any]]:
    return with_template_annotations(
        objects, {labels.DEPLOYMENT_ID: deployment_id, labels.DEPLOYMENT_KEY: key}
    )


def legacy_id(template_hash: str) -> str:
    """The id of a ReplicaSet made before deployments carried theirs: its pod-template-hash."""
    return f"{identifiers.DEPLOYMENT_PREFIX}{template_hash}"
