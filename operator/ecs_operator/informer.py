"""Watch caches (client-go's informer pattern): list one kind, then watch it, keeping a compact projection of
each object grouped by the key of the custom resource it belongs to, and reporting every change.

The operator watches the children of its services with these rather than through kopf: with a thousand
services kopf's per-event processing cost several times the JSON decoding itself (docs/performance.md).
A watch that ends is resumed from the last resourceVersion (bookmarks keep it fresh); an expired one (410)
is replaced by a new list, whose differences are reported like events.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ecs_operator.kube import Kube, KubeError

K = TypeVar("K", bound=Hashable)

log = logging.getLogger(__name__)

WATCH_SECONDS = 300
LIST_LIMIT = 500
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)

ObjectName = tuple[str, str]


@dataclass(frozen=True)
class Entry(Generic[K]):
    key: K | None
    data: str
    tag: str | None


class Informer(Generic[K]):
    def __init__(
        self,
        client: Kube,
        kind: str,
        label_selector: str,
        *,
        key_of: Callable[[Mapping[str, Any]], K | None],
        project: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        on_change: Callable[[K, str], None],
        tag_of: Callable[[Mapping[str, Any]], str | None] = lambda _: None,
        on_event: Callable[[str, Mapping[str, Any]], None] = lambda *_: None,
    ) -> None:
        self.kind = kind
        self._client = client
        self._selector = label_selector
        self._key_of = key_of
        self._project = project
        self._tag_of = tag_of
        self._on_change = on_change
        self._on_event = on_event
        self._lock = threading.Lock()
        self._entries: dict[ObjectName, Entry[K]] = {}
        self._by_key: dict[K, dict[ObjectName, str]] = {}
        self.synced = threading.Event()
        self._stopped = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"informer-{self.kind}", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def values(self, key: K) -> tuple[str, ...]:
        with self._lock:
            found = self._by_key.get(key)
            return tuple(found.values()) if found else ()

    def tags_in_namespace(self, namespace: str) -> list[str]:
        with self._lock:
            return [e.tag for (ns, _), e in self._entries.items() if ns == namespace and e.tag is not None]

    def _entry(self, obj: Mapping[str, Any]) -> Entry[K]:
        return Entry(
            self._key_of(obj), json.dumps(self._project(obj), separators=(",", ":")), self._tag_of(obj)
        )

    def _put(self, name: ObjectName, entry: Entry[K] | None) -> list[K]:
        """Store (or with None remove) one object; the keys whose set of objects changed."""
        with self._lock:
            old = self._entries.pop(name, None)
            if old is not None and old.key is not None:
                siblings = self._by_key.get(old.key)
                if siblings is not None:
                    siblings.pop(name, None)
                    if not siblings:
                        del self._by_key[old.key]
            if entry is not None:
                self._entries[name] = entry
                if entry.key is not None:
                    self._by_key.setdefault(entry.key, {})[name] = entry.data
        if old == entry:
            return []
        return [k for k in {old.key if old else None, entry.key if entry else None} if k is not None]

    def _report(self, keys: list[K], namespace: str) -> None:
        for key in keys:
            try:
                self._on_change(key, namespace)
            except Exception:  # the loop is closing: nothing to report to
                log.debug("could not report a change of %s %s", self.kind, key, exc_info=True)

    def _handle(self, event_type: str, obj: dict[str, Any]) -> None:
        metadata = obj.get("metadata") or {}
        name = (str(metadata.get("namespace", "")), str(metadata.get("name", "")))
        obj.setdefault("kind", self.kind)
        entry = None if event_type == "DELETED" else self._entry(obj)
        self._on_event(event_type, obj)
        self._report(self._put(name, entry), name[0])

    def _relist(self) -> str:
        listed: dict[ObjectName, Entry[K]] = {}
        continue_token = ""
        while True:
            page = self._client.list_chunk(self.kind, self._selector, LIST_LIMIT, continue_token)
            for obj in page.get("items") or ():
                obj.setdefault("kind", self.kind)
                metadata = obj["metadata"]
                listed[(str(metadata.get("namespace", "")), str(metadata["name"]))] = self._entry(obj)
            continue_token = (page.get("metadata") or {}).get("continue") or ""
            if not continue_token:
                resource_version = str(page["metadata"]["resourceVersion"])
                break
        with self._lock:
            gone = [name for name in self._entries if name not in listed]
        changes: list[tuple[list[K], str]] = []
        for name in gone:
            changes.append((self._put(name, None), name[0]))
        for name, entry in listed.items():
            changes.append((self._put(name, entry), name[0]))
        self.synced.set()
        for keys, namespace in changes:
            self._report(keys, namespace)
        return resource_version

    def _run(self) -> None:
        resource_version = ""
        failures = 0
        while not self._stopped.is_set():
            try:
                if not resource_version:
                    resource_version = self._relist()
                for event in self._client.watch(self.kind, self._selector, resource_version, WATCH_SECONDS):
                    if self._stopped.is_set():
                        return
                    event_type, obj = event.get("type"), event.get("object") or {}
                    if event_type == "ERROR":
                        if obj.get("code") == 410:
                            resource_version = ""
                        break
                    resource_version = str(obj["metadata"]["resourceVersion"])
                    if event_type != "BOOKMARK":
                        self._handle(str(event_type), obj)
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
