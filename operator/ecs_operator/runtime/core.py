"""The runtime: watch caches, one work queue and worker pool per controller, and the executor.

The life of one event: an informer sees a change and calls its subscribers on its own thread; each
controller's watches map the changed object (before and after) to the keys it concerns and add them to the
controller's queue (at once for a new spec or a deletion, after the debounce for anything else; the echo of
the operator's own write is skipped). A worker takes a due key, gathers its snapshot from the caches,
plans in pure code, and executes the plan. Workers start once every cache has listed, so a restarted
operator never judges an object on half of what exists.

The caches run from `start()`; the workers only between `lead()` and `follow()`: with leader election, a
standby replica keeps its caches warm (and its queues filled) but reconciles nothing, and the replica that
takes the Lease reconciles every key once, which writes nothing where nothing changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from ecs_operator import metrics
from ecs_operator.kube import Kube, NotLeading
from ecs_operator.runtime.caches import Caches, Source
from ecs_operator.runtime.controller import Controller, Key, Watch, own_key
from ecs_operator.runtime.execute import check_declared, execute
from ecs_operator.runtime.informer import Change
from ecs_operator.runtime.queue import DONE, WorkQueue, requeue
from ecs_operator.runtime.writes import OwnWrites

log = logging.getLogger("ecs_operator.runtime")


def _generation(obj: Mapping[str, Any] | None) -> Any:
    return ((obj or {}).get("metadata") or {}).get("generation")


def _deleting(obj: Mapping[str, Any] | None) -> bool:
    return bool(((obj or {}).get("metadata") or {}).get("deletionTimestamp"))


class Runtime:
    def __init__(
        self,
        controllers: Sequence[Controller[Any]],
        sources: Sequence[Source],
        client: Kube,
        *,
        caches: Caches | None = None,
        writes: OwnWrites | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.controllers = list(controllers)
        self.client = client
        self.caches = caches if caches is not None else Caches(sources)
        self.writes = writes if writes is not None else OwnWrites()
        self.queues: dict[str, WorkQueue[Key]] = {c.kind: WorkQueue(clock) for c in self.controllers}
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._workers_stop: threading.Event | None = None  # the running workers' (None: not leading)
        self._threads: list[threading.Thread] = []

    # --- View: what gather functions read ---------------------------------------------------------

    def cached(self, kind: str, key: Key) -> dict[str, Any] | None:
        return self.caches[kind].get(*key)

    def custom_resource(self, kind: str, key: Key) -> dict[str, Any] | None:
        """The object as cached, or read again when the cache has not shown the operator's own last write."""
        return self.writes.current(
            self.cached(kind, key), (kind, *key), lambda: self.client.get(kind, key[1], key[0] or None)
        )

    def children(self, kinds: Iterable[str], index: str, value: Any) -> dict[tuple[str, str], dict[str, Any]]:
        """Live children of `kinds` found by `index` = `value`, own applies standing in where newer."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for kind in kinds:
            for obj in self.caches[kind].by_index(index, value):
                metadata = obj["metadata"]
                live = self.writes.live(obj, (kind, metadata.get("namespace", ""), metadata["name"]))
                if live is not None:
                    found[(kind, metadata["name"])] = dict(live)
            for obj in self.writes.pending(kind, index, value, partial(self.caches.index_of, kind, index)):
                found.setdefault((kind, obj["metadata"]["name"]), obj)
        return found

    def by_index(self, kind: str, index: str, value: Any) -> list[dict[str, Any]]:
        return self.caches[kind].by_index(index, value)

    def count(self, kind: str, index: str, value: Any) -> int:
        return self.caches[kind].count(index, value)

    def gone(self, kind: str, index: str, value: Any) -> list[dict[str, Any]]:
        return self.caches[kind].gone(index, value)

    def names(self, kind: str, index: str, value: Any) -> list[Key]:
        return self.caches[kind].names(index, value)

    # --- triggers ---------------------------------------------------------------------------------

    def touch(self, kind: str, key: Key, delay: float = 0.0) -> None:
        self.queues[kind].add(key, delay)

    def _subscribe(self, controller: Controller[Any], watch: Watch, primary: bool) -> None:
        queue = self.queues[controller.kind]

        def changed(change: Change) -> None:
            if primary:
                if self.writes.is_echo(change):
                    return
                new_spec = (
                    change.old is None
                    or change.new is None
                    or _generation(change.old) != _generation(change.new)
                    or _deleting(change.new) != _deleting(change.old)
                )
                delay, settle = (0.0, None) if new_spec else (controller.debounce, controller.settle)
            elif watch.unchanged(change):
                return
            else:
                delay, settle = controller.debounce, controller.settle
            keys: set[Key] = set()
            for obj in (change.old, change.new):
                if obj is not None:
                    keys.update(watch.keys(obj, self))
            for key in keys:
                queue.add(key, delay, settle)

        self.caches[watch.kind].subscribe(changed)

    def _count_managed(self, kind: str) -> Callable[[Change], None]:
        informer = self.caches[kind]
        return lambda _: metrics.MANAGED_OBJECTS.labels(kind=kind).set(len(informer))

    # --- running ----------------------------------------------------------------------------------

    def wire(self) -> None:
        """Subscribe every controller's watches to the caches (start() does it before the caches start)."""
        for controller in self.controllers:
            self._subscribe(controller, Watch(controller.kind, own_key), primary=True)
            for watch in controller.watches:
                self._subscribe(controller, watch, primary=False)
            self.caches[controller.kind].subscribe(self._count_managed(controller.kind))
        for kind in self.caches.kinds:
            if kind not in self.queues:  # children: their stand-ins go once the cache shows them
                self.caches[kind].subscribe(self.writes.child_seen)

    def start(self) -> None:
        """Start the watch caches; the workers start with `lead()`."""
        self.wire()
        self.caches.start()

    def lead(self) -> None:
        """Start the workers, and queue every key of every controller so each object is reconciled once
        (keys the caches list later are queued by their first events)."""
        with self._lock:
            if self._workers_stop is not None or self._stopped.is_set():
                return
            stop = self._workers_stop = threading.Event()
            self.writes.clear()
            for controller in self.controllers:
                queue = self.queues[controller.kind]
                for key in self.caches[controller.kind].names_all():
                    queue.add(key)
                for number in range(controller.workers):
                    thread = threading.Thread(
                        target=self._work,
                        args=(controller, stop),
                        name=f"{controller.kind}-{number}",
                        daemon=True,
                    )
                    thread.start()
                    self._threads.append(thread)

    def follow(self, timeout: float = 10.0) -> None:
        """Stop the workers (each finishes the key it holds); the caches keep watching."""
        with self._lock:
            stop, self._workers_stop = self._workers_stop, None
            threads, self._threads = self._threads, []
        if stop is None:
            return
        stop.set()
        for queue in self.queues.values():
            queue.wake()
        for thread in threads:
            thread.join(timeout)
        self.writes.clear()

    def leading(self) -> bool:
        return self._workers_stop is not None

    def stop(self) -> None:
        self._stopped.set()
        self.follow()
        for queue in self.queues.values():
            queue.close()
        self.caches.stop()

    def pending(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def synced(self) -> bool:
        return self.caches.synced()

    def _work(self, controller: Controller[Any], stop: threading.Event) -> None:
        if not self.caches.wait_synced(stop):
            return
        queue = self.queues[controller.kind]
        while (key := queue.get(stop=stop)) is not None:
            failed = False
            result = DONE
            try:
                with metrics.observe(controller.kind):
                    result = self.reconcile_once(controller, key)
            except NotLeading:
                # The Lease was lost mid-pass and the write refused: the key waits for the next leader
                # pass (its workers stop meanwhile).
                result = requeue(1.0)
            except Exception as error:
                failed = True
                failures = queue.failures(key) + 1
                log.warning(
                    "reconcile of %s %s failed (attempt %d): %s",
                    controller.kind,
                    "/".join(k for k in key if k),
                    failures,
                    error,
                    exc_info=failures > 3,
                )
            queue.done(key, result, failed=failed)

    def reconcile_once(self, controller: Controller[Any], key: Key) -> Any:
        snapshot = controller.gather(key, self)
        plan = controller.reconcile(key, snapshot)
        if plan is None:
            controller.forget(key)
            self.writes.forget((controller.kind, *key))
            return DONE
        check_declared(
            plan, controller.applies, controller.deletes, controller.finalizers, controller.patches
        )
        return execute(plan, self.client, self.writes)
