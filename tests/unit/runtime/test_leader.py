"""Leader election on a Lease, on a fake clock against an in-memory Lease store that keeps the API server's
rules (resourceVersion preconditions: 409 on a stale write, on a second create)."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from ecs_operator.kube import KubeError
from ecs_operator.runtime.leader import LeaderElector, Timing, new_identity

TIMING = Timing(lease=10.0, renew_deadline=7.0, retry=2.0)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


class Leases:
    """The Lease store: get, create and update (PUT) with the API server's optimistic concurrency."""

    def __init__(self) -> None:
        self.stored: dict[str, Any] | None = None
        self.version = 0
        self.down = False  # the API server unreachable: every call fails
        self.broken: Exception | None = None  # what the client raises instead of answering
        self.writes: list[tuple[str, str | None]] = []  # (verb, holderIdentity)

    def _check(self) -> None:
        if self.down:
            raise KubeError(0, "connection refused")
        if self.broken is not None:
            raise self.broken

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        self._check()
        return copy.deepcopy(self.stored)

    def _store(self, obj: Any, verb: str) -> dict[str, Any]:
        self.version += 1
        self.stored = copy.deepcopy(dict(obj))
        self.stored["metadata"] = {**self.stored["metadata"], "resourceVersion": str(self.version)}
        self.writes.append((verb, self.stored["spec"].get("holderIdentity")))
        return copy.deepcopy(self.stored)

    def create(self, obj: Any) -> dict[str, Any]:
        self._check()
        if self.stored is not None:
            raise KubeError(409, "already exists")
        return self._store(obj, "create")

    def update(self, obj: Any) -> dict[str, Any]:
        self._check()
        assert self.stored is not None
        if obj["metadata"].get("resourceVersion") != self.stored["metadata"]["resourceVersion"]:
            raise KubeError(409, "the object has been modified")
        return self._store(obj, "update")

    @property
    def holder(self) -> str | None:
        return (self.stored or {}).get("spec", {}).get("holderIdentity")


class Calls(list[str]):
    def started(self) -> None:
        self.append("started")

    def stopped(self) -> None:
        self.append("stopped")


def elector(
    leases: Leases, clock: Clock, identity: str, calls: Calls | None = None, **kw: Any
) -> LeaderElector:
    calls = calls if calls is not None else Calls()
    wall = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)
    return LeaderElector(
        leases,  # type: ignore[arg-type]
        "ecs-operator-system",
        "ecs-operator",
        identity,
        on_started=calls.started,
        on_stopped=calls.stopped,
        timing=TIMING,
        clock=clock,
        wall_clock=lambda: wall + datetime.timedelta(seconds=clock.now),
        **kw,
    )


def test_the_first_candidate_creates_the_lease_and_may_write_until_its_renew_deadline() -> None:
    leases, clock = Leases(), Clock()
    a = elector(leases, clock, "a")
    assert not a.leading()
    assert a.attempt()
    assert leases.holder == "a" and leases.writes == [("create", "a")]
    spec = leases.stored["spec"]  # type: ignore[index]
    assert spec["leaseDurationSeconds"] == 10 and spec["leaseTransitions"] == 0
    assert spec["renewTime"].endswith("Z") and "." in spec["renewTime"]
    clock.now += 6.9
    assert a.leading()
    clock.now += 0.2
    assert not a.leading(), "no renewal for the renew deadline: the fence is down"


def test_a_standby_waits_while_the_holder_renews_and_takes_over_a_lease_duration_after_the_last_renewal() -> (
    None
):
    leases, clock = Leases(), Clock()
    a, b = elector(leases, clock, "a"), elector(leases, clock, "b")
    assert a.attempt()
    for _ in range(10):  # a renews every retry period; b keeps trying and keeps failing
        clock.now += TIMING.retry
        assert a.attempt()
        assert not b.attempt()
    last_renewal = clock.now
    # a dies. b saw that renewal at once (same moment): it may take the Lease only 10 s later.
    while not b.attempt():
        assert not b.leading()
        clock.now += TIMING.retry
    assert clock.now - last_renewal <= TIMING.lease + TIMING.retry
    assert clock.now - last_renewal >= TIMING.lease
    assert leases.holder == "b" and leases.stored["spec"]["leaseTransitions"] == 1  # type: ignore[index]
    assert b.leading() and not a.leading(), "a's fence fell at its renew deadline, before b could write"


