"""`ecs-operator console`: serve the ECS console, locally with the kubeconfig (it prints the URL to open,
which signs the browser in) or in the cluster, where people sign in with a Kubernetes bearer token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

DEFAULT_ADDRESS = "127.0.0.1:8088"  # not 8080: the operator's metrics port
SYNC_SECONDS = 120.0

log = logging.getLogger("ecs_operator.console")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console",
        help="the ECS console in the browser, live, over the same operations as the ECS API",
        description="Serve the ECS console: clusters, services, tasks and task definitions as the ECS "
        "console shows them, updated live, acting with your Kubernetes rights.",
    )
    parser.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"HOST:PORT to listen on (default {DEFAULT_ADDRESS}; port 0 picks a free one)",
    )
    parser.add_argument(
        "--auth",
        choices=("kubeconfig", "token"),
        default="kubeconfig",
        help="kubeconfig (default): act with your kubeconfig, sign in with the printed URL; token: in "
        "the cluster, people sign in with a Kubernetes bearer token and act with it",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG, else in-cluster)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument(
        "--secure-cookies", action="store_true", help="mark cookies Secure (when served behind HTTPS)"
    )
    parser.add_argument(
        "--sessions-secret",
        default="ecs-console-sessions",
        metavar="NAME",
        help="with --auth token: the Secret that keeps the session key, so sign-ins survive a restart and "
        "work on every replica (default ecs-console-sessions; manifests/console ships it empty)",
    )
    parser.add_argument(
        "--sessions-namespace",
        metavar="NS",
        help="namespace of that Secret (default: $POD_NAMESPACE, else the in-cluster ServiceAccount's, "
        "else ecs-operator-system)",
    )
    parser.add_argument("--log-format", choices=("json", "text"), default="text", help="log line format")
    parser.set_defaults(handler=run)


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--address: {address!r} is not HOST:PORT (for example {DEFAULT_ADDRESS})")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    from ecs_operator.console.app import build_app
    from ecs_operator.console.kubecalls import named
    from ecs_operator.console.session_keys import SessionKeyError
    from ecs_operator.console.sessions import new_secret
    from ecs_operator.console.signin import KubeconfigSignIn, TokenSignIn
    from ecs_operator.console.state import Console
    from ecs_operator.ecsapi.store import InformerStore
    from ecs_operator.kube import Kube, new_api_client
    from ecs_operator.logs import configure_logging

    configure_logging(args.log_format, False)
    # The console's access log names method, path and status only (security.AccessLogger): keep it.
    logging.getLogger("aiohttp.access").setLevel(logging.INFO)
    try:
        host, port = parse_address(args.address)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def client() -> Any:
        return named(new_api_client(args.kubeconfig, args.context))

    api_client = client()
    store = InformerStore(lambda: Kube(client()))
    store.start()
    if not store.wait_synced(SYNC_SECONDS):
        log.warning(
            "the caches have not listed everything after %ss; pages answer 503 until then", SYNC_SECONDS
        )
    key = new_secret()
    signin = KubeconfigSignIn(api_client, key) if args.auth == "kubeconfig" else TokenSignIn(api_client)
    try:
        sessions = session_store(args, api_client)
    except SessionKeyError as error:
        store.stop()
        print(f"error: {error}", file=sys.stderr)
        return 2
    console = Console(store=store, signin=signin, sessions=sessions, secure_cookies=args.secure_cookies)
    try:
        asyncio.run(serve(build_app(console), host, port, key if args.auth == "kubeconfig" else None))
    finally:
        store.stop()
    return 0


def session_store(args: argparse.Namespace, api_client: Any) -> Any:
    """In the cluster, sessions sealed with the key in the sessions Secret (read now: a missing Secret is
    said at once); locally, with a key of this process."""
    from ecs_operator.console.session_keys import SecretKeys
    from ecs_operator.console.sessions import Sessions
    from ecs_operator.kube import Kube, own_namespace

    if args.auth != "token":
        return Sessions()
    keys = SecretKeys(
        Kube(api_client, "ecs-console"), own_namespace(args.sessions_namespace), args.sessions_secret
    )
    keys.reload()
    return Sessions(keys)


async def serve(app: Any, host: str, port: int, key: str | None) -> None:
    from aiohttp import web

    from ecs_operator.console.security import AccessLogger

    runner = web.AppRunner(app, access_log_class=AccessLogger, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{bound}/"
    if key is not None:
        print(f"ECS console: {url}signin?key={key}", flush=True)
    else:
        print(f"ECS console: {url} (sign in with a Kubernetes bearer token)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
