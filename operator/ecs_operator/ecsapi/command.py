"""`ecs-operator api serve | create-key | create-role`: run the endpoint (ECS, STS, Application Auto
Scaling) against the kubeconfig (or in-cluster), create access keys, and create IAM roles (IamRole)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ecs_operator.ecsapi.keys import DEFAULT_NAMESPACE
from ecs_operator.ecsapi.sts import DEFAULT_AUDIENCE

DEFAULT_ADDRESS = "127.0.0.1:8000"
SYNC_SECONDS = 120.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "api",
        help="the ECS API endpoint (aws ecs, boto3, any SDK) over the custom resources",
        description="Serve Amazon ECS's API over the cluster's ECS custom resources, or manage its keys.",
    )
    commands = parser.add_subparsers(dest="api_command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the endpoint (AWS JSON 1.1, SigV4)")
    serve.add_argument(
        "--address", default=DEFAULT_ADDRESS, help=f"HOST:PORT to listen on (default {DEFAULT_ADDRESS})"
    )
    _cluster_arguments(serve)
    serve.add_argument("--log-format", choices=("json", "text"), default="text", help="log line format")
    serve.add_argument(
        "--web-identity-audience",
        default=DEFAULT_AUDIENCE,
        help="the audience ServiceAccount tokens must carry for AssumeRoleWithWebIdentity "
        f"(TokenReview; default {DEFAULT_AUDIENCE})",
    )
    serve.set_defaults(handler=run_serve)
    key = commands.add_parser(
        "create-key",
        help="create an access key acting as a Kubernetes user",
        description="Create an access key (a Secret) whose requests act as --user in --group; prints "
        "AWS_ACCESS_KEY_ID=… and AWS_SECRET_ACCESS_KEY=….",
    )
    key.add_argument("--name", required=True, help="the key's name (Secret ecs-api-key-NAME)")
    key.add_argument("--user", required=True, help="the Kubernetes user the key acts as")
    key.add_argument(
        "--group", action="append", default=[], help="a Kubernetes group of the user (repeatable)"
    )
    _cluster_arguments(key)
    key.set_defaults(handler=run_create_key)
    from ecs_operator.ecsapi.rolecommand import register as register_create_role

    register_create_role(commands, _cluster_arguments)


def _cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG, else in-cluster)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help=f"where the access keys (Secrets) are kept (default {DEFAULT_NAMESPACE})",
    )


def run_create_key(args: argparse.Namespace) -> int:
    from ecs_operator.ecsapi.keys import create_key
    from ecs_operator.kube import Kube, KubeError, new_api_client

    kube = Kube(new_api_client(args.kubeconfig, args.context), "ecs-api")
    try:
        key = create_key(kube, args.namespace, args.name, args.user, tuple(args.group))
    except KubeError as error:
        print(f"error: could not create the key: {error}", file=sys.stderr)
        return 1
    print(f"AWS_ACCESS_KEY_ID={key.access_key_id}")
    print(f"AWS_SECRET_ACCESS_KEY={key.secret_access_key}")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from ecs_operator.ecsapi.callers import Authenticator
    from ecs_operator.ecsapi.endpoint import Server, build_app, impersonated
    from ecs_operator.ecsapi.keys import KeyRing
    from ecs_operator.ecsapi.roles import Directory
    from ecs_operator.ecsapi.sessions import SealingKeys
    from ecs_operator.ecsapi.store import InformerStore
    from ecs_operator.ecsapi.webidentity import Verifier
    from ecs_operator.identifiers import Partition
    from ecs_operator.kube import Kube, new_api_client
    from ecs_operator.logs import configure_logging

    configure_logging(args.log_format, False)
    host, _, port = args.address.rpartition(":")
    api_client = new_api_client(args.kubeconfig, args.context)
    store = InformerStore(lambda: Kube(new_api_client(args.kubeconfig, args.context)))
    store.start()
    log = logging.getLogger("ecs_operator.ecsapi")
    if not store.wait_synced(SYNC_SECONDS):
        log.warning(
            "the caches have not listed everything after %ss; serving 503 until they have", SYNC_SECONDS
        )
    own = Kube(api_client)
    partition = Partition.from_env()
    directory = Directory(own, partition)
    authenticator = Authenticator(
        KeyRing(own, args.namespace), SealingKeys(own, args.namespace), directory, partition
    )
    verifier = Verifier(own, directory, args.web_identity_audience)
    server = Server(store, authenticator, verifier, impersonated(api_client), partition, registry=own)
    log.info(
        "serving ECS, STS and Application Auto Scaling on http://%s:%s/ (keys in namespace %s)",
        host,
        port,
        args.namespace,
    )
    try:
        web.run_app(build_app(server), host=host or "127.0.0.1", port=int(port), print=None, access_log=None)
    finally:
        store.stop()
    return 0
