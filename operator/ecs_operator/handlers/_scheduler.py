"""Debounced syncs, one at a time per key, on a bounded thread pool, driven from kopf's event loop.

Watch events of a service's children arrive in bursts (one Deployment creation brings about fifteen); a
level-triggered sync only needs to run once after a burst, and never concurrently with itself for the same
key. Triggers are cheap calls on the event loop; the syncs (blocking Kubernetes client calls) run in the
pool. The state a sync reads from the watch caches is snapshotted on the loop when the sync starts, so the
caches are only ever touched from the loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)

log = logging.getLogger("ecs_operator.handlers")

ERROR_DELAYS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
READY_POLL_SECONDS = 0.1

# A sync returns None when done, or the seconds after which it wants to run again (e.g. while draining).
SyncFn = Callable[[Any, Any], float | None]
SnapshotFn = Callable[[Any], Any]


class Scheduler(Generic[K]):
    def __init__(
        self,
        name: str,
        sync: SyncFn,
        snapshot: SnapshotFn,
        *,
        workers: int,
        delay: float,
        error_delays: Sequence[float] = ERROR_DELAYS,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.name = name
        self.delay = delay
        self._sync = sync
        self._snapshot = snapshot
        self._ready = ready
        self._workers = workers
        self._error_delays = tuple(error_delays)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._timers: dict[K, tuple[float, asyncio.TimerHandle]] = {}
        self._queued: set[K] = set()
        self._running: set[K] = set()
        self._dirty: set[K] = set()
        self._failures: dict[K, int] = {}
        self._parked: set[K] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Bind to the running event loop (call from a coroutine on it)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._pool = concurrent.futures.ThreadPoolExecutor(self._workers, thread_name_prefix=self.name)
        self._slots = asyncio.Semaphore(self._workers)

    async def stop(self) -> None:
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._pool is not None:
            pool = self._pool
            await asyncio.get_running_loop().run_in_executor(None, lambda: pool.shutdown(cancel_futures=True))
        self._loop = None

    @property
    def started(self) -> bool:
        return self._loop is not None

    def pending(self) -> int:
        """Keys waiting for their timer, for a worker, or running."""
        return len(self._timers) + len(self._queued) + len(self._running) + len(self._parked)

    def touch(self, key: K, delay: float | None = None) -> None:
        """Ask for a sync of `key` after `delay` seconds (default: the debounce delay); thread-safe."""
        loop = self._loop
        if loop is None:
            raise RuntimeError(f"scheduler {self.name} is not started")
        wanted = self.delay if delay is None else delay
        if threading.get_ident() == self._loop_thread:
            self._touch(key, wanted)
        else:
            loop.call_soon_threadsafe(self._touch, key, wanted)

    def _touch(self, key: K, delay: float) -> None:
        if key in self._running:
            self._dirty.add(key)
            return
        if key in self._queued or key in self._parked:
            return
        assert self._loop is not None
        due = self._loop.time() + delay
        scheduled = self._timers.get(key)
        if scheduled is not None:
            if scheduled[0] <= due:
                return
            scheduled[1].cancel()
        self._timers[key] = (due, self._loop.call_at(due, self._due, key))

    def _due(self, key: K) -> None:
        self._timers.pop(key, None)
        if not self._ready():  # e.g. the watch caches have not listed yet: one timer polls for all keys
            if not self._parked:
                assert self._loop is not None
                self._loop.call_later(READY_POLL_SECONDS, self._unpark)
            self._parked.add(key)
            return
        self._queued.add(key)
        task = asyncio.ensure_future(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _unpark(self) -> None:
        if self._loop is None:
            return
        if not self._ready():
            self._loop.call_later(READY_POLL_SECONDS, self._unpark)
            return
        parked, self._parked = self._parked, set()
        for key in parked:
            self._due(key)

    async def _run(self, key: K) -> None:
        assert self._slots is not None and self._loop is not None
        retry: float | None = None
        failed = False
        async with self._slots:
            self._queued.discard(key)
            self._running.add(key)
            try:
                snapshot = self._snapshot(key)
                retry = await self._loop.run_in_executor(self._pool, self._sync, key, snapshot)
                self._failures.pop(key, None)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failed = True
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                retry = self._error_delays[min(failures, len(self._error_delays)) - 1]
                log.warning(
                    "sync of %s failed (retrying in %ss): %s", key, retry, error, exc_info=failures > 3
                )
            finally:
                self._running.discard(key)
        if self._loop is None:
            return
        dirty = key in self._dirty
        self._dirty.discard(key)
        if failed or (retry is not None and not dirty):
            self._touch(key, retry if retry is not None else self.delay)
        elif dirty:
            self._touch(key, self.delay if retry is None else min(retry, self.delay))
