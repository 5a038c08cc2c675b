"""Live pages: the watch caches say what changed; open pages get their changed fragments over SSE.

The operations layer's store calls `notify(change)` on its informer threads for every change;
the broadcaster hands that to the event loop (state changes only there), waits `DEBOUNCE_SECONDS` to
gather a burst, then re-renders each affected page once per (page, session) — however many tabs show
it — and sends each open stream only the fragments that differ from what it last sent. Nothing here
talks to the API server: a hundred open pages cost what one costs (the watches are shared), plus the
access reviews of their users, which are cached.

A stream is a named SSE event per fragment (`event: health`, HTML in `data:`), a comment every
`PING_SECONDS` (proxies close silent connections), `notice` when a page cannot be rendered any more, and
`close` when the session has ended (the page's `sse-close` stops reconnecting).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web

from ecs_operator.console import render
from ecs_operator.console.pages import LIVE_VERSION, Page, View, render_fragments
from ecs_operator.ecsapi.errors import EcsError
from ecs_operator.runtime import Change

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.3
PING_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
CLOSED = ("close", "")


@dataclass(eq=False)
class Subscription:
    """One open stream: the page it shows and what it has sent so far."""

    page: Page
    view: View
    topics: frozenset[str]
    queue: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    sent: dict[str, str] = field(default_factory=dict)

    @property
    def group(self) -> tuple[str, str]:
        return (self.view.path, self.view.session.id)


class Broadcaster:
    def __init__(self, loop: asyncio.AbstractEventLoop, debounce: float = DEBOUNCE_SECONDS) -> None:
        self._debounce = debounce
        self._loop = loop
        self._subscriptions: set[Subscription] = set()
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._ids = itertools.count(1)
        self.version = 0  # changes seen so far: a page rendered at version v need not be re-sent at v
        self.renders = 0  # pages rendered for open streams, and the pushes they were rendered for
        self.pushes = 0

    def notify(self, change: Change) -> None:
        """From an informer's thread: an object changed (its namespace is the topic; "" when
        cluster-scoped)."""
        current = change.new if change.new is not None else change.old
        namespace = str(((current or {}).get("metadata") or {}).get("namespace") or "")
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._mark, namespace)

    def _mark(self, namespace: str) -> None:
        self.version += 1
        self._dirty.add(namespace)
        self._wake.set()

    def open_streams(self, path: str | None = None) -> int:
        """How many streams are open (of the page at `path`); safe to ask from another thread."""
        return sum(1 for s in list(self._subscriptions) if path is None or s.view.path == path)

    def next_id(self) -> int:
        return next(self._ids)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._debounce)  # gather the rest of the burst
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            await self._push([s for s in self._subscriptions if s.topics & dirty])

    async def _push(self, subscriptions: list[Subscription]) -> None:
        if subscriptions:
            self.pushes += 1
        groups: dict[tuple[str, str], list[Subscription]] = defaultdict(list)
        for subscription in subscriptions:
            groups[subscription.group].append(subscription)
        await asyncio.gather(*(self.refresh(members) for members in groups.values()))

    async def refresh(self, members: list[Subscription]) -> None:
        """Render the page the members show (they share page and session) and queue what changed."""
        view = members[0].view
        page = members[0].page
        console = view.console
        if not console.sessions.alive(view.session):
            for member in members:
                member.queue.put_nowait(CLOSED)
            return
        if console.sessions.due_for_review(view.session):
            if not await asyncio.to_thread(console.signin.still_valid, view.session):
                console.sessions.forget(view.session)
                for member in members:
                    member.queue.put_nowait(CLOSED)
                return
            console.sessions.reviewed(view.session)
        self.renders += 1
        try:
            fragments = await asyncio.to_thread(_render, page, view)
        except EcsError as error:
            fragments = {
                "notice": render.render("_notice.html", {"level": "error", "message": error.message})
            }
        except Exception:
            log.exception("could not render %s live", view.path)
            return
        for member in members:
            for name, body in fragments.items():
                if member.sent.get(name) != body:
                    member.sent[name] = body
                    member.queue.put_nowait((name, body))

    def add(self, subscription: Subscription) -> None:
        self._subscriptions.add(subscription)

    def remove(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def close_all(self) -> None:
        for subscription in self._subscriptions:
            subscription.queue.put_nowait(CLOSED)


def _render(page: Page, view: View) -> dict[str, str]:
    return render_fragments(page, view, page.load(view))


def event(event_id: int, name: str, data: str) -> bytes:
    lines = [f"id: {event_id}", f"event: {name}"]
    lines += [f"data: {line}" for line in data.replace("\r", "").split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


async def stream(request: web.Request, page: Page, view: View) -> web.StreamResponse:
    """The page's live stream (what `sse-connect` opens): its fragments whenever they change."""
    console = view.console
    live = console.live
    assert live is not None and page.topics is not None
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx-style proxies: pass events as they come
        }
    )
    await response.prepare(request)
    subscription = Subscription(page, view, page.topics(view))
    live.add(subscription)
    try:
        await response.write(f"retry: {RETRY_MILLISECONDS}\n\n".encode())
        if request.query.get(LIVE_VERSION) != str(live.version):
            await live.refresh([subscription])  # something changed since the page was rendered
        while True:
            try:
                name, data = await asyncio.wait_for(subscription.queue.get(), PING_SECONDS)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if (name, data) == CLOSED:
                notice = render.render(
                    "_notice.html",
                    {"level": "error", "message": "Signed out: sign in again to see live updates."},
                )
                await response.write(event(live.next_id(), "close", notice))
                break
            await response.write(event(live.next_id(), name, data))
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    finally:
        live.remove(subscription)
    return response
