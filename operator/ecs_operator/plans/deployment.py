"""UpdateService's forceNewDeployment: the service's `labels.FORCE_NEW_DEPLOYMENT` annotation, copied onto
the workload's pod template, so each new value starts a new deployment (a new ReplicaSet) of the same
revision, as `kubectl rollout restart` does with its own annotation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator import labels


def template_annotations(service: Mapping[str, Any]) -> dict[str, str]:
    value = ((service.get("metadata") or {}).get("annotations") or {}).get(labels.FORCE_NEW_DEPLOYMENT)
    return {labels.FORCE_NEW_DEPLOYMENT: str(value)} if value else {}