def test_a_standby_counts_the_lease_duration_from_when_it_saw_the_record_not_from_the_holders_clock() -> None:
    leases, clock = Leases(), Clock()
    assert elector(leases, clock, "a").attempt()
    clock.now += 3600.0  # the holder died long ago: its renewTime is an hour old
    b = elector(leases, clock, "b")
    assert not b.attempt(), "b has seen this record only now"
    clock.now += TIMING.lease + 0.1
    assert b.attempt()


def test_of_two_candidates_for_an_expired_lease_only_one_wins() -> None:
    leases, clock = Leases(), Clock()
    assert elector(leases, clock, "a").attempt()
    b, c = elector(leases, clock, "b"), elector(leases, clock, "c")
    assert not b.attempt() and not c.attempt()
    clock.now += TIMING.lease + 1
    # Both read the same expired record; b writes first, so c's write (on the old resourceVersion) fails.
    stale = leases.get("Lease", "ecs-operator")
    assert b.attempt()
    original_get = leases.get
    leases.get = lambda *args, **kwargs: copy.deepcopy(stale)  # type: ignore[method-assign]
    assert not c.attempt()
    leases.get = original_get  # type: ignore[method-assign]
    assert leases.holder == "b" and not c.leading()


def test_a_holder_that_cannot_renew_stops_leading_at_the_deadline_and_before_anyone_else_may_lead() -> None:
    leases, clock = Leases(), Clock()
    calls = Calls()
    a, b = elector(leases, clock, "a", calls), elector(leases, clock, "b")
    assert a.attempt()
    assert not b.attempt()
    renewed_at = clock.now
    leases.down = True  # a's renewals fail from here on (and b cannot reach the API server either)
    clock.now += TIMING.renew_deadline
    assert not a.attempt() and not a.leading()
    leases.down = False
    a_fence_down = renewed_at + TIMING.renew_deadline
    while not b.attempt():
        clock.now += 0.5
    assert clock.now >= a_fence_down + (TIMING.lease - TIMING.renew_deadline)


def test_the_run_loop_starts_renews_stops_on_failed_renewals_takes_the_lease_again_and_releases_it() -> None:
    leases, clock = Leases(), Clock()
    calls = Calls()
    stop_at = {"time": 160.0}

    def wait(seconds: float) -> bool:
        clock.now += seconds
        if 120.0 <= clock.now < 130.0:
            leases.down = True  # 10 s without the API server: longer than the renew deadline
        else:
            leases.down = False
        if clock.now >= stop_at["time"]:
            a.stop()
            return True
        return False

    a = elector(leases, clock, "a", calls, wait=wait)
    a.run()
    assert calls == ["started", "stopped", "started", "stopped"]
    assert leases.writes[0] == ("create", "a")
    assert leases.writes[-1] == ("update", None), "a clean stop gives the Lease up"
    assert leases.stored["spec"]["leaseDurationSeconds"] == 1  # type: ignore[index]
    assert not a.leading()


def test_a_released_lease_is_taken_at_the_next_attempt() -> None:
    leases, clock = Leases(), Clock()
    calls = Calls()

    def wait(seconds: float) -> bool:
        clock.now += seconds
        a.stop()
        return True

    a = elector(leases, clock, "a", calls, wait=wait)
    b = elector(leases, clock, "b")
    a.run()  # takes the Lease, then stops at the first wait and releases it
    assert calls == ["started", "stopped"] and leases.holder is None
    assert b.attempt() and leases.holder == "b"


def test_the_timing_must_leave_room_between_the_deadline_and_the_lease() -> None:
    with pytest.raises(ValueError, match="renew deadline"):
        Timing(lease=10.0, renew_deadline=10.0, retry=2.0)


def test_identities_are_the_pod_name_and_a_random_suffix() -> None:
    first, second = new_identity("ecs-operator-7d9f-abcde"), new_identity("ecs-operator-7d9f-abcde")
    assert first.startswith("ecs-operator-7d9f-abcde_") and first != second


def test_a_client_that_raises_anything_fails_the_attempt_and_the_elector_goes_on() -> None:
    leases, clock = Leases(), Clock()
    calls = Calls()

    def wait(seconds: float) -> bool:
        clock.now += seconds
        # The API server restarts: the pooled connection breaks (urllib3 raises, not the client's own error).
        leases.broken = ConnectionResetError("Connection reset by peer") if 110 <= clock.now < 120 else None
        if clock.now >= 140:
            a.stop()
            return True
        return False

    a = elector(leases, clock, "a", calls, wait=wait)
    a.run()
    assert calls == ["started", "stopped", "started", "stopped"], "it stopped leading, then led again"
    assert leases.holder is None, "and released the Lease at the end"
