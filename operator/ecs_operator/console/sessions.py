"""Signed-in sessions that any replica of the console serves, and that a restart keeps.

The browser holds the session itself, sealed (AES-GCM: encrypted and authenticated) with the console's
session key, in an HttpOnly, SameSite=Strict cookie: the session id, its CSRF token, who it acts as, when
it began and was last used, and (in-cluster) the user's bearer token, which the browser never sees in
clear. Every replica reads the key from the same Secret (`session_keys.SecretKeys`), so a cookie sealed by
one opens on any other and after a restart; locally the key lives in the process (`MemoryKeys`).

Each replica keeps the sessions it has served in memory (their clients and access-review caches). A
session it has not seen yet is rebuilt from the cookie and, in-cluster, its token is reviewed again before
anything is shown, as every `REREVIEW_SECONDS` while in use. A session ends when signed out (its id is
revoked in the Secret, which every replica reads again within `REVOCATION_SECONDS` of a request), after
`IDLE_SECONDS` unused, after `LIFETIME_SECONDS`, or when the API server no longer accepts its token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecs_operator.console.authz import AccessReviewer, User
from ecs_operator.kube import Kube

COOKIE = "ecs_console_session"
IDLE_SECONDS = 8 * 3600.0
LIFETIME_SECONDS = 24 * 3600.0
REREVIEW_SECONDS = 60.0
REVOCATION_SECONDS = 5.0
TOUCH_SECONDS = 300.0  # a cookie's "last used" is sealed again at most this often
SESSION_LIMIT = 10000
# What a sealed value is for, bound to it: a value sealed for one purpose opens for no other.
SESSION = b"ecs-console-session-v1"
FLASHES = b"ecs-console-flashes-v1"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def session_hash(session_id: str) -> str:
    """How a revoked session is named where the key is kept (never the id itself)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


class SessionKeys(Protocol):
    """The key that seals sessions, and the sessions signed out, as every replica sees them."""

    def key(self) -> bytes: ...

    def revoked(self, session_id: str) -> bool: ...

    def revoke(self, session_id: str, until: float) -> None:
        """Sign a session out everywhere (blocks: it may write to the API server)."""

    def stale(self, now: float) -> bool:
        """Whether the revocations should be read again (`refresh`, which blocks) before they are trusted."""

    def refresh(self) -> None:
        """Read the revocations again; on failure keep the last ones (and log it)."""


class MemoryKeys:
    """A key of this process alone (the local console: one process, its sessions end with it)."""

    def __init__(self) -> None:
        self._key = AESGCM.generate_key(bit_length=256)
        self._revoked: dict[str, float] = {}

    def key(self) -> bytes:
        return self._key

    def revoked(self, session_id: str) -> bool:
        return session_hash(session_id) in self._revoked

    def revoke(self, session_id: str, until: float) -> None:
        self._revoked[session_hash(session_id)] = until

    def stale(self, now: float) -> bool:
        return False

    def refresh(self) -> None:
        return None


def seal(key: bytes, claims: Mapping[str, Any], purpose: bytes = SESSION) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, orjson.dumps(dict(claims)), purpose)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(key: bytes, value: str, purpose: bytes = SESSION) -> dict[str, Any] | None:
    """The claims of a value sealed for `purpose`, or None when it was not sealed with `key` for it, or
    was altered."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        opened = AESGCM(key).decrypt(raw[:12], raw[12:], purpose)
        claims = orjson.loads(opened)
    except (ValueError, InvalidTag, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


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
    sealed_used: float = 0.0  # the "last used" its cookie carries
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

    def claims(self) -> dict[str, Any]:
        user = self.user
        return {
            "id": self.id,
            "csrf": self.csrf,
            "user": {"name": user.name, "uid": user.uid, "groups": list(user.groups), "extra": user.extra},
            "token": self.token,
            "created": self.created,
            "used": self.used,
        }


def user_of(claims: Mapping[str, Any]) -> User:
    user = claims.get("user") or {}
    return User(
        name=str(user.get("name") or ""),
        uid=str(user.get("uid") or ""),
        groups=tuple(str(g) for g in user.get("groups") or ()),
        extra=tuple((str(k), tuple(str(v) for v in values)) for k, values in user.get("extra") or ()),
    )


# Rebuild a session this replica has not served yet: (who, token) -> a Session with its client.
Restore = Callable[[User, str | None], Session]


class Sessions:
    def __init__(self, keys: SessionKeys | None = None, clock: Callable[[], float] = time.time) -> None:
        self.keys: SessionKeys = keys if keys is not None else MemoryKeys()
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def add(self, session: Session) -> str:
        """A new session: kept, and its cookie's value."""
        now = self._clock()
        session.created = session.used = session.reviewed = now
        self._keep(session, now)
        return self.sealed(session)

    def sealed(self, session: Session) -> str:
        session.sealed_used = session.used
        return seal(self.keys.key(), session.claims())

    def get(self, value: str | None, restore: Restore | None = None) -> Session | None:
        """The live session a cookie holds (it counts as used), else None. One this replica has not served
        is rebuilt with `restore`, due for review at once."""
        if not value:
            return None
        claims = unseal(self.keys.key(), value)
        if claims is None or self.keys.revoked(str(claims.get("id"))):
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(str(claims["id"]))
        if session is None:
            if restore is None:
                return None
            session = restore(user_of(claims), claims.get("token"))
            session.id, session.csrf = str(claims["id"]), str(claims["csrf"])
            session.created, session.reviewed = float(claims["created"]), 0.0
            session.used = session.sealed_used = float(claims["used"])
            self._keep(session, now)
        if not self._alive(session, now):
            self.forget(session)
            return None
        session.used = now
        return session

    def sealed_flashes(self, session: Session) -> str:
        """Its pending messages, taken, for the page after a redirect (served by any replica)."""
        return seal(self.keys.key(), {"id": session.id, "flashes": session.take_flashes()}, FLASHES)

    def opened_flashes(self, session: Session, value: str) -> list[tuple[str, str]]:
        claims = unseal(self.keys.key(), value, FLASHES) or {}
        if claims.get("id") != session.id:
            return []
        return [(str(level), str(message)) for level, message in claims.get("flashes") or ()]

    def to_reseal(self, session: Session) -> bool:
        """Whether its cookie should be sealed again (so that another replica knows it was used)."""
        return session.used - session.sealed_used >= TOUCH_SECONDS

    def alive(self, session: Session) -> bool:
        with self._lock:
            kept = self._sessions.get(session.id) is session
        return kept and not self.keys.revoked(session.id) and self._alive(session, self._clock())

    def due_for_review(self, session: Session) -> bool:
        return session.token is not None and self._clock() - session.reviewed >= REREVIEW_SECONDS

    def reviewed(self, session: Session) -> None:
        session.reviewed = self._clock()

    def forget(self, session: Session) -> None:
        """Drop it from this replica's memory (its token is no longer accepted, say)."""
        with self._lock:
            self._sessions.pop(session.id, None)

    def sign_out(self, session: Session) -> None:
        """End it on every replica (blocks: the revocation is written where the key is kept)."""
        self.forget(session)
        self.keys.revoke(session.id, session.created + LIFETIME_SECONDS)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _keep(self, session: Session, now: float) -> None:
        with self._lock:
            if len(self._sessions) >= SESSION_LIMIT:
                self._sessions = {k: s for k, s in self._sessions.items() if self._alive(s, now)}
            self._sessions[session.id] = session

    def _alive(self, session: Session, now: float) -> bool:
        return now - session.used < IDLE_SECONDS and now - session.created < LIFETIME_SECONDS
