"""Sessions end when idle, when too old, or when signed out; only token sessions are re-reviewed."""

from __future__ import annotations

from ecs_operator.console import sessions
from ecs_operator.console.authz import AccessReviewer, User
from ecs_operator.console.sessions import Session, Sessions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def session(token: str | None = None) -> Session:
    return Session(user=User("u"), api_client=None, reviewer=AccessReviewer(None, None), token=token)


def test_a_session_ends_idle_or_old_or_signed_out() -> None:
    clock = Clock()
    kept = Sessions(clock)
    idle = kept.add(session())
    clock.now += sessions.IDLE_SECONDS
    assert kept.get(idle.id) is None
    busy = kept.add(session())
    for _ in range(int(sessions.LIFETIME_SECONDS // 3600) - 1):
        clock.now += 3600
        assert kept.get(busy.id) is busy
    clock.now += 3600
    assert kept.get(busy.id) is None and not kept.alive(busy)
    gone = kept.add(session())
    kept.remove(gone)
    assert kept.get(gone.id) is None and kept.get(None) is None and kept.get("forged") is None


def test_ids_and_csrf_tokens_are_random_and_apart() -> None:
    made = [session() for _ in range(50)]
    secrets = {s.id for s in made} | {s.csrf for s in made}
    assert len(secrets) == 100 and all(len(s) >= 40 for s in secrets)


def test_only_token_sessions_are_reviewed_again_and_only_when_due() -> None:
    clock = Clock()
    kept = Sessions(clock)
    local, token = kept.add(session()), kept.add(session("t"))
    assert not kept.due_for_review(token)
    clock.now += sessions.REREVIEW_SECONDS
    assert kept.due_for_review(token) and not kept.due_for_review(local)
    kept.reviewed(token)
    assert not kept.due_for_review(token)


def test_flashes_are_shown_once() -> None:
    made = session()
    made.flash("ok", "done")
    assert made.take_flashes() == [("ok", "done")] and made.take_flashes() == []
