"""The console's app factory: one route table, the middlewares every request passes, and the
broadcaster of live updates (started with the app, its open streams closed on shutdown)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from ecs_operator.console import security
from ecs_operator.console.live import Broadcaster
from ecs_operator.console.routes import ROUTES
from ecs_operator.console.state import CONSOLE, Console

MAX_BODY_BYTES = 1024 * 1024  # the largest form is a task definition's JSON


async def live_updates(app: web.Application) -> AsyncIterator[None]:
    console = app[CONSOLE]
    live = console.live = Broadcaster(asyncio.get_running_loop())
    console.store.subscribe(live.notify)
    task = asyncio.create_task(live.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def close_streams(app: web.Application) -> None:
    live = app[CONSOLE].live
    if live is not None:
        live.close_all()


def build_app(console: Console) -> web.Application:
    app = web.Application(
        middlewares=[security.headers, security.session, security.csrf], client_max_size=MAX_BODY_BYTES
    )
    app[CONSOLE] = console
    app.add_routes(ROUTES)
    app.cleanup_ctx.append(live_updates)
    app.on_shutdown.append(close_streams)
    return app
