"""What the operations read: the custom resources, their status and their children, from watch caches.

`InformerStore` (the endpoint, the console) keeps one `Informer` per kind, listed once and then watched,
so a request never GETs. What ECS keeps of stopped tasks and deleted services is in the cluster (the
records in a service's and a cluster's status), not here; `gone` only gives the last state of an object
deleted in the last minutes: a finished task's Pod for a page, a deleted service until its cluster's record
of it is written. `ListStore` (`kubectl ecs`, a
one-shot command acting with the user's own kubeconfig) lists what an operation needs, once per
`refresh()`.

Both index every kind by the key an ECS request names it with (`KEYS`): a cluster by name, a service by
(namespace, serviceName), a task definition and its revisions by family (they are regional), a task Pod by
(namespace, task id), a container instance (Node) by its cluster.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any, Protocol

from ecs_operator import identifiers, labels
from ecs_operator.account import account_namespace
from ecs_operator.ecsapi.listing import Ordered, RowFilter, RowOrder, ServiceRow, Tally, page_of, service_row
from ecs_operator.kube import Kube
from ecs_operator.naming import cluster_name, cluster_object_name, family_name, service_name
from ecs_operator.plans.deployment import legacy_id
from ecs_operator.runtime import Caches, Change, Source

CLUSTER = "EcsCluster"
TASK_DEFINITION = "EcsTaskDefinition"
SERVICE = "EcsService"
TASK = "EcsTask"
REVISION = "ControllerRevision"
POD = "Pod"
NODE = "Node"
CONFIGMAP = "ConfigMap"  # the account's settings (account.SETTINGS_CONFIGMAP)
CAPACITY_PROVIDER = "EcsCapacityProvider"

MANAGED = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE}

Obj = dict[str, Any]


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _namespace(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("namespace") or "")


def family_of_revision(obj: Mapping[str, Any]) -> str:
    annotations = _meta(obj).get("annotations") or {}
    return str(annotations.get(labels.REVISION_FAMILY) or (obj.get("data") or {}).get("family") or "")


def task_id(pod: Mapping[str, Any]) -> str:
    return identifiers.id_of_uid(str(_meta(pod).get("uid") or ""))


def node_cluster(node: Mapping[str, Any]) -> str:
    return str((_meta(node).get("labels") or {}).get(labels.CLUSTER) or "")


KEYS: dict[str, Callable[[Mapping[str, Any]], Hashable]] = {
    CLUSTER: cluster_name,
    TASK_DEFINITION: family_name,
    SERVICE: lambda o: (_namespace(o), service_name(o)),
    TASK: lambda o: (_namespace(o), str(_meta(o).get("name") or "")),
    REVISION: family_of_revision,
    POD: lambda o: (_namespace(o), task_id(o)),
    NODE: node_cluster,
    CONFIGMAP: lambda o: str(_meta(o).get("name") or ""),
    CAPACITY_PROVIDER: lambda o: str((o.get("spec") or {}).get("name") or _meta(o).get("name") or ""),
}
# Server-side label selectors (the API server filters the watches).
SELECTORS = {
    CLUSTER: "",
    TASK_DEFINITION: "",
    SERVICE: "",
    TASK: "",
    REVISION: f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE},{labels.FAMILY}",
    POD: f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE}",
    NODE: labels.CLUSTER,
    CONFIGMAP: labels.ACCOUNT_SETTINGS,
    CAPACITY_PROVIDER: "",
}
# Account-level kinds live in the account namespace only.
ACCOUNT_KINDS = (REVISION, CONFIGMAP)


def slim(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without managedFields (nothing here reads them)."""
    result = dict(obj)
    result["metadata"] = {k: v for k, v in _meta(obj).items() if k != "managedFields"}
    return result


def slim_pod(pod: Mapping[str, Any]) -> dict[str, Any]:
    """A task Pod as a task description reads it."""
    metadata = _meta(pod)
    spec = pod.get("spec") or {}
    return {
        "metadata": {
            k: metadata[k]
            for k in (
                "name",
                "namespace",
                "uid",
                "labels",
                "annotations",
                "creationTimestamp",
                "deletionTimestamp",
            )
            if k in metadata
        },
        "spec": {
            "nodeName": spec.get("nodeName"),
            "containers": [
                {"name": c.get("name"), "image": c.get("image"), "resources": c.get("resources") or {}}
                for c in spec.get("containers") or ()
            ],
        },
        "status": dict(pod.get("status") or {}),
    }


