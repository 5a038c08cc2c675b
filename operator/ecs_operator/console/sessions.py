"""Signed-in sessions, kept in the console's memory only: the browser holds a random session id in an
HttpOnly, SameSite=Strict cookie; the token (in-cluster) or the kubeconfig client (locally) stays here.

A session ends when signed out, after `IDLE_SECONDS` unused, after `LIFETIME_SECONDS`, or (in-cluster) when
the API server no longer accepts its token (re-reviewed every `REREVIEW_SECONDS` while in use). A console
restart signs everybody out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.console.authz import AccessReviewer, User
from ecs_operator.kube import Kube

COOKIE = "ecs_console_session"
IDLE_SECONDS = 8 * 3600.0
LIFETIME_SECONDS = 24 * 3600.0
REREVIEW_SECONDS = 60.0
SESSION_LIMIT = 10000


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    """One signed-in browser: who it acts as, with which client, and its CSRF token."""

    user: User
    api_client: Any
    reviewer: AccessReviewer
    token: str | None = field(default=None, repr=False)  # in-cluster: re-reviewed while in use
    id: str = field(default_factory=new_secret, repr=False)
    csrf: str = field(default_factory=new_secret, repr=False)
    created: float = 0.0
    used: float = 0.0
    reviewed: float = 0.0
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def kube(self) -> Kube:
        return Kube(self.api_client, "ecs-console")

    def flash(self, level: str, message: str) -> None:
        """A message for the next page this session renders (`level`: ok or error)."""
        self.flashes.append((level, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def add(self, session: Session) -> Session:
        now = self._clock()
        session.created = session.used = session.reviewed = now
        with self._lock:
            if len(self._sessions) >= SESSION_LIMIT:
                self._expire(now)
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value (and it counts as used), else None."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if not self._alive(session, now):
                self._sessions.pop(session_id, None)
                return None
            session.used = now
            return session

    def alive(self, session: Session) -> bool:
        with self._lock:
            return self._sessions.get(session.id) is session and self._alive(session, self._clock())

    def due_for_review(self, session: Session) -> bool:
        return session.token is not None and self._clock() - session.reviewed >= REREVIEW_SECONDS

    def reviewed(self, session: Session) -> None:
        session.reviewed = self._clock()

    def remove(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _alive(self, session: Session, now: float) -> bool:
        return now - session.used < IDLE_SECONDS and now - session.created < LIFETIME_SECONDS

    def _expire(self, now: float) -> None:
        self._sessions = {k: s for k, s in self._sessions.items() if self._alive(s, now)}
