"""The console's cookies: the sealed session, in as many cookies as it needs (a browser keeps at most 4096
bytes in one, and a token with many groups seals longer), and the messages that follow a redirect."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

CHUNK = 3800
FLASH_COOKIE = "ecs_console_flash"


def _names(name: str, cookies: Mapping[str, str]) -> list[str]:
    found = [name]
    while f"{name}.{len(found)}" in cookies:
        found.append(f"{name}.{len(found)}")
    return found


def read(cookies: Mapping[str, str], name: str) -> str | None:
    if name not in cookies:
        return None
    return "".join(cookies[part] for part in _names(name, cookies))


def write(
    response: web.StreamResponse, cookies: Mapping[str, str], name: str, value: str, secure: bool
) -> None:
    """Set cookie `name` (and `name.1`, … while needed) to `value`; parts an older value had are removed."""
    parts = [value[i : i + CHUNK] for i in range(0, len(value), CHUNK)] or [""]
    for number, part in enumerate(parts):
        response.set_cookie(
            f"{name}.{number}" if number else name,
            part,
            httponly=True,
            samesite="Strict",
            secure=secure,
            path="/",
        )
    for stale in _names(name, cookies)[len(parts) :]:
        response.del_cookie(stale, path="/")


def delete(response: web.StreamResponse, cookies: Mapping[str, str], name: str) -> None:
    for part in _names(name, cookies):
        response.del_cookie(part, path="/")
