"""Watch caches (client-go's informer): list one kind, then watch it, keeping a projection of each object.

The projection keeps only what readers need (a Pod's status, not its spec), as compact JSON: a thousand
services' children fit in a few MiB, and a change that leaves the projection as it was (most ReplicaSet
status updates) is not reported at all. Named indexes (client-go's Indexers) map each object to values
such as its owner's key, so readers find an owner's children without scanning. Every read decodes a fresh
copy, so nobody can mutate the cache.

A watch that ends is resumed from the last resourceVersion (bookmarks keep it fresh); an expired one (410)
is replaced by a new list, whose differences are reported like events. The API server filters by label.

The last state of a deleted object stays a while as a tombstone (`gone`), indexed like the live ones:
the pass that the deletion brings reads what the object was (a stopped task's exit codes, a deleted
service) and records what ECS keeps of it in its owner's status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ecs_operator.kube import Kube, KubeError

log = logging.getLogger(__name__)

WATCH_SECONDS = 300
LIST_LIMIT = 500
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)
# Tombstones are read by the pass their deletion brings (within a second or two, later when a queue backs
# off): kept this long, and at most this many.
TOMBSTONE_SECONDS = 600.0
TOMBSTONE_LIMIT = 20000

ObjectName = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
Projection = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]  # None: do not keep the object
IndexFunction = Callable[[Mapping[str, Any]], Iterable[Hashable]]


def without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(obj)
    result["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return result


@dataclass(frozen=True)
class Change:
    """One object's projection before and after (None: it did not exist / no longer exists)."""

    kind: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


@dataclass(frozen=True)
class _Entry:
    data: str
    indexed: tuple[tuple[str, tuple[Hashable, ...]], ...]


def _compact(obj: Mapping[str, Any]) -> str:
    # A str copy: the bytes orjson returns keep its 4 KiB buffer (15 MiB more for 1000 services' children).
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()