def project(kind: str) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    return slim_pod if kind == POD else slim


def task_summary(pod: Mapping[str, Any]) -> dict[str, Any]:
    """What ListTasks filters a task Pod on (kept beside the Pod as compact JSON, so a list of a thousand
    tasks decodes a thousand small objects rather than a thousand Pods)."""
    metadata = _meta(pod)
    pod_labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    summary = {
        "id": task_id(pod),
        "service": pod_labels.get(labels.SERVICE),
        "task": pod_labels.get(labels.TASK),
        "taskDefinition": annotations.get(labels.TASK_DEFINITION_ANNOTATION),
        "deployment": annotations.get(labels.DEPLOYMENT_ID),
        "templateHash": pod_labels.get("pod-template-hash"),
        "startedBy": annotations.get(labels.STARTED_BY_ANNOTATION),
        "stopping": bool(metadata.get("deletionTimestamp")),
        "node": (pod.get("spec") or {}).get("nodeName"),
    }
    return {k: v for k, v in summary.items() if v is not None}


def summary_family(summary: Mapping[str, Any]) -> str:
    return identifiers.task_definition_reference(str(summary.get("taskDefinition") or ""))[0]


def service_task_started_by(summary: Mapping[str, Any]) -> str:
    """Who started a service's task, as ListTasks' startedBy compares it: its deployment id (of its
    ReplicaSet's template hash for Pods from before deployment ids)."""
    return str(summary.get("deployment") or legacy_id(str(summary.get("templateHash"))))


def _started_by(summary: Mapping[str, Any]) -> str:
    if summary.get("service"):
        return service_task_started_by(summary)
    return str(summary.get("startedBy") or "")  # what RunTask was given


# The ways ListTasks narrows a namespace's task Pods (`Within`), each the group a summary belongs to; ""
# when a summary does not say (a Pod without the annotation: every page of that dimension reads them).
# "all" is one group of every task: an unfiltered page reads one sorted list, not a merge of thousands of
# services' groups.
TASK_GROUPS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "all": lambda summary: "",
    "service": lambda summary: str(summary.get("service") or ""),
    "family": summary_family,
    "startedBy": _started_by,
}
Within = tuple[str, Collection[str]]  # (a key of TASK_GROUPS, the values kept)


def within_groups(within: Within) -> list[str]:
    """The groups a page `within` reads: those named, and for a dimension other than the service (a Pod
    with no service is in no service's group) the Pods that do not say."""
    dimension, values = within
    return [*values] if dimension == "service" else [*values, ""]


class Store(Protocol):
    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        """An object by namespace ("" when cluster-scoped) and metadata.name."""

    def find(self, kind: str, key: Hashable) -> list[Obj]:
        """The objects of `kind` an ECS request names with `key` (see `KEYS`)."""

    def in_namespace(self, kind: str, namespace: str) -> list[Obj]:
        """Every object of `kind` in a namespace ("" for the cluster-scoped kinds)."""

    def gone(self, kind: str, key: Hashable) -> Obj | None:
        """The last state of an object of `kind` named `key` deleted in the last minutes, if known."""

    def find_index(self, kind: str, index: str, value: Hashable) -> list[Obj]:
        """The objects an extra index (`INDEXES`) maps to `value`."""

    def task_summaries(self, namespace: str) -> list[Obj]:
        """`task_summary` of every task Pod of a namespace."""

    def services_page(
        self, namespace: str, key: RowOrder, after: str | None, keep: RowFilter, size: int
    ) -> list[ServiceRow]:
        """Up to `size` services of a namespace that `keep` keeps, in the order of `key` (their ARN),
        after `after` (`listing.Ordered.page`)."""

    def service_row(self, namespace: str, name: str) -> ServiceRow | None:
        """The row of one EcsService (by metadata.name)."""

    def tasks_page(
        self,
        namespace: str,
        after: str | None,
        keep: Callable[[Obj], bool],
        size: int,
        within: Within | None = None,
    ) -> list[Obj]:
        """Up to `size` task summaries of a namespace's task Pods that `keep` keeps, in the order of their
        task ids, after the id `after`; when `within` is given, read only the groups it names (the tasks of
        some EcsServices by metadata.name, of a family, or started by someone): `keep` still decides."""

    def tally(self, namespace: str) -> Tally:
        """A copy of a namespace's counts of task Pods and services."""

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Until `predicate()` (re-evaluated as the caches change) or `timeout` seconds; its last value."""

    def refresh(self) -> None:
        """Forget what a list-based store read (a no-op for watch caches, which are always current)."""


def stopped_tasks(service: Mapping[str, Any]) -> list[Hashable]:
    """Index: the ids of the stopped tasks a service's status records."""
    records = (service.get("status") or {}).get("stoppedTasks") or ()
    ids = (identifiers.name_in(str(r.get("taskArn") or ""), "task") for r in records)
    return [(_namespace(service), task) for task in ids if task]


