"""Small caches of reads that rarely change (a namespace's cluster, a family's revisions)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Values loaded on first use and kept for `ttl` seconds or until invalidated; thread-safe.

    The handlers that write the underlying objects invalidate their keys; the time limit bounds how long a
    change made by someone else (a label edited by hand) can go unseen.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, threading.Lock] = {}
        self._generation = 0

    def get(self, key: K, load: Callable[[], V]) -> V:
        found = self._fresh(key)
        if found is not None:
            return found[1]
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        # One load per key at a time: a burst of syncs after a restart would otherwise all read at once.
        with loading:
            found = self._fresh(key)
            if found is not None:
                return found[1]
            with self._lock:
                generation = self._generation
            value = load()
            with self._lock:
                # A load that raced with an invalidation may hold the old value: use it once, keep nothing.
                if generation == self._generation:
                    self._values[key] = (self._clock() + self._ttl, value)
            return value

    def _fresh(self, key: K) -> tuple[float, V] | None:
        with self._lock:
            found = self._values.get(key)
            return found if found is not None and found[0] > self._clock() else None

    def invalidate(self, key: K | None = None) -> None:
        with self._lock:
            self._generation += 1
            if key is None:
                self._values.clear()
            else:
                self._values.pop(key, None)
