"""Sign in and out. The sign-in form is protected like every other (a double-submit CSRF cookie, since
there is no session yet); the session cookie is HttpOnly and SameSite=Strict. Locally, the URL the
console prints signs in at once (`?key=`) and the browser is sent on without it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from ecs_operator.console import cookies, render
from ecs_operator.console.pages import SESSION, html
from ecs_operator.console.security import SIGNIN_COOKIE
from ecs_operator.console.sessions import COOKIE, Session, new_secret
from ecs_operator.console.signin import SignInError
from ecs_operator.console.state import CONSOLE

log = logging.getLogger(__name__)


def safe_next(value: str | None) -> str:
    """Only a path of this console (never `//host` or a scheme) is followed after signing in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/clusters"


def _form(request: web.Request, error: str | None, status: int = 200) -> web.Response:
    console = request.app[CONSOLE]
    token = request.cookies.get(SIGNIN_COOKIE) or new_secret()
    context: dict[str, Any] = {
        "title": "Sign in",
        "mode": console.signin.mode,
        "csrf": token,
        "next": safe_next(request.query.get("next")),
        "error": error,
        "user": None,
        "live": False,
        "flashes": [],
    }
    response = html(render.render("signin.html", context), status)
    response.set_cookie(
        SIGNIN_COOKIE, token, httponly=True, samesite="Strict", secure=console.secure_cookies, path="/signin"
    )
    return response


def _signed_in(request: web.Request, session: Session, target: str) -> web.HTTPSeeOther:
    console = request.app[CONSOLE]
    sealed = console.sessions.add(session)
    log.info("%s signed in (%s)", session.user.name, console.signin.mode)
    response = web.HTTPSeeOther(safe_next(target))
    cookies.write(response, request.cookies, COOKIE, sealed, console.secure_cookies)
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
    return response


def _refused(request: web.Request, error: SignInError) -> web.Response:
    log.info("a sign-in was refused: %s", error)
    return _form(request, str(error), 401)


async def form(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    key = request.query.get("key")
    if key and console.signin.mode == "kubeconfig":
        try:
            session = await asyncio.to_thread(console.signin.sign_in, key)
        except SignInError as error:
            return _refused(request, error)
        raise _signed_in(request, session, request.query.get("next") or "/clusters")
    return _form(request, None)


async def submit(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    posted = await request.post()
    secret = str(posted.get("token") or "")
    try:
        session = await asyncio.to_thread(console.signin.sign_in, secret)
    except SignInError as error:
        return _refused(request, error)
    raise _signed_in(request, session, str(posted.get("next") or ""))


async def signout(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    await asyncio.to_thread(console.sessions.sign_out, request[SESSION])
    response = web.HTTPSeeOther("/signin")
    cookies.delete(response, request.cookies, COOKIE)
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/clusters")


async def healthz(request: web.Request) -> web.StreamResponse:
    synced = request.app[CONSOLE].store.synced()
    return web.Response(status=200 if synced else 503, text="ok\n" if synced else "listing\n")
