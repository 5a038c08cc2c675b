"""A reconcile's plan: every write one pass will make, computed in pure code, performed by `execute`.

"Unchanged" is a real outcome: a plan with nothing to apply, delete, post or patch writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import labels
from ecs_operator.plans.drift import needs_apply, with_intent_hash


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post on the custom resource."""

    type: str  # Normal or Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Deletion:
    kind: str
    namespace: str
    name: str
    propagation: str = "Background"


@dataclass(frozen=True)
class Patch:
    """A merge patch of an object other than the custom resource's status (a Node's cordon, a Pod's
    annotations before it is stopped)."""

    kind: str
    namespace: str
    name: str
    patch: Mapping[str, Any]


@dataclass(frozen=True)
class Plan:
    body: Mapping[str, Any]  # the custom resource as the pass read it
    apply: tuple[Mapping[str, Any], ...] = ()  # children to server-side apply (intent-annotated)
    patches: tuple[Patch, ...] = ()  # made after the applies and before the deletions
    delete: tuple[Deletion, ...] = ()
    events: tuple[Event, ...] = ()
    status: Mapping[str, Any] | None = None  # the whole desired status; None leaves it as it is
    finalizers: tuple[str, ...] | None = None  # the desired metadata.finalizers; None leaves them
    requeue_after: float | None = None

    @property
    def writes_nothing(self) -> bool:
        previous = self.body.get("status") or {}
        finalizers = tuple(self.body["metadata"].get("finalizers") or ())
        return (
            not self.apply
            and not self.patches
            and not self.delete
            and not self.events
            and (self.status is None or dict(self.status) == previous)
            and (self.finalizers is None or self.finalizers == finalizers)
        )


LiveChildren = Mapping[tuple[str, str], Mapping[str, Any]]  # (kind, name) -> the live child


def without_argocd_tracking(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Argo CD's tracking metadata must never reach the children (Argo CD would prune them as its own)."""
    result = dict(obj)
    metadata = dict(result.get("metadata") or {})
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if values:
            metadata[field] = {
                k: v for k, v in values.items() if not k.startswith(labels.ARGOCD_TRACKING_PREFIXES)
            }
    result["metadata"] = metadata
    return result


def to_apply(desired: Iterable[Mapping[str, Any]], live: LiveChildren) -> tuple[dict[str, Any], ...]:
    """The desired children that are missing, changed or drifted, intent-annotated for the apply."""
    result = []
    for obj in desired:
        intent = with_intent_hash(without_argocd_tracking(obj))
        if needs_apply(intent, live.get((intent["kind"], intent["metadata"]["name"]))):
            result.append(intent)
    return tuple(result)


def to_prune(
    desired: Iterable[Mapping[str, Any]], live: LiveChildren, owner_uid: str, kinds: Sequence[str]
) -> tuple[Deletion, ...]:
    """Live children of `kinds` owned by `owner_uid` that the desired state no longer has."""
    keep = {(o["kind"], o["metadata"]["name"]) for o in desired}
    deletions = []
    for (kind, name), obj in sorted(live.items()):
        if kind not in kinds or (kind, name) in keep:
            continue
        owners = obj.get("metadata", {}).get("ownerReferences") or ()
        if any(o.get("uid") == owner_uid for o in owners):
            deletions.append(Deletion(kind, str(obj["metadata"].get("namespace", "")), name))
    return tuple(deletions)


def finalizers(
    body: Mapping[str, Any], add: Sequence[str] = (), remove: Sequence[str] = ()
) -> tuple[str, ...] | None:
    """The object's finalizers with `add` present and `remove` absent; None when they already are."""
    current = tuple(body["metadata"].get("finalizers") or ())
    wanted = tuple(f for f in current if f not in remove) + tuple(f for f in add if f not in current)
    return None if wanted == current else wanted
