"""Stand-ins for the operator's own writes until its watches show them.

A watch lags behind the operator's writes by a moment. Until the cache shows a child the operator applied,
the apply's response stands in for it, so a pass in between does not apply the same object again; until
the cache shows the operator's own write to a custom resource (status, finalizers), that cached copy is
older than what the operator knows, so the reconcile reads the object itself; and the watch event that
echoes the operator's own write triggers nothing (kopf and controller-runtime skip their own echoes too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.runtime.informer import Change, without_managed_fields

# An apply's response older than this no longer stands in for the watch (which has long caught up).
STANDS_IN_SECONDS = 30.0
WRITES_REMEMBERED = 4
SWEEP_SECONDS = 5.0

ObjectKey = tuple[str, str, str]  # (kind, namespace, name)


@dataclass
class _StandIn:
    at: float
    obj: dict[str, Any]
    # index name -> the values it gives `obj`, computed once: every pass of every owner looks for its own
    indexed: dict[str, tuple[Hashable, ...]] = field(default_factory=dict)


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def intent_of(obj: Mapping[str, Any] | None) -> str | None:
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    value = annotations.get(labels.INTENT_ANNOTATION)
    return str(value) if value is not None else None


def resource_version(obj: Mapping[str, Any] | None) -> str | None:
    value = ((obj or {}).get("metadata") or {}).get("resourceVersion")
    return str(value) if value is not None else None


class OwnWrites:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._applied: dict[ObjectKey, _StandIn] = {}
        # (kind, index) -> value -> the stand-ins it maps there, built as `pending` is asked (a pass looks
        # for its own children among hundreds of stand-ins in a burst); stand-ins not indexed yet apart
        self._reverse: dict[tuple[str, str], dict[Hashable, set[ObjectKey]]] = {}
        self._unindexed: dict[tuple[str, str], set[ObjectKey]] = {}
        self._swept = float("-inf")
        # custom resource -> resourceVersions of its own writes not yet echoed, oldest first (a pass may write
        # finalizers and then status)
        self._written: dict[ObjectKey, list[str]] = {}

    # --- children the operator applied -----------------------------------------------------------

    def applied(self, obj: Mapping[str, Any]) -> None:
        now = self._clock()
        key = object_key(obj)
        with self._lock:
            self._drop(key)
            self._applied[key] = _StandIn(now, without_managed_fields(obj))
            for (kind, _), keys in self._unindexed.items():
                if kind == key[0]:
                    keys.add(key)
            # In a burst hundreds stand in at once: sweep the expired ones now and then, not on every apply.
            if len(self._applied) > 256 and now - self._swept > SWEEP_SECONDS:
                self._swept = now
                for expired in [k for k, s in self._applied.items() if now - s.at > STANDS_IN_SECONDS]:
                    self._drop(expired)

    def _drop(self, key: ObjectKey) -> None:
        """Forget a stand-in and its places in the reverse indexes (under the lock)."""
        stand_in = self._applied.pop(key, None)
        if stand_in is None:
            return
        for index, values in stand_in.indexed.items():
            reverse = self._reverse.get((key[0], index)) or {}
            for value in values:
                keys = reverse.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del reverse[value]
        for (kind, _), keys in self._unindexed.items():
            if kind == key[0]:
                keys.discard(key)

    def live(self, cached: Mapping[str, Any] | None, key: ObjectKey) -> Mapping[str, Any] | None:
        """The child as the operator knows it: the cached one, unless an own apply is newer."""
        with self._lock:
            stand_in = self._applied.get(key)
        if stand_in is None or self._clock() - stand_in.at > STANDS_IN_SECONDS:
            return cached
        applied = stand_in.obj
        return applied if cached is None or intent_of(cached) != intent_of(applied) else cached

    def deleted(self, key: ObjectKey) -> None:
        with self._lock:
            self._drop(key)

    def pending(
        self,
        kind: str,
        index: str,
        value: Hashable,
        index_of: Callable[[Mapping[str, Any]], tuple[Hashable, ...]],
    ) -> list[dict[str, Any]]:
        """Children of `kind` applied recently that `index` (`index_of` computes it) maps to `value`, which
        the cache may not show yet."""
        now = self._clock()
        pair = (kind, index)
        with self._lock:
            reverse = self._reverse.get(pair)
            if reverse is None:
                reverse = self._reverse[pair] = {}
                self._unindexed[pair] = {key for key in self._applied if key[0] == kind}
            unindexed = self._unindexed[pair]
            while unindexed:
                key = unindexed.pop()
                stand_in = self._applied[key]
                values = stand_in.indexed[index] = tuple(index_of(stand_in.obj))
                for each in values:
                    reverse.setdefault(each, set()).add(key)
            return [
                dict(stand_in.obj)
                for stand_in in (self._applied[key] for key in reverse.get(value) or ())
                if now - stand_in.at <= STANDS_IN_SECONDS
            ]

    def child_seen(self, change: Change) -> None:
        """An informer's subscriber: the cache caught up with (or deleted) a child; drop its stand-in."""
        shown = change.new if change.new is not None else change.old
        if shown is None:
            return
        key = (change.kind, *object_key(shown)[1:])
        with self._lock:
            stand_in = self._applied.get(key)
            if stand_in is not None and (
                change.new is None or intent_of(change.new) == intent_of(stand_in.obj)
            ):
                self._drop(key)

    # --- the custom resources' own writes ---------------------------------------------------------

    def wrote(self, obj: Mapping[str, Any]) -> None:
        version = resource_version(obj)
        if version is not None:
            with self._lock:
                versions = self._written.setdefault(object_key(obj), [])
                versions.append(version)
                del versions[:-WRITES_REMEMBERED]

    def is_echo(self, change: Change) -> bool:
        """True when a watch event shows one of the operator's own writes (it and older ones are dropped)."""
        if change.new is None:
            return False
        key = (change.kind, *object_key(change.new)[1:])
        version = resource_version(change.new)
        with self._lock:
            versions = self._written.get(key) or []
            if version not in versions:
                return False
            del versions[: versions.index(version) + 1]
            if not versions:
                del self._written[key]
            return True

    def current(
        self, cached: dict[str, Any] | None, key: ObjectKey, read: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """The custom resource: the cached copy, unless the cache has not shown the own last write yet."""
        with self._lock:
            versions = self._written.get(key)
            written = versions[-1] if versions else None
        if written is None or cached is None or resource_version(cached) == written:
            return cached
        fresh = read()
        if fresh is None or resource_version(fresh) == resource_version(cached):
            self.forget(key)  # the cache is current: the own write's echo went by unseen (a relist)
        return fresh

    def forget(self, key: ObjectKey) -> None:
        with self._lock:
            self._written.pop(key, None)

    def clear(self) -> None:
        """Forget every own write: another replica may have written since (leadership changed hands)."""
        with self._lock:
            self._applied.clear()
            self._reverse.clear()
            self._unindexed.clear()
            self._written.clear()
