"""A service's deployments as ECS keeps them, read from its workload.

Each ReplicaSet of the service's Deployment (each revision of its pod template) is one ECS deployment:
the newest is PRIMARY, older ones still running tasks are ACTIVE. Which revision runs is decided in
`plans/rollback.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import labels
from ecs_operator.plans.deployment import deployment_of, legacy_id
from ecs_operator.plans.drift import intent_hash
from ecs_operator.status.pods import pod_is_terminating

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"  # Kubernetes' own, on ReplicaSets


@dataclass(frozen=True)
class RevisionView:
    """One rollout generation of a service's workload: a ReplicaSet, or the DaemonSet's current revision."""

    id: str
    task_definition: str
    desired: int
    pods: tuple[Mapping[str, Any], ...]
    created_at: str
    primary: bool
    key: str | None = None  # the digest of its pod template (plans/deployment.py)


@dataclass(frozen=True)
class WorkloadView:
    revisions: tuple[RevisionView, ...]
    settled: bool  # the controller observed the latest spec and every replica is updated and available
    deadline_exceeded: bool
    desired: int


def primary_deployment(deployments: Iterable[Mapping[str, Any]] | None) -> Mapping[str, Any] | None:
    """The PRIMARY deployment of a service's `deployments` (status or ECS's description alike)."""
    return next((d for d in deployments or () if d.get("status") == "PRIMARY"), None)


def failure_threshold(desired_count: int) -> int:
    """ECS's deployment circuit breaker threshold: half the desired count, at least 3, at most 200."""
    return min(200, max(3, math.ceil(desired_count / 2)))


def last_completed(deployments: Iterable[Mapping[str, Any]]) -> str | None:
    """The task definition of the first deployment (in status order: PRIMARY, ACTIVE, INACTIVE) whose
    rollout completed: what a rollback returns to."""
    for entry in deployments:
        if entry.get("rolloutState") == COMPLETED and entry.get("taskDefinition"):
            return str(entry["taskDefinition"])
    return None


def failed(deployments: Iterable[Mapping[str, Any]], task_definition: str) -> bool:
    return any(
        d.get("rolloutState") == FAILED and d.get("taskDefinition") == task_definition for d in deployments
    )


def selector_string(match_labels: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


def _selected(obj: Mapping[str, Any], match_labels: Mapping[str, str]) -> bool:
    found = obj.get("metadata", {}).get("labels") or {}
    return all(found.get(k) == v for k, v in match_labels.items())


def _rs_revision(replica_set: Mapping[str, Any]) -> int:
    value = (replica_set["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "0")
    return int(value) if str(value).isdigit() else 0


def _template_task_definition(template: Mapping[str, Any]) -> str:
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(labels.TASK_DEFINITION_ANNOTATION, ""))


def _deployment_revisions(
    pods: Sequence[Mapping[str, Any]], replica_sets: Sequence[Mapping[str, Any]]
) -> list[RevisionView]:
    # The newest ReplicaSet (highest revision; a rollback re-numbers the old one) is the rollout target.
    current_revision = max((_rs_revision(rs) for rs in replica_sets), default=0)
    revisions = []
    for rs in replica_sets:
        rs_hash = (rs["metadata"].get("labels") or {}).get("pod-template-hash", rs["metadata"]["name"])
        primary = _rs_revision(rs) == current_revision
        replicas = int(rs["spec"].get("replicas") or 0)
        rs_pods = tuple(
            p for p in pods if (p["metadata"].get("labels") or {}).get("pod-template-hash") == rs_hash
        )
        if not primary and replicas == 0 and all(pod_is_terminating(p) for p in rs_pods):
            continue
        revisions.append(
            RevisionView(
                id=deployment_of(rs)[1] or legacy_id(rs_hash),
                key=deployment_of(rs)[0],
                task_definition=_template_task_definition(rs["spec"]["template"]),
                desired=replicas,
                pods=rs_pods,
                created_at=str(rs["metadata"].get("creationTimestamp", "")),
                primary=primary,
            )
        )
    return revisions


def _daemon_revision(
    workload: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], desired: int
) -> RevisionView:
    task_definition = _template_task_definition(workload["spec"]["template"])
    return RevisionView(
        id=deployment_of(workload)[1] or legacy_id(intent_hash({"td": task_definition})[:10]),
        key=deployment_of(workload)[0],
        task_definition=task_definition,
        desired=desired,
        pods=tuple(pods),
        created_at=str(workload["metadata"].get("creationTimestamp", "")),
        primary=True,
    )


def workload_view(
    workload: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], replica_sets: Sequence[Mapping[str, Any]]
) -> tuple[WorkloadView, str]:
    """The service's deployments as seen in its Deployment (or DaemonSet), ReplicaSets and Pods, and the
    label selector of its tasks (for the scale subresource)."""
    match_labels = (workload.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    status = workload.get("status") or {}
    observed = status.get("observedGeneration", 0) >= workload["metadata"].get("generation", 0)
    pods = [p for p in pods if _selected(p, match_labels)]
    if workload["kind"] == "Deployment":
        desired = int(workload["spec"].get("replicas", 1))
        replica_sets = [rs for rs in replica_sets if _selected(rs, match_labels)]
        revisions = _deployment_revisions(pods, replica_sets)
        progressing: Mapping[str, Any] = next(
            (c for c in status.get("conditions") or () if c.get("type") == "Progressing"), {}
        )
        deadline = (
            progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded"
        )
        settled = observed and all(
            int(status.get(field) or 0) == desired
            for field in ("updatedReplicas", "availableReplicas", "replicas")
        )
    else:
        desired = int(status.get("desiredNumberScheduled") or 0)
        revisions = [_daemon_revision(workload, pods, desired)]
        deadline = False
        settled = observed and all(
            int(status.get(field) or 0) == desired for field in ("updatedNumberScheduled", "numberAvailable")
        )
    view = WorkloadView(
        revisions=tuple(revisions), settled=settled, deadline_exceeded=deadline, desired=desired
    )
    return view, selector_string(match_labels)
