"""What every kind's handler does the same way: apply children quietly, write status only when changed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ecs_operator import API_GROUP, API_VERSION, children, kube, labels
from ecs_operator.handlers._memo import Memo
from ecs_operator.status import spec_error_status, status_patch

log = logging.getLogger("ecs_operator.handlers")

GROUP = API_GROUP
VERSION = API_VERSION
MANAGED = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE}

# Argo CD's tracking metadata must never reach the children (Argo CD would prune them as its own).
_ARGOCD_KEYS = ("app.kubernetes.io/instance", "argocd.argoproj.io/")


def without_argocd_tracking(obj: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(obj)
    metadata = dict(result.get("metadata") or {})
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if values:
            metadata[field] = {k: v for k, v in values.items() if not k.startswith(_ARGOCD_KEYS)}
    result["metadata"] = metadata
    return result


LiveLookup = Callable[[str, str, str | None], dict[str, Any] | None]


def apply_children(
    objects: Iterable[Mapping[str, Any]], live_of: LiveLookup | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Apply each object that is missing, changed or drifted; returns the live objects and whether any
    write happened. `live_of(kind, name, namespace)` gives the live object (default: a GET)."""
    client = kube.shared()
    lookup = live_of or client.get
    live_objects = []
    wrote = False
    for obj in objects:
        intent = children.with_intent_hash(without_argocd_tracking(obj))
        metadata = intent["metadata"]
        live = lookup(intent["kind"], metadata["name"], metadata.get("namespace"))
        if children.needs_apply(intent, live):
            live = client.apply(intent)
            wrote = True
        assert live is not None
        live_objects.append(live)
    return live_objects, wrote


def write_status(body: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any] | None:
    """Patch the status of the custom resource `body` only where it differs; the updated object when
    written, else None."""
    patch = status_patch(body.get("status") or {}, desired)
    if not patch:
        return None
    metadata = body["metadata"]
    return kube.shared().patch_status(body["kind"], metadata["name"], metadata.get("namespace"), patch)


def report_spec_error(body: Mapping[str, Any], reason: str, message: str, now: str) -> None:
    """Degraded with the message naming the fields; an Event the first time this message is seen."""
    previous = body.get("status") or {}
    generation = body["metadata"].get("generation")
    status = spec_error_status(previous, generation, reason, message, now)
    old: Mapping[str, Any] = next(
        (c for c in previous.get("conditions") or () if c.get("type") == "Degraded"), {}
    )
    if old.get("status") != "True" or old.get("message") != message:
        kube.shared().post_event(body, reason, message, "Warning")
    write_status(body, status)
    log.warning("%s %s: %s", body["kind"], body["metadata"]["name"], message.replace("\n", "; "))


def spec_error_message(error: Exception) -> str:
    """A SpecError as one line per field (`path: message`), joined for a condition message."""
    return "; ".join(line for line in str(error).splitlines() if line.strip())


# Every sync needs its namespace's cluster; the EcsCluster handler invalidates this on any cluster change.
CLUSTER_CACHE_SECONDS = 30.0
clusters: Memo[str, tuple[str, list[dict[str, Any]] | None]] = Memo(CLUSTER_CACHE_SECONDS)


def cluster_of_namespace(namespace: str) -> tuple[str, list[dict[str, Any]] | None]:
    """The ECS cluster a namespace belongs to (its cluster label, else the namespace name) and that
    cluster's defaultCapacityProviderStrategy."""
    return clusters.get(namespace, lambda: _read_cluster_of_namespace(namespace))


def _read_cluster_of_namespace(namespace: str) -> tuple[str, list[dict[str, Any]] | None]:
    client = kube.shared()
    ns = client.get("Namespace", namespace)
    name = str(((ns or {}).get("metadata", {}).get("labels") or {}).get(labels.CLUSTER, namespace))
    cluster = client.get("EcsCluster", name)
    strategy = ((cluster or {}).get("spec") or {}).get("defaultCapacityProviderStrategy")
    return name, list(strategy) if strategy else None