# Indexes beside `key`, by kind.
def recording(service: Mapping[str, Any]) -> list[Hashable]:
    """Index: `(namespace,)` of a service whose status records stopped tasks (ListTasks reads only those)."""
    return [(_namespace(service),)] if (service.get("status") or {}).get("stoppedTasks") else []


INDEXES: dict[str, dict[str, Callable[[Mapping[str, Any]], list[Hashable]]]] = {
    SERVICE: {"stopped": stopped_tasks, "recording": recording},
}


def _key_index(kind: str) -> Callable[[Mapping[str, Any]], list[Hashable]]:
    return lambda obj: [KEYS[kind](obj)]


def oldest_live(objects: Sequence[Obj]) -> Obj | None:
    """Of several objects claiming one ECS name, the one that has it: live before deleting, then oldest."""
    ordered = sorted(
        objects,
        key=lambda o: (
            bool((o.get("metadata") or {}).get("deletionTimestamp")),
            str((o.get("metadata") or {}).get("creationTimestamp") or ""),
            str((o.get("metadata") or {}).get("name")),
        ),
    )
    return ordered[0] if ordered else None


SOURCES = tuple(
    Source(
        kind,
        SELECTORS[kind],
        project=project(kind),
        indexes={"key": _key_index(kind), **INDEXES.get(kind, {})},
        namespace=account_namespace() if kind in ACCOUNT_KINDS else None,
    )
    for kind in KEYS
)


