"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `tools/leaderelection` does it.

Every replica runs an elector with its own identity. The holder renews the Lease every `retry` seconds;
another replica takes it only once the record it last saw has not changed for the Lease's duration, on its
own clock (no replica trusts another's clock), or at once when the holder has released it. Every write to
the Lease is conditional on the resourceVersion read, so of two replicas trying at once one wins.

The holder may write (`leading()`) only until `renew_deadline` after the start of its last successful
renewal: a holder that cannot renew stops writing at that deadline, before any other replica can take
the Lease (`lease` seconds after it saw that renewal, which came later), whatever the elector thread is
doing. A clean stop gives the Lease up (holder cleared, duration 1 s), so a rolling update hands over at
once instead of after a Lease duration.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecs_operator import metrics
from ecs_operator.kube import Kube, KubeError

log = logging.getLogger("ecs_operator.leader")

LEASE_API_VERSION = "coordination.k8s.io/v1"


@dataclass(frozen=True)
class Timing:
    """client-go's three durations. A replica that dies is replaced within `lease` + `retry` seconds of
    its last renewal; between `renew_deadline` and `lease`, a write the old holder sent just before its
    deadline has time to land before anyone else may write."""

    lease: float = 10.0
    renew_deadline: float = 7.0
    retry: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease > self.renew_deadline > self.retry > 0:
            raise ValueError(
                f"leader election: lease ({self.lease}s) > renew deadline ({self.renew_deadline}s) > "
                f"retry period ({self.retry}s) > 0 is required"
            )


def new_identity(pod_name: str | None = None) -> str:
    """This replica's name in the Lease: its Pod's name and a random suffix (a restarted container in the
    same Pod is a new candidate, not the old holder)."""
    name = pod_name or os.environ.get("POD_NAME") or os.environ.get("HOSTNAME") or socket.gethostname()
    return f"{name}_{secrets.token_hex(4)}"


def micro_time(moment: datetime.datetime) -> str:
    """A Lease's MicroTime."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(lease: dict[str, Any]) -> tuple[Any, ...]:
    spec = lease.get("spec") or {}
    return tuple(
        spec.get(k)
        for k in ("holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions")
    )


class LeaderElector:
    """Holds, renews and releases one Lease for one identity, on a thread of its own.

    `on_started` runs when this replica becomes the holder, `on_stopped` when it stops (its renewals failed
    until the deadline, or `stop()`); both on the elector's thread, `on_stopped` before the Lease is
    released. `client` must be one without a fence: the elector's own writes are what keep it leading.
    """

    def __init__(
        self,
        client: Kube,
        namespace: str,
        name: str,
        identity: str,
        *,
        on_started: Callable[[], None],
        on_stopped: Callable[[], None],
        timing: Timing = Timing(),
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self._client = client
        self._on_started = on_started
        self._on_stopped = on_stopped
        self._clock = clock
        self._wall_clock = wall_clock
        self._lease: dict[str, Any] | None = None  # as last read or written
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._valid_until = float("-inf")  # the fence: writes are allowed until then
        self._holding = False
        self._last_problem = ""
        self._stop = threading.Event()
        # Sleeps up to that many seconds; True once the elector is to stop.
        self._wait = wait if wait is not None else self._stop.wait
        self._thread: threading.Thread | None = None

    # --- what the rest of the process asks ---

    def leading(self) -> bool:
        """Whether this replica may write now: it holds the Lease and renewed it within the deadline."""
        return self._clock() < self._valid_until

    @property
    def holder(self) -> str:
        """The holder last seen ("" when none)."""
        return str(((self._lease or {}).get("spec") or {}).get("holderIdentity") or "")

    # --- running ---

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="leader-election", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop leading (on_stopped runs), give the Lease up, and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        metrics.LEADER.labels(identity=self.identity).set(0)
        while not self._stop.is_set():
            if not self.attempt():
                self._wait(self.timing.retry)
                continue
            self._started()
            self._renew_while_possible()
            if self._stop.is_set():
                break
            self._stopped("its renewals failed until the deadline")
        if self._holding:
            self._stopped("the process stops", logging.INFO)
            self._release()

    def _renew_while_possible(self) -> None:
        """Renew every retry period; return once a renewal could not succeed before the deadline, or on
        stop."""
        while not self._wait(self.timing.retry):
            while not self.attempt():
                remaining = self._valid_until - self._clock()
                if remaining <= 0 or self._wait(min(self.timing.retry, remaining)):
                    return

    def _started(self) -> None:
        self._holding = True
        metrics.LEADER.labels(identity=self.identity).set(1)
        log.info("%s leads: it holds the Lease %s/%s", self.identity, self.namespace, self.name)
        self._on_started()

    def _stopped(self, why: str, level: int = logging.WARNING) -> None:
        self._holding = False
        self._valid_until = float("-inf")
        metrics.LEADER.labels(identity=self.identity).set(0)
        log.log(level, "%s stopped leading: %s", self.identity, why)
        self._on_stopped()

    # --- one attempt ---

    def attempt(self) -> bool:
        """client-go's tryAcquireOrRenew: take the Lease if it is free or expired, renew it if held. Any
        failure (the API server unreachable, an error) is a failed attempt: the elector never stops."""
        try:
            return self._attempt()
        except Exception as error:
            return self._problem(f"the Lease {self.namespace}/{self.name}: {type(error).__name__}: {error}")

    def _attempt(self) -> bool:
        started = self._clock()
        if self._holding and self._lease is not None and self._write(self._renewed(self._lease)):
            return self._granted(started)  # the fast path: one request per renewal
        try:
            lease = self._client.get("Lease", self.name, self.namespace)
        except KubeError as error:
            return self._problem(f"cannot read the Lease {self.namespace}/{self.name}: {error}")
        if lease is None:
            return self._write(self._new_lease(), create=True) and self._granted(started)
        self._lease = lease
        record = _record(lease)
        if record != self._observed:
            self._observed, self._observed_at = record, self._clock()
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.timing.lease)
        if holder and holder != self.identity and self._clock() < self._observed_at + duration:
            return False  # held by another replica, and its renewals keep coming
        return self._write(self._renewed(lease)) and self._granted(started)

    def _granted(self, started: float) -> bool:
        self._valid_until = started + self.timing.renew_deadline
        self._last_problem = ""
        return True

    def _renewed(self, lease: dict[str, Any]) -> dict[str, Any]:
        spec = dict(lease.get("spec") or {})
        now = micro_time(self._wall_clock())
        if spec.get("holderIdentity") != self.identity:
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            spec["acquireTime"] = now
        spec.update(holderIdentity=self.identity, leaseDurationSeconds=int(self.timing.lease), renewTime=now)
        return {**lease, "spec": spec}

    def _new_lease(self) -> dict[str, Any]:
        now = micro_time(self._wall_clock())
        return {
            "apiVersion": LEASE_API_VERSION,
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": int(self.timing.lease),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }

    def _write(self, lease: dict[str, Any], create: bool = False) -> bool:
        try:
            written = self._client.create(lease) if create else self._client.update(lease)
        except KubeError as error:
            if error.status == 409:  # someone else wrote it since it was read: read it again
                return False
            return self._problem(f"cannot write the Lease {self.namespace}/{self.name}: {error}")
        self._lease = written
        self._observed, self._observed_at = _record(written), self._clock()
        return True

    def _problem(self, message: str) -> bool:
        """Log a failure once (not every retry period) and say the attempt failed."""
        if message != self._last_problem:
            self._last_problem = message
            hint = (
                f"; the Lease's namespace must exist (installing manifests/operator makes it, or: kubectl "
                f"create namespace {self.namespace}) and its Role allow it, or run with --no-leader-elect"
            )
            log.warning("%s%s", message, "" if self._holding else hint)
        return False

    def _release(self) -> None:
        """Give the Lease up, as client-go's ReleaseOnCancel does: no holder, 1 s, so a standby takes it on
        its next attempt."""
        if self._lease is None:
            return
        spec = dict(self._lease.get("spec") or {})
        if spec.get("holderIdentity") != self.identity:
            return
        now = micro_time(self._wall_clock())
        spec.update(holderIdentity=None, leaseDurationSeconds=1, renewTime=now, acquireTime=now)
        try:
            self._client.update({**self._lease, "spec": spec})
        except Exception as error:  # it expires by itself then
            log.warning("could not release the Lease %s/%s: %s", self.namespace, self.name, error)
            return
        log.info("%s released the Lease %s/%s", self.identity, self.namespace, self.name)
