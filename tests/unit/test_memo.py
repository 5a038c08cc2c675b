"""The small caches of rarely changing reads: expiry, invalidation, one load per key at a time."""

import threading
import time
from collections.abc import Callable

from ecs_operator.handlers._memo import Memo


def test_memo_keeps_values_until_invalidated_or_expired() -> None:
    now = [0.0]
    memo: Memo[str, int] = Memo(10.0, clock=lambda: now[0])
    loads: list[str] = []

    def load(key: str, value: int) -> Callable[[], int]:
        return lambda: loads.append(key) or value

    assert memo.get("a", load("a", 1)) == 1
    assert memo.get("a", load("a", 2)) == 1
    memo.invalidate("a")
    assert memo.get("a", load("a", 3)) == 3
    now[0] = 11.0
    assert memo.get("a", load("a", 4)) == 4
    memo.invalidate()
    assert memo.get("a", load("a", 5)) == 5
    assert loads == ["a", "a", "a", "a"]


def test_memo_does_not_keep_a_value_loaded_across_an_invalidation() -> None:
    memo: Memo[str, int] = Memo(60.0)

    def racing_load() -> int:
        memo.invalidate("a")  # the writer changed the object while we read it
        return 1

    assert memo.get("a", racing_load) == 1
    assert memo.get("a", lambda: 2) == 2


def test_memo_loads_a_key_once_when_many_threads_ask_at_once() -> None:
    memo: Memo[str, int] = Memo(60.0)
    loads: list[int] = []

    def slow_load() -> int:
        time.sleep(0.05)
        loads.append(1)
        return 7

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("a", slow_load))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [7] * 8
    assert loads == [1]
