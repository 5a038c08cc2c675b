"""The SSE wire format, and how a cache change reaches the broadcaster (its namespace is the topic)."""

from __future__ import annotations

import asyncio
import threading

from ecs_operator.console.live import Broadcaster, event
from ecs_operator.runtime import Change


def test_an_event_carries_every_line_of_its_html() -> None:
    assert event(7, "health", "<p>\r\n a</p>\n<p>b</p>") == (
        b"id: 7\nevent: health\ndata: <p>\ndata:  a</p>\ndata: <p>b</p>\n\n"
    )


def test_changes_from_the_informer_threads_mark_their_namespaces_on_the_loop() -> None:
    async def scenario() -> tuple[int, set[str]]:
        live = Broadcaster(asyncio.get_running_loop())
        pod = {"metadata": {"namespace": "demo", "name": "p"}}
        node = {"metadata": {"name": "n"}}
        changes = [Change("Pod", None, pod), Change("Node", node, None), Change("Pod", pod, pod)]
        thread = threading.Thread(target=lambda: [live.notify(c) for c in changes])
        thread.start()
        thread.join()
        while live.version < len(changes):
            await asyncio.sleep(0)  # the loop runs the marks the thread handed over
        return live.version, set(live._dirty)

    assert asyncio.run(scenario()) == (3, {"demo", ""})
