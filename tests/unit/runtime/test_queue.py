"""The work queue, on a fake clock: debounced, one pass at a time per key, rerun once, backoff."""

import threading

import pytest
from ecs_operator.runtime.queue import DONE, WorkQueue, requeue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def queue_on(clock: Clock, **options: object) -> WorkQueue[str]:
    return WorkQueue(clock, **options)  # type: ignore[arg-type]


def test_a_key_is_due_after_its_delay_and_handed_out_once() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a", 0.5)
    assert queue.pop() == (None, 0.5)
    clock.now += 0.5
    assert queue.pop() == ("a", None)
    assert queue.pop() == (None, None)


def test_a_burst_of_touches_runs_once_at_the_earliest_time_asked() -> None:
    clock = Clock()
    queue = queue_on(clock)
    for _ in range(20):
        queue.add("a", 0.5)
    queue.add("a", 0.1)
    queue.add("a", 0.9)
    assert queue.pop() == (None, 0.1)
    clock.now += 0.1
    assert queue.pop()[0] == "a"
    clock.now += 10
    assert queue.pop() == (None, None)


def test_a_touch_during_processing_reruns_the_key_once_afterwards() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a")
    assert queue.pop()[0] == "a"
    for _ in range(10):
        queue.add("a", 0.0)
    assert queue.pop() == (None, None), "never handed out while it is being processed"
    assert queue.done("a", DONE) == 0.0
    assert queue.pop()[0] == "a"
    assert queue.done("a", DONE) is None
    assert len(queue) == 0


def test_a_requeue_and_a_touch_meanwhile_take_the_earlier_time() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a")
    queue.pop()
    queue.add("a", 0.5)
    assert queue.done("a", requeue(2.0)) == 0.5
    assert queue.pop() == (None, 0.5)


def test_failures_back_off_longer_each_time_and_success_forgets_them() -> None:
    clock = Clock()
    queue = queue_on(clock, error_delays=(1.0, 2.0, 5.0))
    queue.add("a")
    delays = []
    for _ in range(4):
        clock.now += 10
        assert queue.pop()[0] == "a"
        delays.append(queue.done("a", None, failed=True))
    assert delays == [1.0, 2.0, 5.0, 5.0]
    assert queue.failures("a") == 4
    clock.now += 10
    assert queue.pop()[0] == "a"
    assert queue.done("a", DONE) is None
    assert queue.failures("a") == 0


def test_keys_are_independent() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a", 0.2)
    queue.add("b", 0.1)
    clock.now += 1
    assert {queue.pop()[0], queue.pop()[0]} == {"a", "b"}
    assert len(queue) == 2  # both processing


def test_get_blocks_until_a_key_is_due_and_returns_none_once_closed() -> None:
    queue: WorkQueue[str] = WorkQueue()
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(queue.get(idle_wait=0.05)))
    worker.start()
    queue.add("a")
    worker.join(5)
    assert got == ["a"]
    closer = threading.Thread(target=lambda: got.append(queue.get(idle_wait=0.05)))
    closer.start()
    queue.close()
    closer.join(5)
    assert got == ["a", None]


def test_a_settling_key_runs_once_its_touches_stop() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a", 2.0, settle=0.25)
    for _ in range(3):  # touched every 0.2 s: never quiet for 0.25 s
        clock.now = round(clock.now + 0.2, 1)
        queue.add("a", 2.0, settle=0.25)
        assert queue.pop() == (None, pytest.approx(0.25))
    clock.now += 0.25
    assert queue.pop() == ("a", None)


def test_a_settling_key_touched_without_pause_runs_at_its_latest_time() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a", 2.0, settle=0.25)
    while clock.now < 1.9:
        clock.now = round(clock.now + 0.1, 1)
        queue.add("a", 2.0, settle=0.25)
    assert queue.pop() == (None, pytest.approx(0.1))
    clock.now = 2.0
    assert queue.pop() == ("a", None)


def test_settling_never_postpones_a_plain_request() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a", 0.1)
    queue.add("a", 2.0, settle=0.25)
    assert queue.pop() == (None, 0.1)
    queue.add("a", 2.0, settle=0.25)
    queue.add("a")  # a new spec: at once, whatever was settling
    assert queue.pop() == ("a", None)
    queue.done("a", DONE)
    queue.add("a", 2.0, settle=0.25)
    queue.add("a", 0.0)
    assert queue.pop() == ("a", None)


def test_touches_while_processing_settle_afterwards() -> None:
    clock = Clock()
    queue = queue_on(clock)
    queue.add("a")
    assert queue.pop() == ("a", None)
    queue.add("a", 2.0, settle=0.25)
    queue.add("a", 2.0, settle=0.25)
    assert queue.done("a", DONE) == 0.25
    while clock.now < 1.9:  # a burst after the pass: one more pass, two seconds later
        clock.now = round(clock.now + 0.1, 1)
        queue.add("a", 2.0, settle=0.25)
        assert queue.pop()[0] is None
    clock.now = 2.0
    assert queue.pop() == ("a", None)
    queue.add("a", 2.0, settle=0.25)
    queue.add("a", 0.5)  # one plain touch among settling ones: the sooner, not settling
    assert queue.done("a", DONE) == 0.25
    clock.now += 0.1
    queue.add("a", 2.0, settle=0.25)
    assert queue.pop() == (None, pytest.approx(0.15))


def test_idle_workers_wait_for_one_timer_and_an_earlier_key_is_not_held_up_by_a_later_one() -> None:
    queue: WorkQueue[str] = WorkQueue()
    stop = threading.Event()
    got: list[str] = []
    workers = [
        threading.Thread(target=lambda: got.append(queue.get(stop=stop) or ""), daemon=True) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    queue.add("late", 60.0)  # one worker waits for it, the others until woken
    queue.add("soon", 0.05)
    queue.add("now")
    for _ in range(200):
        if len(got) == 2:
            break
        threading.Event().wait(0.05)
    assert sorted(got) == ["now", "soon"], "both handed out long before the later key is due"
    stop.set()
    queue.wake()
    for worker in workers:
        worker.join(5)
    assert not any(w.is_alive() for w in workers)
