"""Prometheus metrics of the operator, served on their own port (default 8080, path /metrics), with the
readiness endpoint (/readyz) beside them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

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
LEADER = Gauge(
    "ecs_operator_leader",
    "1 while this replica holds the leader Lease (only the holder reconciles and writes), else 0.",
    ["identity"],
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


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class names it so)
        """Scrapes and probes are not worth a log line each."""


def serve(port: int, address: str = "0.0.0.0", ready: Callable[[], bool] | None = None) -> None:
    """Serve /metrics, and /readyz (200 once `ready()`, else 503), in a background thread (port 0: none)."""
    if not port:
        return
    exposition = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/readyz":
            ok = ready is None or ready()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ready\n" if ok else b"not ready: the watch caches have not listed everything yet\n"]
        answer: Iterable[bytes] = exposition(environ, start_response)
        return answer

    server = make_server(address, port, app, ThreadingWSGIServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
