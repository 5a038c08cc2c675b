"""The `Store` the endpoint reads, in memory: the runtime's own informers (one per `store.SOURCES`, with
their projections, indexes and tombstones) and the listings kept from them (`store.Listings`), fed
synchronously with the fake API server's changes as their watches would be (label selector and namespace
applied as the API server filters a watch), so a read right after a write sees it.

Nothing here sleeps. Where an operation waits for the operator (`wait` with a predicate still false), time
passes in one step: the callbacks in `while_waiting` run (a test adds the operator's stand-in there when
the operator is meant to be running), and the predicate is read once more.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from ecs_operator.ecsapi import store
from ecs_operator.kube import Kube, resource_for
from ecs_operator.runtime.informer import Informer

from tests.unit.ecsapi.operations.fakeapi import FakeApiServer, selector_matches

Obj = dict[str, Any]


class FakeStore(store.Listings):
    def __init__(self, api: FakeApiServer, client: Kube) -> None:
        super().__init__()
        self._sources = {source.kind: source for source in store.SOURCES}
        self._informers = {
            source.kind: Informer(
                client,
                source.kind,
                source.selector,
                project=source.project,
                indexes=source.indexes,
                namespace=source.namespace,
            )
            for source in store.SOURCES
        }
        for informer in self._informers.values():
            informer.subscribe(self.on_change)
        self._kept: set[tuple[str, str, str]] = set()
        self.listed = True
        self.while_waiting: list[Callable[[], None]] = []
        self.waited: list[float] = []  # the timeouts of the waits that had to wait
        # lagging: the watches deliver nothing until an operation waits (as a real cache may trail a write)
        self.lagging = False
        self._held: list[tuple[str, Obj]] = []
        for kind in self._informers:
            for obj in api.objects(kind):
                self._on_change("ADDED", obj)
        api.watch(self._on_change)

    def _on_change(self, event: str, obj: Obj) -> None:
        if self.lagging:
            self._held.append((event, obj))
            return
        self._deliver(event, obj)

    def _catch_up(self) -> None:
        held, self._held = self._held, []
        for event, obj in held:
            self._deliver(event, obj)

    def _deliver(self, event: str, obj: Obj) -> None:
        kind = str(obj.get("kind"))
        source = self._sources.get(kind)
        if source is None:
            return
        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace") or "") if resource_for(kind).namespaced else ""
        key = (kind, namespace, str(metadata.get("name")))
        served = (
            event != "DELETED"
            and selector_matches(source.selector, metadata.get("labels") or {})
            and source.namespace in (None, namespace)
        )
        if served:
            self._informers[kind].handle("MODIFIED" if key in self._kept else "ADDED", obj)
            self._kept.add(key)
        elif key in self._kept:
            self._informers[kind].handle("DELETED", obj)
            self._kept.discard(key)

    # --- the Store protocol, as InformerStore answers it -------------------------------------------

    def synced(self) -> bool:
        return self.listed

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self._informers[kind].get(namespace, name)

    def find(self, kind: str, key: Hashable) -> list[Obj]:
        return self._informers[kind].by_index("key", key)

    def in_namespace(self, kind: str, namespace: str) -> list[Obj]:
        return self._informers[kind].objects(namespace)

    def gone(self, kind: str, key: Hashable) -> Obj | None:
        found = self._informers[kind].gone("key", key)
        return found[-1] if found else None

    def find_index(self, kind: str, index: str, value: Hashable) -> list[Obj]:
        return self._informers[kind].by_index(index, value)

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        self._catch_up()
        if predicate():
            return True
        self.waited.append(timeout)
        for act in self.while_waiting:
            act()
        return predicate()

    def refresh(self) -> None:
        return None
