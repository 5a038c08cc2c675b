"""Prometheus metrics of the operator, served on their own port (default 8080, path /metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECONCILES = Counter(
    "ecs_operator_reconcile_total",
    "Reconciles run, by kind and result (ok, error, retry).",
    ["kind", "result"],
)
RECONCILE_ERRORS = Counter(
    "ecs_operator_reconcile_errors_total", "Reconciles that failed, by kind.", ["kind"]
)
RECONCILE_SECONDS = Histogram(
    "ecs_operator_reconcile_duration_seconds",
    "Time spent in one reconcile, by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MANAGED_OBJECTS = Gauge(
    "ecs_operator_managed_objects", "Custom resources the operator currently manages, by kind.", ["kind"]
)
API_WRITES = Counter(
    "ecs_operator_api_writes_total",
    "Writes sent to the API server, by object kind and verb.",
    ["kind", "verb"],
)


class Retry(Exception):
    """Marker base: a reconcile that will be retried is counted as `retry`, not as an error."""


@contextmanager
def observe(kind: str) -> Iterator[None]:
    """Count and time one reconcile of `kind`; exceptions are counted and re-raised."""
    started = time.monotonic()
    try:
        yield
    except Exception as error:
        result = "retry" if _is_retry(error) else "error"
        RECONCILES.labels(kind=kind, result=result).inc()
        if result == "error":
            RECONCILE_ERRORS.labels(kind=kind).inc()
        raise
    else:
        RECONCILES.labels(kind=kind, result="ok").inc()
    finally:
        RECONCILE_SECONDS.labels(kind=kind).observe(time.monotonic() - started)


def _is_retry(error: Exception) -> bool:
    return type(error).__name__ == "TemporaryError" or isinstance(error, Retry)


def serve(port: int, address: str = "0.0.0.0") -> None:
    """Serve /metrics in a background thread (port 0 disables it)."""
    if port:
        start_http_server(port, addr=address)
