"""Counting one client's requests in the API server's audit log (the local control plane writes one).

Requests are attributed by user agent: every client in the local cluster authenticates as the same admin
user, but each sends its own agent (kopf's `kopf/<version>`, the Kubernetes Python client's
`OpenAPI-Generator/<version>/python`, the controllers' `kube-controller-manager/…`). The bench's own
client sends `BENCH_USER_AGENT`, so it is never counted as the operator.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_USER_AGENT = "ecs-operator-bench"
OPERATOR_AGENTS = ("kopf/", "OpenAPI-Generator/", "ecs-operator/")
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
READ_VERBS = frozenset({"get", "list"})


@dataclass
class Counts:
    writes: int = 0
    reads: int = 0
    watches: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        """`verb resource[/subresource]=count` for the most frequent requests, largest first."""
        return " ".join(f"{key}={count}" for key, count in self.by_kind.most_common())


def is_operator(event: dict[str, Any]) -> bool:
    return str(event.get("userAgent", "")).startswith(OPERATOR_AGENTS)


def completed(event: dict[str, Any]) -> bool:
    """One audit event per request: a watch when it starts streaming, anything else when it completes."""
    if event.get("verb") == "watch":
        return event.get("stage") == "ResponseStarted"
    return event.get("stage") == "ResponseComplete"


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
            if verb in WRITE_VERBS:
                counts.writes += 1
            elif verb in READ_VERBS:
                counts.reads += 1
            elif verb == "watch":
                counts.watches += 1
        return counts

    def first(self, start: int, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((event for event in self.events(start) if predicate(event)), None)
