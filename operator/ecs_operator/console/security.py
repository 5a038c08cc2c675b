"""What every request passes: response headers (a strict Content-Security-Policy: only our own files run,
so even a value that escaped escaping could not), the session (signed in, else to the sign-in page), and
CSRF (every POST carries the session's token, in the form or the `X-CSRF-Token` header htmx sends, and
comes from this console's own origin). The access log names method, path and status, never a query
string (the local sign-in URL carries a key) nor a body (a token)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ecs_operator.console.pages import EVENT_STREAM, SESSION
from ecs_operator.console.sessions import COOKIE
from ecs_operator.console.state import CONSOLE

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


@web.middleware
async def session(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request.path):
        return await handler(request)
    console = request.app[CONSOLE]
    found = console.sessions.get(request.cookies.get(COOKIE))
    if found is not None and console.sessions.due_for_review(found):
        if await asyncio.to_thread(console.signin.still_valid, found):
            console.sessions.reviewed(found)
        else:
            console.sessions.remove(found)
            found = None
    if found is None:
        if EVENT_STREAM in request.headers.get("Accept", ""):
            return web.Response(status=204)  # EventSource stops reconnecting on 204
        if request.method == "GET":
            raise web.HTTPSeeOther(
                str(request.app.router["signin"].url_for().with_query(next=request.path_qs))
            )
        return refusal("Sign in first: your session has ended.", 401)
    request[SESSION] = found
    return await handler(request)


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
