"""Shared plumbing of the handlers: one sync at a time per object, coalescing bursts of triggers."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Hashable
from typing import Any


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Coalescer:
    """Runs `fn` for a key at most once at a time; triggers arriving meanwhile cause exactly one rerun.

    Watch events of children (Pods, ReplicaSets, …) arrive in bursts; a level-triggered sync only needs
    to run once after the burst, never concurrently with itself for the same object.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._state: dict[Hashable, str] = {}

    def run(self, key: Hashable, fn: Callable[[], Any]) -> None:
        with self._mutex:
            state = self._state.get(key)
            if state is not None:
                self._state[key] = "dirty"
                return
            self._state[key] = "running"
        try:
            while True:
                fn()
                with self._mutex:
                    if self._state.get(key) == "dirty":
                        self._state[key] = "running"
                        continue
                    self._state.pop(key, None)
                    return
        except BaseException:
            with self._mutex:
                self._state.pop(key, None)
            raise
