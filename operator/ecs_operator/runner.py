"""`ecs-operator run`: the kopf operator, its metrics endpoint and its liveness endpoint."""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from typing import Any

DEFAULT_METRICS_PORT = 8080
DEFAULT_LIVENESS_PORT = 8081


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the operator against the cluster in $KUBECONFIG (or in-cluster)",
        description="Reconcile EcsCluster, EcsTaskDefinition, EcsService and EcsTask resources.",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="serve only this namespace (repeatable; glob patterns allowed); default: all namespaces",
    )
    scope.add_argument("--all-namespaces", action="store_true", help="serve every namespace (the default)")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help=f"Prometheus /metrics port, 0 disables (default {DEFAULT_METRICS_PORT})",
    )
    parser.add_argument(
        "--liveness-port",
        type=int,
        default=DEFAULT_LIVENESS_PORT,
        help=f"liveness endpoint port (/healthz), 0 disables (default {DEFAULT_LIVENESS_PORT})",
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address of the metrics and liveness endpoints")
    parser.add_argument(
        "--log-format", choices=("json", "text"), default="json", help="log line format (default json)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.set_defaults(handler=run)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the object kopf is handling."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        k8s_ref = getattr(record, "k8s_ref", None)
        if isinstance(k8s_ref, dict):
            entry["object"] = {k: k8s_ref.get(k) for k in ("kind", "namespace", "name") if k8s_ref.get(k)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, sort_keys=False)


class RetriesAreWarnings(logging.Filter):
    """kopf logs its own retries at error level (an API request it will repeat, a handler that raised
    TemporaryError, such as a cluster deletion refused while services remain). They are expected and
    retried, so they are warnings; errors stay for what needs a human."""

    MARKERS = ("will retry", "failed temporarily")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.name.startswith("kopf"):
            message = record.getMessage()
            if any(marker in message for marker in self.MARKERS):
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(log_format: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RetriesAreWarnings())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # kopf reports every successful handler and timer run at INFO; our own logs say what changed.
    if not verbose:
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    for noisy in ("kubernetes", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def port_free(address: str, port: int) -> bool:
    """Whether `port` can be listened on at `address` (checked before anything starts, so a port in use
    is one clear line, not a traceback from a server thread)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def run(args: argparse.Namespace) -> int:
    import kopf

    import ecs_operator.controllers  # noqa: F401  (registers the controllers and kopf's startup)
    from ecs_operator import metrics

    configure_logging(args.log_format, args.verbose)
    for option, port in (("--liveness-port", args.liveness_port), ("--metrics-port", args.metrics_port)):
        if port and not port_free(args.bind, port):
            print(
                f"ecs-operator run: port {port} on {args.bind} is in use: give {option} another port "
                "(0 turns it off)",
                file=sys.stderr,
            )
            return 1
    metrics.serve(args.metrics_port, args.bind)
    liveness = f"http://{args.bind}:{args.liveness_port}/healthz" if args.liveness_port else None
    # The runtime's informers serve the namespaces asked for; kopf itself watches no resource.
    kopf.run(
        standalone=True,
        clusterwide=True,
        liveness_endpoint=liveness,
        memo=kopf.Memo(namespaces=list(args.namespace)),
    )
    return 0
