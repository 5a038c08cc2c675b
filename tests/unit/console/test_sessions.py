"""Sessions end when idle, when too old, or when signed out (on every replica); only token sessions are
re-reviewed; a cookie sealed by one replica opens on another sharing the key, and nothing else opens."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp import web
from ecs_operator.console import cookies, sessions
from ecs_operator.console.authz import AccessReviewer, User
from ecs_operator.console.session_keys import SecretKeys, SessionKeyError
from ecs_operator.console.sessions import MemoryKeys, Session, Sessions, seal, unseal
from ecs_operator.kube import KubeError


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def session(token: str | None = None, user: str = "u") -> Session:
    return Session(user=User(user), api_client=None, reviewer=AccessReviewer(None, None), token=token)


def restore(user: User, token: str | None) -> Session:
    return Session(user=user, api_client=None, reviewer=AccessReviewer(None, user), token=token)


class SecretStore:
    """One Secret behind the client calls the session keys make, with the API server's resourceVersion
    preconditions on a merge patch."""

    def __init__(self, exists: bool = True) -> None:
        self.secret: dict[str, Any] | None = (
            {"kind": "Secret", "metadata": {"name": "s", "namespace": "ns", "resourceVersion": "1"}}
            if exists
            else None
        )
        self.writes = 0
        self.conflicts_to_make = 0

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return copy.deepcopy(self.secret)

    def merge_patch(self, kind: str, name: str, namespace: str | None, patch: Any) -> dict[str, Any] | None:
        assert self.secret is not None
        if (
            self.conflicts_to_make
            or patch["metadata"]["resourceVersion"] != self.secret["metadata"]["resourceVersion"]
        ):
            self.conflicts_to_make = max(0, self.conflicts_to_make - 1)
            raise KubeError(409, "the object has been modified")
        self.writes += 1
        self.secret["data"] = {**(self.secret.get("data") or {}), **patch["data"]}
        self.secret["metadata"]["resourceVersion"] = str(int(self.secret["metadata"]["resourceVersion"]) + 1)
        return copy.deepcopy(self.secret)


def replica(store: SecretStore, clock: Clock) -> Sessions:
    keys = SecretKeys(store, "ns", "s", clock=clock)  # type: ignore[arg-type]
    keys.reload()
    return Sessions(keys, clock)


def signed_out(store: SecretStore, clock: Clock) -> tuple[Sessions, Session]:
    """A replica on `store`, and a session it signed in and out."""
    kept = replica(store, clock)
    gone = session()
    kept.add(gone)
    kept.sign_out(gone)
    return kept, gone


def test_a_session_ends_idle_or_old_or_signed_out() -> None:
    clock = Clock()
    kept = Sessions(clock=clock)
    idle_session = session()
    idle = kept.add(idle_session)
    clock.now += sessions.IDLE_SECONDS
    assert kept.get(idle) is None
    busy_session = session()
    busy = kept.add(busy_session)
    for _ in range(int(sessions.LIFETIME_SECONDS // 3600) - 1):
        clock.now += 3600
        assert kept.get(busy) is busy_session
    clock.now += 3600
    assert kept.get(busy) is None and not kept.alive(busy_session)
    gone_session = session()
    gone = kept.add(gone_session)
    kept.sign_out(gone_session)
    assert kept.get(gone, restore) is None and kept.get(None) is None and kept.get("forged") is None


def test_ids_and_csrf_tokens_are_random_and_apart() -> None:
    made = [session() for _ in range(50)]
    secrets = {s.id for s in made} | {s.csrf for s in made}
    assert len(secrets) == 100 and all(len(s) >= 40 for s in secrets)


def test_only_token_sessions_are_reviewed_again_and_only_when_due() -> None:
    clock = Clock()
    kept = Sessions(clock=clock)
    local, token = session(), session("t")
    kept.add(local)
    kept.add(token)
    assert not kept.due_for_review(token)
    clock.now += sessions.REREVIEW_SECONDS
    assert kept.due_for_review(token) and not kept.due_for_review(local)
    kept.reviewed(token)
    assert not kept.due_for_review(token)


def test_flashes_are_shown_once_and_follow_a_redirect_to_another_replica() -> None:
    made = session()
    made.flash("ok", "done")
    assert made.take_flashes() == [("ok", "done")] and made.take_flashes() == []
    store, clock = SecretStore(), Clock()
    first, second = replica(store, clock), replica(store, clock)
    cookie = first.add(made)
    made.flash("ok", "Service web updated.")
    carried = first.sealed_flashes(made)
    assert made.flashes == []
    there = second.get(cookie, restore)
    assert there is not None and second.opened_flashes(there, carried) == [("ok", "Service web updated.")]
    other = session()
    first.add(other)
    assert second.opened_flashes(other, carried) == [], "a message is for its own session only"


def test_a_cookie_opens_on_every_replica_sharing_the_key_and_is_reviewed_there_first() -> None:
    store, clock = SecretStore(), Clock()
    first, second = replica(store, clock), replica(store, clock)
    assert store.writes == 1, "the first replica wrote the key, the second read it"
    signed_in = session("the-token", user="alice")
    signed_in.user = User("alice", "u-1", ("dev", "system:authenticated"), (("scopes", ("a", "b")),))
    cookie = first.add(signed_in)
    assert "the-token" not in cookie and "alice" not in cookie, "sealed: nothing readable"
    there = second.get(cookie, restore)
    assert there is not None and there is not signed_in
    assert (there.id, there.csrf, there.user, there.token) == (
        signed_in.id,
        signed_in.csrf,
        signed_in.user,
        "the-token",
    )
    assert second.due_for_review(there), "a replica reviews a token it has not seen before using it"
    restarted = replica(store, clock)
    assert restarted.get(cookie, restore) is not None, "a restart keeps the key, and so the sign-in"


def test_nothing_else_opens_a_session() -> None:
    clock = Clock()
    kept = Sessions(clock=clock)
    cookie = kept.add(session("t"))
    other = Sessions(MemoryKeys(), clock)
    assert other.get(cookie, restore) is None, "sealed with another key"
    flipped = cookie[:10] + ("A" if cookie[10] != "A" else "B") + cookie[11:]
    assert kept.get(flipped, restore) is None and kept.get(cookie[:-2], restore) is None
    assert unseal(MemoryKeys().key(), seal(MemoryKeys().key(), {"id": "x"})) is None


def test_signing_out_on_one_replica_ends_the_session_on_the_others_once_they_read_the_secret() -> None:
    store, clock = SecretStore(), Clock()
    first, second = replica(store, clock), replica(store, clock)
    signed_in = session("t")
    cookie = first.add(signed_in)
    seen = second.get(cookie, restore)
    assert seen is not None
    first.sign_out(signed_in)
    assert first.get(cookie, restore) is None
    assert second.keys.stale(clock.now + sessions.REVOCATION_SECONDS)
    second.keys.refresh()
    assert second.get(cookie, restore) is None and not second.alive(seen)


def test_revocations_are_dropped_once_the_sessions_would_have_expired_and_writes_retry_conflicts() -> None:
    store, clock = SecretStore(), Clock()
    kept, old = signed_out(store, clock)
    clock.now += sessions.LIFETIME_SECONDS + 1
    recent = session()
    kept.add(recent)
    store.conflicts_to_make = 2
    kept.sign_out(recent)
    kept.keys.refresh()
    assert kept.keys.revoked(recent.id) and not kept.keys.revoked(old.id)


def test_a_missing_secret_is_said_plainly() -> None:
    with pytest.raises(SessionKeyError, match="Secret ns/s is missing"):
        SecretKeys(SecretStore(exists=False), "ns", "s").reload()  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [10, cookies.CHUNK, cookies.CHUNK * 2 + 5])
def test_a_long_session_cookie_is_split_and_read_back_and_stale_parts_go(length: int) -> None:
    value = "v" * length
    before = {"s": "x", "s.1": "x", "s.2": "x", "s.3": "x"}
    response = web.Response()
    cookies.write(response, before, "s", value, secure=True)
    jar = response.cookies
    kept = {name: morsel.value for name, morsel in jar.items() if morsel.get("max-age") != "0"}
    assert cookies.read(kept, "s") == value and all(len(v) <= cookies.CHUNK for v in kept.values())
    removed = {name for name, morsel in jar.items() if morsel.get("max-age") == "0"}
    assert removed == {f"s.{n}" for n in range(len(kept), 4)}
    assert all(jar[name]["httponly"] and jar[name]["samesite"] == "Strict" for name in kept)


def test_a_sealed_message_does_not_open_as_a_session() -> None:
    kept = Sessions(clock=Clock())
    signed_in = session()
    kept.add(signed_in)
    signed_in.flash("ok", "done")
    assert kept.get(kept.sealed_flashes(signed_in), restore) is None


def test_revocations_that_cannot_be_read_again_keep_the_last_ones() -> None:
    store, clock = SecretStore(), Clock()
    kept, gone = signed_out(store, clock)
    store.secret = None  # deleted, or the API server unreachable
    clock.now += sessions.REVOCATION_SECONDS
    kept.keys.refresh()
    assert kept.keys.revoked(gone.id) and not kept.keys.stale(clock.now)
