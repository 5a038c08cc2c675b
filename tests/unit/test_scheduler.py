"""The service sync scheduler: bursts fold into one sync, never two at once per key, failures retry."""

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from ecs_operator.handlers._scheduler import Scheduler

DELAY = 0.05


class Recorder:
    def __init__(self, work: Callable[[str, int], float | None] | None = None, seconds: float = 0.0) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.active: dict[str, int] = {}
        self.overlaps = 0
        self.lock = threading.Lock()
        self.work = work
        self.seconds = seconds

    def __call__(self, key: str, snapshot: Any) -> float | None:
        with self.lock:
            self.active[key] = self.active.get(key, 0) + 1
            self.overlaps += self.active[key] > 1
            self.calls.append((key, snapshot))
            count = sum(1 for k, _ in self.calls if k == key)
        try:
            time.sleep(self.seconds)
            return self.work(key, count) if self.work else None
        finally:
            with self.lock:
                self.active[key] -= 1


async def settle(scheduler: Scheduler[str]) -> None:
    for _ in range(400):
        await asyncio.sleep(0.01)
        if not scheduler.pending():
            return
    raise AssertionError("the scheduler never went idle")


def run(recorder: Recorder, scenario: Callable[[Scheduler[str]], Any], **options: Any) -> None:
    async def main() -> None:
        scheduler: Scheduler[str] = Scheduler(
            "test", recorder, lambda key: f"snapshot-of-{key}", workers=4, delay=DELAY, **options
        )
        scheduler.start()
        try:
            await scenario(scheduler)
            await settle(scheduler)
        finally:
            await scheduler.stop()

    asyncio.run(main())


def test_a_burst_of_triggers_runs_one_sync_with_a_fresh_snapshot() -> None:
    recorder = Recorder()

    async def scenario(scheduler: Scheduler[str]) -> None:
        for _ in range(20):
            scheduler.touch("a")
        scheduler.touch("b")

    run(recorder, scenario)
    assert sorted(recorder.calls) == [("a", "snapshot-of-a"), ("b", "snapshot-of-b")]


def test_a_trigger_during_a_sync_reruns_it_once_afterwards_never_concurrently() -> None:
    recorder = Recorder(seconds=0.1)

    async def scenario(scheduler: Scheduler[str]) -> None:
        scheduler.touch("a", 0.0)
        await asyncio.sleep(0.05)
        for _ in range(10):
            scheduler.touch("a", 0.0)

    run(recorder, scenario)
    assert [k for k, _ in recorder.calls] == ["a", "a"]
    assert recorder.overlaps == 0


def test_an_immediate_trigger_overrides_a_pending_debounce() -> None:
    recorder = Recorder()

    async def scenario(scheduler: Scheduler[str]) -> None:
        scheduler.touch("a", 60.0)
        scheduler.touch("a", 0.0)

    run(recorder, scenario)  # settles within 4 s, so the 60 s timer cannot be the one that ran
    assert len(recorder.calls) == 1


def test_a_failed_sync_is_retried_after_the_error_delay() -> None:
    def work(key: str, count: int) -> float | None:
        if count < 3:
            raise RuntimeError("API server unavailable")
        return None

    recorder = Recorder(work)

    async def scenario(scheduler: Scheduler[str]) -> None:
        scheduler.touch("a", 0.0)

    run(recorder, scenario, error_delays=(0.01, 0.02))
    assert [k for k, _ in recorder.calls] == ["a", "a", "a"]


def test_a_sync_asking_to_run_again_runs_again() -> None:
    recorder = Recorder(lambda key, count: 0.01 if count < 4 else None)

    async def scenario(scheduler: Scheduler[str]) -> None:
        scheduler.touch("draining", 0.0)

    run(recorder, scenario)
    assert len(recorder.calls) == 4


def test_touch_is_safe_from_other_threads() -> None:
    recorder = Recorder()

    async def scenario(scheduler: Scheduler[str]) -> None:
        threads = [threading.Thread(target=scheduler.touch, args=(f"k{i % 5}",)) for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        await asyncio.sleep(DELAY * 2)

    run(recorder, scenario)
    assert sorted(k for k, _ in recorder.calls) == [f"k{i}" for i in range(5)]


def test_many_keys_run_at_most_workers_at_a_time() -> None:
    peak = 0
    running = 0
    lock = threading.Lock()

    def work(key: str, count: int) -> None:
        nonlocal peak, running
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    recorder = Recorder(work)

    async def scenario(scheduler: Scheduler[str]) -> None:
        for i in range(40):
            scheduler.touch(f"k{i}", 0.0)

    run(recorder, scenario)
    assert len(recorder.calls) == 40
    assert peak <= 4


def test_syncs_wait_until_ready_then_each_key_runs_once() -> None:
    recorder = Recorder()
    ready = threading.Event()

    async def main() -> None:
        scheduler: Scheduler[str] = Scheduler(
            "test", recorder, lambda key: key, workers=4, delay=DELAY, ready=ready.is_set
        )
        scheduler.start()
        try:
            for i in range(30):
                scheduler.touch(f"k{i % 3}", 0.0)
            await asyncio.sleep(0.5)
            assert recorder.calls == []
            ready.set()
            await settle(scheduler)
        finally:
            await scheduler.stop()

    asyncio.run(main())
    assert sorted(k for k, _ in recorder.calls) == ["k0", "k1", "k2"]
