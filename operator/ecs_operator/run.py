"""`ecs-operator run`: the operator process, and its one entry point.

kopf runs the process (signals, its liveness endpoint, logging); this module gives it the three handlers
that hold the operator: startup starts the controller runtime (`ecs_operator.runtime`: watch caches,
queues, workers over `ecs_operator.controllers`) and the leader election, cleanup stops both (the Lease is
given up, so a rolling update hands over at once), and the probe reports on them. kopf watches no
resource itself.

With leader election (the default), every replica keeps its watch caches warm; only the holder of the
Lease runs the workers, and its writes go through a client fenced by the Lease, so a replica that lost
it sends none. `/readyz` beside the metrics answers once the caches have listed, leader or standby.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecs_operator import NAMESPACE, __version__

if TYPE_CHECKING:
    from ecs_operator.runtime import Runtime
    from ecs_operator.runtime.leader import LeaderElector

DEFAULT_METRICS_PORT = 8080
DEFAULT_LIVENESS_PORT = 8081
DEFAULT_LEASE = "ecs-operator"

log = logging.getLogger("ecs_operator.run")


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
        help=f"Prometheus /metrics and /readyz port, 0 disables (default {DEFAULT_METRICS_PORT})",
    )
    parser.add_argument(
        "--liveness-port",
        type=int,
        default=DEFAULT_LIVENESS_PORT,
        help=f"liveness endpoint port (/healthz), 0 disables (default {DEFAULT_LIVENESS_PORT})",
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address of the metrics and liveness endpoints")
    parser.add_argument(
        "--leader-elect",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="reconcile only while holding the leader Lease, so several replicas can run (default: on)",
    )
    parser.add_argument(
        "--leader-election-namespace",
        metavar="NS",
        help="namespace of the Lease (default: $POD_NAMESPACE, else the in-cluster ServiceAccount's, "
        f"else {NAMESPACE})",
    )
    parser.add_argument(
        "--leader-election-lease", default=DEFAULT_LEASE, metavar="NAME", help="name of the Lease"
    )
    parser.add_argument(
        "--log-format", choices=("json", "text"), default="json", help="log line format (default json)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.set_defaults(handler=run)


@dataclass
class Operator:
    """The runtime, and the elector that starts and stops its workers (None: it leads from the start)."""

    runtime: Runtime
    elector: LeaderElector | None
    identity: str

    def start(self) -> None:
        from ecs_operator import metrics

        self.runtime.start()
        if self.elector is None:
            metrics.LEADER.labels(identity=self.identity).set(1)
            self.runtime.lead()
        else:
            self.elector.start()

    def stop(self) -> None:
        if self.elector is not None:
            self.elector.stop()  # the workers stop before the Lease is given up
        self.runtime.stop()

    def probe(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "leading": self.runtime.leading(),
            "synced": self.runtime.synced(),
            "pending": self.runtime.pending(),
        }


def build_operator(args: argparse.Namespace) -> Operator:
    from ecs_operator.controllers import CONTROLLERS
    from ecs_operator.controllers.sources import SOURCES
    from ecs_operator.kube import Kube, new_api_client, own_namespace
    from ecs_operator.runtime import Caches, Runtime
    from ecs_operator.runtime.caches import namespace_filter
    from ecs_operator.runtime.leader import LeaderElector, Timing, new_identity

    identity = new_identity()
    # The agent names the replica in the API server's audit log (bench/failover.py reads it).
    user_agent = f"ecs-operator/{__version__} ({identity})"
    elector: LeaderElector | None = None

    def may_write() -> bool:
        return elector is None or elector.leading()

    def client() -> Kube:
        return Kube(new_api_client(user_agent=user_agent))

    caches = Caches(SOURCES, client_factory=client, serves=namespace_filter(list(args.namespace)))
    writer = Kube(new_api_client(user_agent=user_agent), fence=may_write)
    runtime = Runtime(list(CONTROLLERS), SOURCES, writer, caches=caches)
    if args.leader_elect:
        timing = Timing()
        elector = LeaderElector(
            # An attempt that hangs must not outlast the renew deadline: a few retry periods at most.
            Kube(new_api_client(user_agent=user_agent), timeout=2 * timing.retry),
            own_namespace(args.leader_election_namespace),
            args.leader_election_lease,
            identity,
            on_started=runtime.lead,
            on_stopped=runtime.follow,
            timing=timing,
        )
    return Operator(runtime, elector, identity)


def kopf_registry(operator: Operator) -> Any:
    """kopf's startup, cleanup and probe handlers for `operator`, on a registry of their own."""
    import asyncio

    import kopf

    registry = kopf.OperatorRegistry()

    async def start(**_: Any) -> None:
        operator.start()

    async def stop(**_: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, operator.stop)

    def probe(**_: Any) -> dict[str, Any]:
        return operator.probe()

    kopf.on.login(registry=registry)(kopf.login_via_client)  # kopf's default, with the kubernetes client
    kopf.on.startup(id="runtime", registry=registry)(start)
    kopf.on.cleanup(id="runtime", registry=registry)(stop)
    kopf.on.probe(id="runtime", registry=registry)(probe)
    return registry


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

    from ecs_operator import metrics
    from ecs_operator.logs import configure_logging

    configure_logging(args.log_format, args.verbose)
    for option, port in (("--liveness-port", args.liveness_port), ("--metrics-port", args.metrics_port)):
        if port and not port_free(args.bind, port):
            print(
                f"ecs-operator run: port {port} on {args.bind} is in use: give {option} another port "
                "(0 turns it off)",
                file=sys.stderr,
            )
            return 1
    operator = build_operator(args)
    metrics.serve(args.metrics_port, args.bind, ready=operator.runtime.synced)
    settings = kopf.OperatorSettings()
    # Only problems become Kubernetes Events from kopf itself; the operator's own come from its plans.
    settings.posting.level = logging.WARNING
    liveness = f"http://{args.bind}:{args.liveness_port}/healthz" if args.liveness_port else None
    kopf.run(
        registry=kopf_registry(operator),
        settings=settings,
        standalone=True,
        clusterwide=True,
        liveness_endpoint=liveness,
    )
    return 0
