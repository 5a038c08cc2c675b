"""How a page is served: load (operations calls, on a worker thread: the layer blocks), render, and, for a
live page, stream its fragments as they change; how a form is submitted.

A view module declares a `Page` (its template, a `load(view) -> context`, the fragments `_<name>.html`
that update live, and the namespaces whose changes touch it) and, for actions, a `Form` whose `submit`
calls an operation and returns where to go next. The route table (`routes`) turns them into handlers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ecs_operator.console import render
from ecs_operator.console.authz import WRITES
from ecs_operator.console.sessions import Session
from ecs_operator.console.state import CONSOLE, Console
from ecs_operator.ecsapi import operations
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.errors import AccessDeniedException, EcsError, ServiceUnavailableException
from ecs_operator.kube import resource_for

SESSION = web.RequestKey("session", Session)
EVENT_STREAM = "text/event-stream"
LIVE_VERSION = "v"  # in a live page's stream URL: the broadcaster's version the page was rendered at


class NotFound(EcsError):
    """What a page names does not exist (answered 404)."""


@dataclass
class View:
    """What a page's loader gets: who asks (the session), the URL's parts and query."""

    console: Console
    session: Session
    params: Mapping[str, str]
    query: Mapping[str, str]
    path: str

    @property
    def ctx(self) -> Context:
        return Context(
            store=self.console.store,
            kube=self.session.kube,
            authorizer=self.session.reviewer,
            caller=lambda: self.session.user.name,
            partition=self.console.partition,
        )

    def call(self, operation: str, **request: Any) -> dict[str, Any]:
        """An ECS operation as this user (the same entry point as the endpoint and `kubectl ecs`)."""
        return operations.call(self.ctx, operation, request)

    def may(self, verb: str, kind: str, namespace: str = "", name: str = "", subresource: str = "") -> bool:
        return self.session.reviewer.may(verb, kind, namespace, name, subresource)

    def may_call(self, operation: str, namespace: str, name: str = "") -> bool:
        """Whether the user may make every write `operation` makes (`authz.WRITES`) there."""
        return all(
            self.may(verb, kind, namespace if resource_for(kind).namespaced else "", name)
            for verb, kind in WRITES[operation]
        )


Topics = Callable[[View], frozenset[str]]


@dataclass(frozen=True)
class Page:
    """`topics`: the namespaces ("" for clusters and Nodes) whose changes re-render the page's
    `fragments` and push them to open browsers; None for a page that is not live."""

    template: str
    load: Callable[[View], dict[str, Any]]
    fragments: tuple[str, ...] = ()
    topics: Topics | None = None
    partial: str | None = None  # what an htmx request (HX-Request) gets instead of the full page


@dataclass(frozen=True)
class Form:
    """A POST: `submit(view, values)` acts (operations as the user) and returns the URL to go to;
    when it raises an `EcsError`, `page` is rendered again with the message and the values given."""

    page: Page
    submit: Callable[[View, Mapping[str, str]], str]


def status_of(error: EcsError) -> int:
    if isinstance(error, AccessDeniedException):
        return 403
    if isinstance(error, NotFound) or error.code.endswith("NotFoundException"):
        return 404
    return error.status


def view_of(request: web.Request) -> View:
    query = {k: str(v) for k, v in request.query.items() if k != LIVE_VERSION}
    return View(
        console=request.app[CONSOLE],
        session=request[SESSION],
        params=dict(request.match_info),
        query=query,
        path=str(request.rel_url.with_query(query)),
    )


def base_context(view: View, live: bool) -> dict[str, Any]:
    return {
        "user": view.session.user,
        "mode": view.console.signin.mode,
        "csrf": view.session.csrf,
        "path": view.path,
        "params": view.params,
        "query": view.query,
        "live": live,
        "version": view.console.live.version if view.console.live else 0,
        "error": None,
        "values": {},
        "flashes": [],
    }


def render_fragments(page: Page, view: View, context: Mapping[str, Any]) -> dict[str, str]:
    full = {**base_context(view, True), **context}
    return {name: render.render(f"_{name}.html", full) for name in page.fragments}


def html(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=body, status=status, content_type="text/html", headers={"Vary": "HX-Request, Accept"}
    )


def render_page(
    page: Page,
    view: View,
    context: Mapping[str, Any],
    *,
    partial: bool = False,
    status: int = 200,
    live: bool = True,
) -> web.Response:
    """`live`: False for the answer to a POST (its URL is the action's, which has no stream)."""
    full = {**base_context(view, live and page.topics is not None), **context}
    if not partial:
        full["flashes"] = view.session.take_flashes()
    template = page.partial if partial and page.partial else page.template
    return html(render.render(template, full), status)


def error_page(view: View, error: EcsError) -> web.Response:
    status = status_of(error)
    heading = {403: "Access denied", 404: "Not found", 503: "Starting"}.get(status, "Error")
    context = {
        **base_context(view, False),
        "title": heading,
        "heading": heading,
        "message": error.message,
        "code": error.code,
    }
    return html(render.render("error.html", context), status)


def page_handler(page: Page) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.StreamResponse:
        view = view_of(request)
        if not view.console.store.synced():
            return error_page(
                view, ServiceUnavailableException("The console is starting: its caches are listing.")
            )
        if page.topics is not None and EVENT_STREAM in request.headers.get("Accept", ""):
            from ecs_operator.console.live import stream

            return await stream(request, page, view)
        began = time.perf_counter()
        try:
            context = await asyncio.to_thread(page.load, view)
        except EcsError as error:
            return error_page(view, error)
        response = render_page(page, view, context, partial=request.headers.get("HX-Request") == "true")
        # The server's own time for the page (loading through the operations, rendering), for benchmarks.
        response.headers["Server-Timing"] = f"page;dur={(time.perf_counter() - began) * 1000:.1f}"
        return response

    return handle


def form_handler(form: Form) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.StreamResponse:
        view = view_of(request)
        posted = await request.post()
        values = {k: v for k, v in posted.items() if isinstance(v, str) and k != "csrf"}
        try:
            target = await asyncio.to_thread(form.submit, view, values)
        except EcsError as error:
            try:
                context = await asyncio.to_thread(form.page.load, view)
            except EcsError as page_error:
                return error_page(view, page_error if status_of(page_error) == 404 else error)
            context.update(error=error.message, values=values)
            return render_page(form.page, view, context, status=status_of(error), live=False)
        raise web.HTTPSeeOther(target)

    return handle