class Listings:
    """What the list operations read, kept from the caches' changes: each namespace's task summaries and
    services in ECS's list order, and its counts (cluster statistics), so that neither a page nor a count
    walks every object."""

    def __init__(self) -> None:
        # guards everything below (informer threads, request threads); reentrant: a page's `keep` may read
        # a row
        self._lock = threading.RLock()
        self._summaries: dict[str, dict[str, str]] = {}  # namespace -> Pod name -> task_summary as JSON
        # namespace -> its services (by ARN format, then name); its task Pods' summaries (by task id) once
        # per TASK_GROUPS dimension, grouped by it, so a page within a group reads that group alone
        self._services: dict[str, Ordered[ServiceRow]] = {}
        self._tasks: dict[str, dict[str, Ordered[tuple[str, str]]]] = {}  # rows: (task id, summary)
        self._tallies: dict[str, Tally] = {}

    def on_change(self, change: Change) -> None:
        current = change.new if change.new is not None else change.old
        assert current is not None
        namespace, name = _namespace(current), str(_meta(current).get("name"))
        with self._lock:
            tally = self._tallies.setdefault(namespace, Tally())
            if change.kind == POD:
                by_name = self._summaries.setdefault(namespace, {})
                tasks = self._tasks.setdefault(namespace, {d: Ordered() for d in TASK_GROUPS})
                if change.old is not None:
                    tally.pod(change.old, -1)
                if change.new is None:
                    by_name.pop(name, None)
                    for grouped in tasks.values():
                        grouped.discard(name)
                else:
                    summary = task_summary(change.new)
                    encoded = json.dumps(summary, separators=(",", ":"))
                    if by_name.get(name) != encoded:  # most Pod changes leave the summary as it was
                        by_name[name] = encoded
                        listed = (str(summary["id"]), encoded)
                        for dimension, group in TASK_GROUPS.items():
                            tasks[dimension].put(name, group(summary), listed[0], listed)
                    tally.pod(change.new, 1)
            elif change.kind == SERVICE:
                services = self._services.setdefault(namespace, Ordered())
                if change.old is not None:
                    tally.service(service_row(change.old), -1)
                if change.new is None:
                    services.discard(name)
                else:
                    row = service_row(change.new)
                    services.put(name, row.long_arn, row.name, row)
                    tally.service(row, 1)

    def task_summaries(self, namespace: str) -> list[Obj]:
        with self._lock:
            found = list((self._summaries.get(namespace) or {}).values())
        return [json.loads(summary) for summary in found]

    def services_page(
        self, namespace: str, key: RowOrder, after: str | None, keep: RowFilter, size: int
    ) -> list[ServiceRow]:
        with self._lock:
            return self._services.get(namespace, Ordered()).page(key, after, keep, size)

    def service_row(self, namespace: str, name: str) -> ServiceRow | None:
        with self._lock:
            services = self._services.get(namespace)
            return services.get(name) if services is not None else None

    def tasks_page(
        self,
        namespace: str,
        after: str | None,
        keep: Callable[[Obj], bool],
        size: int,
        within: Within | None = None,
    ) -> list[Obj]:
        def kept(row: tuple[str, str]) -> bool:
            return keep(json.loads(row[1]))

        dimension, groups = ("all", None) if within is None else (within[0], within_groups(within))
        with self._lock:
            tasks = self._tasks.get(namespace, {}).get(dimension, Ordered())
            found = tasks.page(lambda row: row[0], after, kept, size, groups)
        return [json.loads(summary) for _, summary in found]

    def tally(self, namespace: str) -> Tally:
        with self._lock:
            return self._tallies.get(namespace, Tally()).copy()


