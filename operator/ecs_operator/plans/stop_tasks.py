"""StopTask on a task of a service or of a multi-task EcsTask: which Pods to stop, and why.

The API records `{"<task id>": "<reason>"}` in the owner's `labels.STOP_TASKS` annotation. For each live
Pod named there the operator writes `labels.STOP_CODE` / `labels.STOPPED_REASON` on the Pod (what a
description reads once the Pod is gone), then deletes it; a service's ReplicaSet starts a replacement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import identifiers, labels

USER_INITIATED = "UserInitiated"


@dataclass(frozen=True)
class Stop:
    pod: str
    reason: str

    def annotations(self) -> dict[str, str]:
        return {labels.STOP_CODE: USER_INITIATED, labels.STOPPED_REASON: self.reason}


def requests(owner: Mapping[str, Any]) -> dict[str, str]:
    """The owner's stop requests; an annotation that is not a JSON object of strings asks for nothing."""
    value = ((owner.get("metadata") or {}).get("annotations") or {}).get(labels.STOP_TASKS)
    try:
        found = json.loads(value) if value else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items()}


def plan(owner: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> list[Stop]:
    """The owner's live Pods a stop request names and that are not stopping yet."""
    wanted = requests(owner)
    stops = []
    for pod in pods:
        metadata = pod.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            continue
        reason = wanted.get(identifiers.id_of_uid(str(metadata.get("uid") or "")))
        if reason is not None:
            stops.append(Stop(str(metadata["name"]), reason))
    return stops
