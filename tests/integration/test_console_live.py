"""Live pages: an open page gets its changed fragments over SSE as the watch caches change, and a hundred
open pages of one person cost one render per change (the watches and the renders are shared)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Callable

import aiohttp
import pytest

from tests.integration.console_helpers import ConsoleClient, InProcessConsole, User, web_service
from tests.integration.operator_helpers import Cluster
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.console_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
PAGES = 100
TIMEOUT = 120.0


async def health_events(session: aiohttp.ClientSession, url: str, wanted: str) -> list[str]:
    """Read the page's stream until a `health` event shows `wanted`; the event names seen."""
    seen: list[str] = []
    async with session.get(url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
        name, data = "", []
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
            elif not line and name:
                seen.append(name)
                if name == "health" and wanted in "\n".join(data):
                    return seen
                name, data = "", []
    raise AssertionError(f"the stream ended before {wanted!r}; events: {seen}")


def test_a_hundred_open_pages_update_themselves_at_the_cost_of_one(
    ecs_cluster: Cluster,
    editor: User,
    sign_in: Callable[[User], ConsoleClient],
    console_server: InProcessConsole,
    kubectl: Kubectl,
) -> None:
    cluster = ecs_cluster
    web_service(cluster, desired=1)
    client = sign_in(editor)
    path = f"/clusters/{cluster.name}/services/web"
    page = client.page(path)
    main = page.select_one("main")
    assert main is not None and main["hx-ext"] == "sse"
    match = re.fullmatch(re.escape(path) + r"\?v=(\d+)", str(main["sse-connect"]))
    assert match, main["sse-connect"]
    live = console_server.console.live
    cookies = {"ecs_console_session": client.http.cookies["ecs_console_session"]}
    wanted = 'data-running="2" data-desired="2"'

    async def watch() -> list[list[str]]:
        async with aiohttp.ClientSession(
            cookies=cookies, timeout=aiohttp.ClientTimeout(total=TIMEOUT)
        ) as session:
            url = f"{console_server.url}{path}?v={live.version}"
            readers = [asyncio.create_task(health_events(session, url, wanted)) for _ in range(PAGES)]
            await asyncio.to_thread(
                wait_for, lambda: live.open_streams(path) == PAGES, 60, 0.2, f"{PAGES} open streams"
            )
            renders, pushes = live.renders, live.pushes
            await asyncio.to_thread(
                kubectl, "scale", "ecsservice", "web", "--replicas=2", "-n", cluster.namespace
            )
            seen = await asyncio.gather(*readers)
            assert live.pushes > pushes
            # One render per push for all hundred pages (the same page of the same person).
            assert live.renders - renders == live.pushes - pushes
            return seen

    seen = asyncio.run(watch())
    assert len(seen) == PAGES and all(names[-1] == "health" for names in seen)
    wait_for(lambda: live.open_streams(path) == 0, timeout=60, message="the closed streams forgotten")
