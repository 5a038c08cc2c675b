"""What a service sync knows without asking the API server: its children and its EcsService, as watched.

Children (Pods, ReplicaSets, Deployments, DaemonSets, Services labelled with their service) come from the
operator's own informers (`ecs_operator.informer`), grouped by (namespace, service) as compact JSON; Pods and
ReplicaSets keep only what the status reads. The EcsService comes from a kopf index. Syncs wait until every
informer has listed once, so a restarted operator never judges a service on half its children.

The watch lags behind the operator's own writes by a moment; until it shows a child the operator applied,
the apply's response stands in for it (`remember_applied`), so a sync in between does not apply the same
object again; the same holds for the operator's own writes to the EcsService (`remember_own_write`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from ecs_operator import API_GROUP, API_VERSION, children, kube, labels
from ecs_operator.handlers._common import LiveLookup
from ecs_operator.informer import Informer

ServiceKey = tuple[str, str]

CHILD_SELECTOR = f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE},{labels.SERVICE}"
REPLICA_SET_ANNOTATIONS = ("deployment.kubernetes.io/revision",)

SERVICE_INDEX = "service_bodies"
_indexes: dict[str, Any] = {}
_own_writes: dict[ServiceKey, dict[str, Any]] = {}
# An apply's response older than this no longer stands in for the watch (which has long caught up).
APPLIED_STANDS_IN_SECONDS = 30.0
_applied: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()  # guards _applied and _own_writes (informer threads, sync threads, the loop)


def _compact(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _pick(source: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: source[k] for k in keys if source.get(k) is not None}


def slim_pod(pod: Mapping[str, Any]) -> dict[str, Any]:
    """A Pod as the status reads it: identity, template hash label, deletion and the whole status."""
    metadata = pod.get("metadata") or {}
    return {
        "metadata": _pick(metadata, ("name", "labels", "creationTimestamp", "deletionTimestamp")),
        "status": dict(pod.get("status") or {}),
    }


def slim_replica_set(replica_set: Mapping[str, Any]) -> dict[str, Any]:
    """A ReplicaSet as the deployment bookkeeping reads it: revision, replicas and the task definition."""
    metadata = replica_set.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    spec = replica_set.get("spec") or {}
    template_annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
    task_definition = template_annotations.get(children.TASK_DEFINITION_ANNOTATION)
    return {
        "metadata": {
            **_pick(metadata, ("name", "labels", "creationTimestamp", "deletionTimestamp")),
            "annotations": {k: annotations[k] for k in REPLICA_SET_ANNOTATIONS if k in annotations},
        },
        "spec": {
            "replicas": spec.get("replicas"),
            "template": {
                "metadata": {
                    "annotations": {children.TASK_DEFINITION_ANNOTATION: task_definition}
                    if task_definition is not None
                    else {}
                }
            },
        },
    }


def without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(obj)
    result["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return result


def _plain(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in body}


def _service_key(obj: Mapping[str, Any]) -> ServiceKey | None:
    metadata = obj.get("metadata") or {}
    service = (metadata.get("labels") or {}).get(labels.SERVICE)
    return (str(metadata.get("namespace", "")), str(service)) if service else None


def _phase(pod: Mapping[str, Any]) -> str | None:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return None
    return str((pod.get("status") or {}).get("phase") or "Pending")


# What each informer keeps of an object (Pods and ReplicaSets: only what the status reads, so their
# frequent status-only updates that change nothing of it are not even reported).
PROJECTIONS: dict[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]] = {
    "Pod": slim_pod,
    "ReplicaSet": slim_replica_set,
    "Deployment": without_managed_fields,
    "DaemonSet": without_managed_fields,
    "Service": without_managed_fields,
}
# The verbs the informers use (the RBAC test reads this).
INFORMER_VERBS = ("list", "watch")

_informers: dict[str, Informer[ServiceKey]] = {}


def start_informers(on_change: Callable[[ServiceKey, str], None]) -> None:
    """Start one informer per child kind; `on_change(service key, namespace)` is called from their threads."""
    for kind, project in PROJECTIONS.items():
        informer: Informer[ServiceKey] = Informer(
            kube.Kube(kube.new_api_client()),
            kind,
            CHILD_SELECTOR,
            key_of=_service_key,
            project=project,
            on_change=on_change,
            tag_of=_phase if kind == "Pod" else lambda _: None,
            on_event=lambda event_type, obj: child_seen(event_type, obj, obj["metadata"].get("namespace")),
        )
        _informers[kind] = informer
        informer.start()


def stop_informers() -> None:
    for informer in _informers.values():
        informer.stop()
    _informers.clear()


def synced() -> bool:
    """Every informer has listed once and kopf's EcsService index is complete (kopf calls handlers, which
    capture it, only then); before that a sync could judge a service on half of what exists."""
    return (
        SERVICE_INDEX in _indexes
        and len(_informers) == len(PROJECTIONS)
        and all(i.synced.is_set() for i in _informers.values())
    )


def pod_phases_in(namespace: str) -> list[str]:
    """Phases of the live service tasks of a namespace (for the cluster's counts)."""
    informer = _informers.get("Pod")
    return informer.tags_in_namespace(namespace) if informer is not None else []


@kopf.index(API_GROUP, API_VERSION, "ecsservices", id=SERVICE_INDEX)
async def service_bodies(
    namespace: str | None, name: str | None, body: kopf.Body, **_: Any
) -> dict[ServiceKey, str]:
    return {(namespace or "", str(name)): _compact(without_managed_fields(_plain(body)))} if name else {}


def remember_own_write(key: ServiceKey, written: Mapping[str, Any]) -> None:
    """The operator wrote the EcsService (status, finalizers): until the watch shows that version, the
    indexed body is older than the response, which stands in for it."""
    with _lock:
        _own_writes[key] = without_managed_fields(written)


def own_write_seen(key: ServiceKey, resource_version: str | None) -> bool:
    """True (and the stand-in dropped) when a watch event is the echo of the operator's own last write."""
    with _lock:
        own = _own_writes.get(key)
        if own is None or own["metadata"].get("resourceVersion") != resource_version:
            return False
        del _own_writes[key]
        return True


def forget_service(key: ServiceKey) -> None:
    with _lock:
        _own_writes.pop(key, None)


def capture(handler_kwargs: Mapping[str, Any]) -> None:
    """kopf passes its indexes to handlers only; keep them for the snapshots (called on the loop)."""
    if SERVICE_INDEX not in _indexes and SERVICE_INDEX in handler_kwargs:
        _indexes[SERVICE_INDEX] = handler_kwargs[SERVICE_INDEX]


@dataclass(frozen=True)
class ServiceChildren:
    """One service's children as the watches last showed them (compact JSON, decoded on use)."""

    pods: tuple[str, ...] = ()
    replica_sets: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    body: str | None = None  # the EcsService as the watch last showed it
    own_write: Mapping[str, Any] | None = None  # the operator's last write, when the watch has not shown it

    def current_body(self, read: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """The EcsService: the watched one when it is current, else `read()` (a GET)."""
        if self.body is None:
            return read()
        watched: dict[str, Any] = json.loads(self.body)
        if self.own_write is None:
            return watched
        if self.own_write["metadata"].get("resourceVersion") == watched["metadata"].get("resourceVersion"):
            return watched
        return read()

    def decoded_pods(self) -> list[dict[str, Any]]:
        return [json.loads(p) for p in self.pods]

    def decoded_replica_sets(self) -> list[dict[str, Any]]:
        return [json.loads(r) for r in self.replica_sets]

    def decoded_cached(self) -> list[dict[str, Any]]:
        """The workloads and Services (the kinds the operator applies and reads from the indexes)."""
        return [json.loads(o) for o in (*self.workloads, *self.services)]


def snapshot(key: ServiceKey) -> ServiceChildren:
    """One service's children and body as last watched; called on kopf's event loop (the kopf index)."""

    def values(kind: str) -> tuple[str, ...]:
        informer = _informers.get(kind)
        return informer.values(key) if informer is not None else ()

    index = _indexes.get(SERVICE_INDEX)
    store = index.get(key) if index is not None else None
    bodies = tuple(store) if store else ()
    with _lock:
        own_write = _own_writes.get(key)
    return ServiceChildren(
        pods=values("Pod"),
        replica_sets=values("ReplicaSet"),
        workloads=values("Deployment") + values("DaemonSet"),
        services=values("Service"),
        body=bodies[0] if bodies else None,
        own_write=own_write,
    )


def _intent(obj: Mapping[str, Any] | None) -> str | None:
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    value = annotations.get(children.INTENT_ANNOTATION)
    return str(value) if value is not None else None


def remember_applied(obj: Mapping[str, Any]) -> None:
    metadata = obj["metadata"]
    key = (obj["kind"], metadata.get("namespace", ""), metadata["name"])
    now = time.monotonic()
    with _lock:
        _applied[key] = (now, without_managed_fields(obj))
        if len(_applied) > 256:
            for expired in [k for k, (at, _) in _applied.items() if now - at > APPLIED_STANDS_IN_SECONDS]:
                del _applied[expired]


def child_seen(event_type: str | None, body: Mapping[str, Any], namespace: str | None) -> None:
    """The watch caught up with (or deleted) a child: the stand-in from the apply is no longer needed."""
    metadata = body.get("metadata") or {}
    key = (str(body.get("kind", "")), namespace or "", str(metadata.get("name", "")))
    with _lock:
        applied = _applied.get(key)
        if applied is not None and (event_type == "DELETED" or _intent(body) == _intent(applied[1])):
            del _applied[key]


def live_lookup(namespace: str, known: ServiceChildren) -> LiveLookup:
    """Live children for `apply_children`: the watched kinds from the snapshot (or a newer own apply),
    anything else with a GET."""
    cached = {(o.get("kind"), o["metadata"]["name"]): o for o in known.decoded_cached()}

    def live_of(kind: str, name: str, obj_namespace: str | None) -> dict[str, Any] | None:
        if kind not in ("Deployment", "DaemonSet", "Service"):
            return kube.shared().get(kind, name, obj_namespace)
        found = cached.get((kind, name))
        with _lock:
            stand_in = _applied.get((kind, obj_namespace or namespace, name))
        if stand_in is None or time.monotonic() - stand_in[0] > APPLIED_STANDS_IN_SECONDS:
            return found
        applied = stand_in[1]
        return applied if found is None or _intent(found) != _intent(applied) else found

    return live_of