class InformerStore(Listings):
    """Watch caches (the runtime's informers) of every kind the operations read, and the listings kept
    from them; `start()`, then wait until `synced()`."""

    def __init__(
        self, client_factory: Callable[[], Kube], clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._clock = clock
        self._changed = threading.Condition()
        self._caches = Caches(SOURCES, client_factory=client_factory)
        for kind in KEYS:
            self._caches[kind].subscribe(self._on_change)

    def start(self) -> None:
        self._caches.start()

    def subscribe(self, callback: Callable[[Change], None]) -> None:
        """`callback(change)` after every change of a cached object, on the informer's thread: how the
        console hears of changes from these watches rather than watching (or polling) on its own."""
        for kind in KEYS:
            self._caches[kind].subscribe(callback)

    def stop(self) -> None:
        self._caches.stop()

    def synced(self) -> bool:
        return self._caches.synced()

    def wait_synced(self, timeout: float) -> bool:
        return self.wait(self.synced, timeout)

    def _on_change(self, change: Change) -> None:
        """On an informer's thread: keep the listings, wake the waiters."""
        self.on_change(change)
        with self._changed:
            self._changed.notify_all()

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self._caches[kind].get(namespace, name)

    def find(self, kind: str, key: Hashable) -> list[Obj]:
        return self._caches[kind].by_index("key", key)

    def in_namespace(self, kind: str, namespace: str) -> list[Obj]:
        return self._caches[kind].objects(namespace)

    def gone(self, kind: str, key: Hashable) -> Obj | None:
        found = self._caches[kind].gone("key", key)
        return found[-1] if found else None

    def find_index(self, kind: str, index: str, value: Hashable) -> list[Obj]:
        return self._caches[kind].by_index(index, value)

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = self._clock() + timeout
        with self._changed:
            while True:
                if predicate():
                    return True
                left = deadline - self._clock()
                if left <= 0:
                    return False
                # Woken by every cache change; the bound covers a change made between check and wait.
                self._changed.wait(min(left, 0.5))

    def refresh(self) -> None:
        return None


class ListStore:
    """Reads by listing, with the caller's own rights; a list is reused until `refresh()`."""

    POLL_SECONDS = 1.0

    def __init__(self, client: Kube) -> None:
        self._client = client
        self._lists: dict[tuple[str, str, str], list[Obj]] = {}

    def refresh(self) -> None:
        self._lists.clear()

    def _list(self, kind: str, namespace: str, selector: Mapping[str, str] | None = None) -> list[Obj]:
        from ecs_operator.ecsapi.context import kube_errors

        memo = (kind, namespace, json.dumps(selector, sort_keys=True))
        if memo not in self._lists:
            with kube_errors(
                f"listing {kind} in namespace {namespace!r}" if namespace else f"listing {kind}"
            ):
                items = self._client.list(kind, namespace or None, selector)
            self._lists[memo] = [dict(project(kind)({"kind": kind, **o})) for o in items]
        return self._lists[memo]

    def _all(self, kind: str, namespace: str) -> list[Obj]:
        if kind in (POD, REVISION):
            return self._list(kind, namespace, MANAGED)
        if kind == CONFIGMAP:
            return self._list(kind, namespace, {labels.ACCOUNT_SETTINGS: "true"})
        return self._list(kind, namespace)

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return next((o for o in self._all(kind, namespace) if _meta(o).get("name") == name), None)

    def _clusters(self, name: str) -> list[Obj]:
        """The EcsClusters of an ECS name. A user whose rights end at a namespace may not read the
        (cluster-scoped) EcsClusters: then the cluster is taken to own the namespace its name derives,
        the default (docs/ecs-api.md)."""
        from ecs_operator.ecsapi.errors import AccessDeniedException

        try:
            return [o for o in self._all(CLUSTER, "") if cluster_name(o) == name]
        except AccessDeniedException:
            pass
        derived = cluster_object_name(name)
        return [{"kind": CLUSTER, "metadata": {"name": derived}, "spec": {"clusterName": name}}]

    def find(self, kind: str, key: Hashable) -> list[Obj]:
        if kind == NODE:
            return self._list(NODE, "", {labels.CLUSTER: str(key)})
        if kind == CLUSTER:
            return self._clusters(str(key))
        if kind in (TASK_DEFINITION, CAPACITY_PROVIDER):
            return [o for o in self._all(kind, "") if KEYS[kind](o) == key]
        if kind == REVISION:
            return [o for o in self._all(kind, account_namespace()) if KEYS[kind](o) == key]
        return [o for o in self._all(kind, str(key[0])) if KEYS[kind](o) == key]  # type: ignore[index]

    def in_namespace(self, kind: str, namespace: str) -> list[Obj]:
        return list(self._all(kind, namespace))

    def gone(self, kind: str, key: Hashable) -> Obj | None:
        return None

    def find_index(self, kind: str, index: str, value: Hashable) -> list[Obj]:
        namespace = str(value[0]) if isinstance(value, tuple) else ""  # the extra indexes are namespaced
        return [o for o in self._all(kind, namespace) if value in INDEXES[kind][index](o)]

    def task_summaries(self, namespace: str) -> list[Obj]:
        return [task_summary(p) for p in self._all(POD, namespace)]

    def services_page(
        self, namespace: str, key: RowOrder, after: str | None, keep: RowFilter, size: int
    ) -> list[ServiceRow]:
        rows = (service_row(o) for o in self._all(SERVICE, namespace))
        return page_of(rows, key, after, keep, size)

    def service_row(self, namespace: str, name: str) -> ServiceRow | None:
        found = self.get(SERVICE, namespace, name)
        return service_row(found) if found is not None else None

    def tasks_page(
        self,
        namespace: str,
        after: str | None,
        keep: Callable[[Obj], bool],
        size: int,
        within: Within | None = None,
    ) -> list[Obj]:
        summaries = self.task_summaries(namespace)
        if within is not None:
            groups, group = within_groups(within), TASK_GROUPS[within[0]]
            summaries = [s for s in summaries if group(s) in groups]
        return page_of(summaries, lambda s: str(s["id"]), after, keep, size)

    def tally(self, namespace: str) -> Tally:
        tally = Tally()
        for pod in self._all(POD, namespace):
            tally.pod(pod, 1)
        for service in self._all(SERVICE, namespace):
            tally.service(service_row(service), 1)
        return tally

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self.refresh()
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL_SECONDS)
