"""What every request passes: response headers (a strict Content-Security-Policy: only our own files run,
so even a value that escaped escaping could not), the session (signed in, else to the sign-in page; its
cookie sealed again now and then, and the messages a redirect carries), and CSRF (every POST carries the
session's token, in the form or the `X-CSRF-Token` header htmx sends, and comes from this console's own
origin). The access log names method, path and status, never a query string (the local sign-in URL
carries a key) nor a body (a token)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ecs_operator.console import cookies
from ecs_operator.console.pages import EVENT_STREAM, SESSION
from ecs_operator.console.sessions import COOKIE, Session
from ecs_operator.console.state import CONSOLE, Console

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PREFIXES = ("/static/", "/signin", "/healthz")
SIGNIN_COOKIE = "ecs_console_signin"
CSRF_HEADER = "X-CSRF-Token"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        exception.headers.update(HEADERS)
        raise
    if not response.prepared:  # a stream sent its headers already
        response.headers.update(HEADERS)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


def is_public(path: str) -> bool:
    return any(path.startswith(p) for p in PUBLIC_PREFIXES)


def same_origin(request: web.Request) -> bool:
    """A browser names the page a POST comes from (Origin, else Referer): it must be this console."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return source is None  # a non-browser client sends neither; "null" is an opaque (hostile) origin
    return urlsplit(source).netloc == request.host


def refusal(message: str, status: int = 403) -> web.Response:
    return web.Response(text=message + "\n", status=status, content_type="text/plain")


async def current_session(request: web.Request) -> Session | None:
    """The request's live session: its cookie opened, the signed-out sessions read again when they may
    have changed on another replica, the token reviewed again when due."""
    console = request.app[CONSOLE]
    sessions = console.sessions
    if sessions.keys.stale(time.time()):
        await asyncio.to_thread(sessions.keys.refresh)
    found = sessions.get(cookies.read(request.cookies, COOKIE), console.signin.restore)
    if found is not None and sessions.due_for_review(found):
        if await asyncio.to_thread(console.signin.still_valid, found):
            sessions.reviewed(found)
        else:
            sessions.forget(found)
            found = None
    return found


def carry(request: web.Request, response: web.StreamResponse, console: Console, found: Session) -> None:
    """Cookies on the way out: the session sealed again when its last use is old, and the messages for
    the page a redirect leads to."""
    if response.prepared:
        return
    if console.sessions.to_reseal(found) and console.sessions.alive(found):
        sealed = console.sessions.sealed(found)
        cookies.write(response, request.cookies, COOKIE, sealed, console.secure_cookies)
    if found.flashes and 300 <= response.status < 400:
        sealed = console.sessions.sealed_flashes(found)
        cookies.write(response, request.cookies, cookies.FLASH_COOKIE, sealed, console.secure_cookies)
    elif cookies.FLASH_COOKIE in request.cookies and shows_flashes(request):
        cookies.delete(response, request.cookies, cookies.FLASH_COOKIE)


def shows_flashes(request: web.Request) -> bool:
    """A full page (not a fragment, not a stream): what shows the messages a redirect carried."""
    accept = request.headers.get("Accept", "")
    return request.method == "GET" and "HX-Request" not in request.headers and EVENT_STREAM not in accept


@web.middleware
async def session(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request.path):
        return await handler(request)
    console = request.app[CONSOLE]
    found = await current_session(request)
    if found is None:
        if EVENT_STREAM in request.headers.get("Accept", ""):
            return web.Response(status=204)  # EventSource stops reconnecting on 204
        if request.method == "GET":
            raise web.HTTPSeeOther(
                str(request.app.router["signin"].url_for().with_query(next=request.path_qs))
            )
        return refusal("Sign in first: your session has ended.", 401)
    carried = cookies.read(request.cookies, cookies.FLASH_COOKIE)
    if carried and shows_flashes(request):
        found.flashes[:0] = console.sessions.opened_flashes(found, carried)
    request[SESSION] = found
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        carry(request, exception, console, found)
        raise
    carry(request, response, console, found)
    return response


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return await handler(request)
    if not same_origin(request):
        return refusal("Refused: this form was not sent from the console's own pages (CSRF check).")
    posted = await request.post()
    given = str(posted.get("csrf") or request.headers.get(CSRF_HEADER) or "")
    if request.path.startswith("/signin"):
        expected = request.cookies.get(SIGNIN_COOKIE, "")  # before sign-in: the double-submit cookie
    else:
        found = request.get(SESSION)
        expected = found.csrf if found is not None else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return refusal(
            "Refused: the form's CSRF token is missing or stale (CSRF check). Reload the page and try again."
        )
    return await handler(request)


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.1fms',
            request.remote,
            request.method,
            request.path,
            response.status,
            time_taken * 1000,
        )
