"""Reading the local cluster's API server audit log (`<state>/logs/audit.log`, policy in `components.py`):
one client's requests, and which operator replica held the leader Lease when.

Requests are attributed by user agent: every client in the local cluster may authenticate as the same admin
user, but each sends its own agent (the operator's `ecs-operator/<version> (<identity>)`, kopf's
`kopf/<version>`, the Kubernetes Python client's `OpenAPI-Generator/<version>/python`, the controllers'
`kube-controller-manager/…`). The benchmarks' own client sends `BENCH_USER_AGENT`, so it is never counted
as the operator. The writes to the leader Lease are logged with their body, which names the holder.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_USER_AGENT = "ecs-operator-bench"
OPERATOR_AGENTS = ("kopf/", "OpenAPI-Generator/", "ecs-operator/")
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
READ_VERBS = frozenset({"get", "list"})
LEASES = "leases"
REPLICA_AGENT = re.compile(r"^ecs-operator/\S+ \((?P<identity>[^)]+)\)")


@dataclass
class Counts:
    """One client's requests: writes and reads of what it manages (its leader Lease apart), and watches."""

    writes: int = 0
    reads: int = 0
    watches: int = 0
    lease_writes: int = 0  # leader election: a renewal every 2 s while it leads
    by_kind: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        """`verb resource[/subresource]=count` for the most frequent requests, largest first."""
        return " ".join(f"{key}={count}" for key, count in self.by_kind.most_common())


def is_operator(event: dict[str, Any]) -> bool:
    return str(event.get("userAgent", "")).startswith(OPERATOR_AGENTS)


def replica_of(event: dict[str, Any]) -> str | None:
    """The identity of the operator replica that sent the request (None: another client)."""
    found = REPLICA_AGENT.match(str(event.get("userAgent", "")))
    return found.group("identity") if found else None


def completed(event: dict[str, Any]) -> bool:
    """One audit event per request: a watch when it starts streaming, anything else when it completes."""
    if event.get("verb") == "watch":
        return event.get("stage") == "ResponseStarted"
    return event.get("stage") == "ResponseComplete"


def succeeded(event: dict[str, Any]) -> bool:
    return int((event.get("responseStatus") or {}).get("code") or 0) < 300


def timestamp(event: dict[str, Any], which: str = "requestReceivedTimestamp") -> datetime.datetime:
    return datetime.datetime.fromisoformat(str(event[which]))


class AuditLog:
    """Byte offsets of the log are marks: count what happened between two marks."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def events(self, start: int, end: int | None = None) -> Iterator[dict[str, Any]]:
        with self.path.open("rb") as log:
            log.seek(start)
            data = log.read() if end is None else log.read(max(0, end - start))
        for line in data.splitlines():
            if not line.endswith(b"}"):
                continue  # a line still being written at the end mark
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and completed(event):
                yield event

    def count(
        self, start: int, end: int | None = None, who: Callable[[dict[str, Any]], bool] = is_operator
    ) -> Counts:
        counts = Counts()
        for event in self.events(start, end):
            if not who(event):
                continue
            verb = str(event.get("verb", ""))
            ref = event.get("objectRef") or {}
            resource = str(ref.get("resource", "?")) + (
                f"/{ref['subresource']}" if ref.get("subresource") else ""
            )
            counts.by_kind[f"{verb} {resource}"] += 1
            if verb in WRITE_VERBS and resource == LEASES:
                counts.lease_writes += 1
            elif verb in WRITE_VERBS:
                counts.writes += 1
            elif verb in READ_VERBS:
                counts.reads += 1
            elif verb == "watch":
                counts.watches += 1
        return counts

    def first(self, start: int, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((event for event in self.events(start) if predicate(event)), None)


# --- leader election ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One replica's hold of the Lease: from the write that gave it the Lease until another write gave it
    to someone else (or released it), or its last renewal's duration ran out."""

    identity: str
    start: datetime.datetime
    end: datetime.datetime
    released: bool = False  # ended by its holder giving the Lease up (a clean handover)

    def __contains__(self, moment: datetime.datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class StrayWrite:
    """A write an operator replica sent while it did not hold the Lease."""

    identity: str
    at: datetime.datetime
    request: str  # `verb resource namespace/name`


def _lease_writes(events: list[dict[str, Any]], namespace: str, name: str) -> list[dict[str, Any]]:
    """The successful writes of the Lease `namespace/name`, in the order they were committed."""

    def of_the_lease(event: dict[str, Any]) -> bool:
        ref = event.get("objectRef") or {}
        return (ref.get("resource"), ref.get("namespace"), ref.get("name")) == (LEASES, namespace, name)

    writes = [
        event
        for event in events
        if of_the_lease(event) and event.get("verb") in ("create", "update", "patch") and succeeded(event)
    ]
    return sorted(writes, key=lambda e: timestamp(e, "stageTimestamp"))


def lease_terms(events: list[dict[str, Any]], namespace: str, name: str) -> list[Term]:
    """Who held the Lease `namespace/name` when, from its writes (their bodies name the holder)."""
    terms: list[Term] = []
    current: tuple[str, datetime.datetime] | None = None  # holder, since
    expires = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    for event in _lease_writes(events, namespace, name):
        spec = (event.get("requestObject") or {}).get("spec") or {}
        holder = spec.get("holderIdentity") or None
        at = timestamp(event, "stageTimestamp")
        if current is not None and (holder != current[0] or at >= expires):
            released = holder is None and at < expires and replica_of(event) == current[0]
            terms.append(Term(current[0], current[1], min(at, expires), released))
            current = None
        if holder is not None and current is None:
            current = (holder, at)
        expires = at + datetime.timedelta(seconds=float(spec.get("leaseDurationSeconds") or 0))
    if current is not None:
        terms.append(Term(current[0], current[1], expires))
    return terms


def stray_writes(
    events: list[dict[str, Any]], terms: list[Term], since: datetime.datetime | None = None
) -> list[StrayWrite]:
    """Writes (other than to a Lease) an operator replica sent while it held no term: a standby that
    wrote, or a leader that went on writing after it lost the Lease. Writes before `since` are not judged
    (a window of the log that starts in the middle of a term knows that term only from its next renewal)."""
    found = []
    for event in events:
        identity = replica_of(event)
        ref = event.get("objectRef") or {}
        if identity is None or event.get("verb") not in WRITE_VERBS or ref.get("resource") == LEASES:
            continue
        at = timestamp(event)
        if since is not None and at < since:
            continue
        if not any(term.identity == identity and at in term for term in terms):
            what = f"{event['verb']} {ref.get('resource')} {ref.get('namespace', '')}/{ref.get('name', '')}"
            found.append(StrayWrite(identity, at, what))
    return found
