"""client-go's work queue rules in one thread-safe structure, on an injected clock.

Keys, not objects: a key is queued at most once; a key being processed is never handed out again until
it is done, and a touch meanwhile makes it run once more afterwards; a failed key comes back after a
growing delay and its failure count is forgotten on success. Delays are debounces: a key touched many
times before its time comes runs once, at the earliest time asked for. A touch may instead ask to settle:
the key then runs once its touches have stopped for `settle` seconds, and at the latest `delay` seconds
after the first of them (a count that follows a burst is written once at its end, not every second).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

ERROR_DELAYS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)


@dataclass(frozen=True)
class Result:
    """What a reconcile asks of the queue: nothing (done), or to run again after `requeue_after` seconds.

    A reconcile that raises is retried with backoff; one that cannot ever succeed (a spec error) reports
    it in status and returns DONE, since only a new spec can change the outcome.
    """

    requeue_after: float | None = None


DONE = Result()


def requeue(after: float) -> Result:
    return Result(requeue_after=after)


@dataclass(frozen=True)
class _Ask:
    delay: float
    settle: float | None = None

    def merged(self, other: _Ask | None) -> _Ask:
        """One ask for two made while the key was processing: the sooner; settling only if both were."""
        if other is None:
            return self
        if self.settle is None or other.settle is None:
            return _Ask(min(self.first_due, other.first_due))
        return _Ask(min(self.delay, other.delay), min(self.settle, other.settle))

    @property
    def first_due(self) -> float:
        return self.delay if self.settle is None else min(self.delay, self.settle)


class WorkQueue(Generic[K]):
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, error_delays: Sequence[float] = ERROR_DELAYS
    ) -> None:
        self._clock = clock
        self._error_delays = tuple(error_delays)
        self._cond = threading.Condition()
        self._due: dict[K, float] = {}  # waiting keys and when they are due
        self._heap: list[tuple[float, int, K]] = []  # (due, tie, key); stale entries are skipped
        self._tie = itertools.count()
        self._processing: set[K] = set()
        self._dirty: dict[K, _Ask] = {}  # touched while processing: what was asked
        self._settling: dict[K, float] = {}  # waiting keys due when touches stop: their latest due time
        self._failures: dict[K, int] = {}
        self._closed = False
        # When the worker waiting for the next due key wakes (None: none waits); the other idle workers sleep
        # until woken, so a due time wakes one worker, not all of them.
        self._timer: float | None = None

    def add(self, key: K, delay: float = 0.0, settle: float | None = None) -> None:
        """Ask for `key` to be processed `delay` seconds from now (earlier requests win), or with `settle`
        once touches of it have stopped for `settle` seconds, `delay` seconds after the first at the latest.
        """
        ask = _Ask(delay, settle)
        with self._cond:
            if key in self._processing:
                self._dirty[key] = ask.merged(self._dirty.get(key))
                return
            self._ask(key, self._clock(), ask)

    def _ask(self, key: K, now: float, ask: _Ask) -> None:
        if ask.settle is None:
            self._schedule(key, now + ask.delay)
            return
        latest = self._settling.get(key)
        if latest is None:
            if key in self._due:  # due at a time a plain request asked for: that stands, or comes earlier
                self._schedule(key, now + ask.settle)
                return
            latest = now + ask.delay
        self._set_due(key, min(latest, now + ask.settle))
        self._settling[key] = latest

    def _schedule(self, key: K, due: float) -> None:
        current = self._due.get(key)
        if current is not None and current <= due:
            return
        self._settling.pop(key, None)
        self._set_due(key, due)

    def _set_due(self, key: K, due: float) -> None:
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._tie), key))
        if self._timer is not None and due < self._timer:
            self._cond.notify_all()  # due before the waiting worker wakes: let one wait for it instead
        else:
            self._cond.notify()

    def pop(self) -> tuple[K | None, float | None]:
        """A due key, now marked as processing (else None), and the seconds until the next one is due."""
        with self._cond:
            return self._pop(self._clock())

    def _pop(self, now: float) -> tuple[K | None, float | None]:
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) != due:  # superseded by an earlier request, or already handed out
                heapq.heappop(self._heap)
                continue
            if due > now:
                return None, due - now
            heapq.heappop(self._heap)
            del self._due[key]
            self._settling.pop(key, None)
            self._processing.add(key)
            return key, None
        return None, None

    def get(self, idle_wait: float = 1.0, stop: threading.Event | None = None) -> K | None:
        """Block until a key is due (returned as processing), or None once the queue is closed or `stop`
        is set (`wake()` makes waiting workers see it at once)."""
        with self._cond:
            while not self._closed and not (stop is not None and stop.is_set()):
                now = self._clock()
                key, wait = self._pop(now)
                if key is not None:
                    if self._heap:
                        self._cond.notify()  # another worker waits for the next key (this one may have)
                    return key
                if wait is None or (self._timer is not None and self._timer <= now + wait):
                    self._cond.wait(idle_wait)  # woken when a key is added, or to look at `stop`
                    continue
                self._timer = now + wait
                self._cond.wait(min(wait, idle_wait))
                if self._timer == now + wait:
                    self._timer = None
            return None

    def wake(self) -> None:
        """Wake every waiting `get`, so that it checks its stop event."""
        with self._cond:
            self._cond.notify_all()

    def done(self, key: K, result: Result | None, failed: bool = False) -> float | None:
        """Finish processing `key`; returns the delay it was scheduled again with, if any."""
        with self._cond:
            self._processing.discard(key)
            dirty = self._dirty.pop(key, None)
            if failed:
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                delay: float | None = self._error_delays[min(failures, len(self._error_delays)) - 1]
            else:
                self._failures.pop(key, None)
                delay = result.requeue_after if result is not None else None
            now = self._clock()
            if delay is not None:
                self._schedule(key, now + delay)
            if dirty is not None:
                self._ask(key, now, dirty)
            due = self._due.get(key)
            return None if due is None else due - now

    def failures(self, key: K) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    def __len__(self) -> int:
        """Keys waiting or being processed."""
        with self._cond:
            return len(self._due) + len(self._processing)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