class Informer:
    def __init__(
        self,
        client: Kube,
        kind: str,
        label_selector: str = "",
        *,
        project: Projection = without_managed_fields,
        indexes: Mapping[str, IndexFunction] | None = None,
        namespace: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kind = kind
        self.label_selector = label_selector
        self.namespace = namespace  # None: every namespace
        self._client = client
        self._project = project
        self._index_functions = dict(indexes or {})
        self._lock = threading.Lock()
        self._entries: dict[ObjectName, _Entry] = {}
        self._by_namespace: dict[str, set[str]] = {}
        self._indexes: dict[str, dict[Hashable, set[ObjectName]]] = {n: {} for n in self._index_functions}
        self._subscribers: list[Callable[[Change], None]] = []
        self._clock = clock
        self._tombstones: OrderedDict[ObjectName, tuple[float, _Entry]] = OrderedDict()
        self._gone: dict[str, dict[Hashable, set[ObjectName]]] = {n: {} for n in self._index_functions}
        self.synced = threading.Event()
        self._stopped = threading.Event()

    # --- reading ---------------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get((namespace, name))
        return orjson.loads(entry.data) if entry is not None else None

    def objects(self, namespace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if namespace is None:
                found = [e.data for e in self._entries.values()]
            else:
                names = self._by_namespace.get(namespace) or ()
                found = [self._entries[(namespace, n)].data for n in names]
        return [orjson.loads(data) for data in found]

    def names_all(self) -> list[ObjectName]:
        """The (namespace, name) of every object kept, without decoding them."""
        with self._lock:
            return list(self._entries)

    def by_index(self, index: str, value: Hashable) -> list[dict[str, Any]]:
        with self._lock:
            names = self._indexes[index].get(value) or ()
            found = [self._entries[n].data for n in names]
        return [orjson.loads(data) for data in found]

    def gone(self, index: str, value: Hashable) -> list[dict[str, Any]]:
        """The last state of the deleted objects `index` maps to `value` (deleted in the last
        `TOMBSTONE_SECONDS`)."""
        with self._lock:
            self._expire_tombstones()
            found = [self._tombstones[name][1].data for name in self._gone[index].get(value) or ()]
        return [orjson.loads(data) for data in found]

    def _expire_tombstones(self) -> None:
        horizon = self._clock() - TOMBSTONE_SECONDS
        while self._tombstones:
            at, _ = next(iter(self._tombstones.values()))
            if at >= horizon and len(self._tombstones) <= TOMBSTONE_LIMIT:
                break
            self._bury(*self._tombstones.popitem(last=False), add=False)

    def _bury(self, name: ObjectName, tombstone: tuple[float, _Entry], add: bool = True) -> None:
        """Index a tombstone by the values its object had (or, not `add`, forget them)."""
        for index, values in tombstone[1].indexed:
            for value in values:
                if add:
                    self._gone[index].setdefault(value, set()).add(name)
                    continue
                members = self._gone[index].get(value)
                if members is not None:
                    members.discard(name)
                    if not members:
                        del self._gone[index][value]

    def names(self, index: str, value: Hashable) -> list[ObjectName]:
        """The (namespace, name) of the objects `index` maps to `value`, without decoding them."""
        with self._lock:
            return sorted(self._indexes[index].get(value) or ())

    def count(self, index: str, value: Hashable) -> int:
        with self._lock:
            return len(self._indexes[index].get(value) or ())

    def indexed_by(self, index: str, obj: Mapping[str, Any]) -> tuple[Hashable, ...]:
        """The values `index` gives an object (one not in the cache, such as an apply's response)."""
        projected = self._project(obj)
        return tuple(self._index_functions[index](projected)) if projected is not None else ()

    def index_values(self, index: str) -> list[Hashable]:
        with self._lock:
            return list(self._indexes[index])

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def subscribe(self, callback: Callable[[Change], None]) -> None:
        """`callback(change)` runs on the informer's thread for every change of a kept projection."""
        self._subscribers.append(callback)

    # --- keeping the cache -----------------------------------------------------------------------

    def _entry(self, obj: Mapping[str, Any]) -> _Entry | None:
        return self._projected(obj)[0]

    def _projected(self, obj: Mapping[str, Any]) -> tuple[_Entry | None, Mapping[str, Any] | None]:
        """The entry kept for an object, and its projection (what a change reports, not decoded again)."""
        projected = self._project(obj)
        if projected is None:
            return None, None
        indexed = tuple(
            (name, tuple(dict.fromkeys(function(projected))))
            for name, function in self._index_functions.items()
        )
        return _Entry(_compact(projected), indexed), projected

    def _put(self, name: ObjectName, entry: _Entry | None, last: _Entry | None = None) -> _Entry | None:
        """Store (or with None remove) one object; returns the entry it replaced. A removed object leaves
        its tombstone: `last` (its final state, from the deletion event) or what the cache had."""
        with self._lock:
            old = self._entries.pop(name, None)
            if old is not None:
                self._unindex(name, old)
            buried = self._tombstones.pop(name, None)
            if buried is not None:
                self._bury(name, buried, add=False)
            tombstone = last or old
            if entry is None and tombstone is not None:
                self._tombstones[name] = (self._clock(), tombstone)
                self._bury(name, self._tombstones[name])
                self._expire_tombstones()
            if entry is not None:
                self._entries[name] = entry
                self._by_namespace.setdefault(name[0], set()).add(name[1])
                for index, values in entry.indexed:
                    for value in values:
                        self._indexes[index].setdefault(value, set()).add(name)
        return old

    def _unindex(self, name: ObjectName, entry: _Entry) -> None:
        siblings = self._by_namespace.get(name[0])
        if siblings is not None:
            siblings.discard(name[1])
            if not siblings:
                del self._by_namespace[name[0]]
        for index, values in entry.indexed:
            for value in values:
                members = self._indexes[index].get(value)
                if members is not None:
                    members.discard(name)
                    if not members:
                        del self._indexes[index][value]

    def _report(
        self, old: _Entry | None, new: _Entry | None, projected: Mapping[str, Any] | None = None
    ) -> None:
        """Tell the subscribers of a change; `projected`: `new` as the projection made it (the cache keeps
        only its JSON, so sharing it with the subscribers exposes nothing the cache holds)."""
        if old == new or not self._subscribers:
            return
        if new is not None and projected is None:
            projected = orjson.loads(new.data)
        change = Change(self.kind, orjson.loads(old.data) if old is not None else None, projected)
        for callback in self._subscribers:
            try:
                callback(change)
            except Exception:
                log.exception("a subscriber of %s failed on a change", self.kind)

    def handle(self, event_type: str, obj: dict[str, Any]) -> None:
        """Apply one watch event (ADDED, MODIFIED, DELETED) to the cache and report the change."""
        metadata = obj.get("metadata") or {}
        name = (str(metadata.get("namespace", "")), str(metadata.get("name", "")))
        obj.setdefault("kind", self.kind)
        if event_type == "DELETED":
            self._report(self._put(name, None, self._entry(obj)), None)
            return
        entry, projected = self._projected(obj)
        self._report(self._put(name, entry), entry, projected)

    def _relist(self) -> str:
        listed: dict[ObjectName, _Entry] = {}
        continue_token = ""
        while True:
            page = self._client.list_chunk(
                self.kind, self.label_selector, LIST_LIMIT, continue_token, namespace=self.namespace
            )
            for obj in page.get("items") or ():
                obj.setdefault("kind", self.kind)
                entry = self._entry(obj)
                if entry is not None:
                    metadata = obj["metadata"]
                    listed[(str(metadata.get("namespace", "")), str(metadata["name"]))] = entry
            continue_token = (page.get("metadata") or {}).get("continue") or ""
            if not continue_token:
                resource_version = str(page["metadata"]["resourceVersion"])
                break
        with self._lock:
            gone = [name for name in self._entries if name not in listed]
        changes: list[tuple[_Entry | None, _Entry | None]] = [(self._put(name, None), None) for name in gone]
        changes += [(self._put(name, entry), entry) for name, entry in listed.items()]
        self.synced.set()
        for old, new in changes:
            self._report(old, new)
        return resource_version

    # --- running ---------------------------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"informer-{self.kind}", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        resource_version = ""
        failures = 0
        while not self._stopped.is_set():
            try:
                if not resource_version:
                    resource_version = self._relist()
                for event in self._client.watch(
                    self.kind, self.label_selector, resource_version, WATCH_SECONDS, namespace=self.namespace
                ):
                    if self._stopped.is_set():
                        return
                    event_type, obj = event.get("type"), event.get("object") or {}
                    if event_type == "ERROR":
                        if obj.get("code") == 410:
                            resource_version = ""
                        break
                    resource_version = str(obj["metadata"]["resourceVersion"])
                    if event_type != "BOOKMARK":
                        self.handle(str(event_type), obj)
                failures = 0
            except KubeError as error:
                if error.status == 410:
                    resource_version = ""
                    continue
                failures += 1
                self._pause(failures, error)
            except Exception as error:  # the connection broke (e.g. the API server restarts): watch again
                failures += 1
                self._pause(failures, error)

    def _pause(self, failures: int, error: Exception) -> None:
        delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
        level = logging.INFO if failures == 1 else logging.WARNING
        log.log(level, "watching %s failed (%s); again in %ss", self.kind, error, delay)
        self._stopped.wait(delay)
