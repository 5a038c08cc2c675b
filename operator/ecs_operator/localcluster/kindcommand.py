"""`ecs-operator kind build|up|load|deploy|down|status`: what `make kind-*` runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ecs_operator.localcluster.command import explained

DEFAULT_NAME = "ecs-operator"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "kind",
        help="a kind cluster from kind-config.yaml (Docker, else podman with a node image built here)",
        description=(
            "kind built from its Go module into $ECS_OPERATOR_CACHE. With a Docker engine kind uses it and "
            "its own node image; without one, podman and a node image built here (no registry needed)."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build kind and, for podman, the node image, unless cached")
    build.set_defaults(handler=_build)
    up = actions.add_parser("up", help="create the cluster (or reuse it) and wait until its nodes are Ready")
    up.add_argument("--config", type=Path, default=Path("kind-config.yaml"))
    up.add_argument("--image", help="node image (default: kind's on Docker, the one built here on podman)")
    load = actions.add_parser("load", help="load images into every node")
    load.add_argument("images", nargs="*", metavar="IMAGE", help="as Pods name it, e.g. ecs-operator:dev")
    load.add_argument(
        "--samples", action="store_true", help="on podman, also the samples' images built here from Debian"
    )
    deploy = actions.add_parser("deploy", help="kubectl apply --server-side -k DIR and wait for the rollout")
    deploy.add_argument("kustomization", type=Path, nargs="?", default=Path("manifests/kind"))
    down = actions.add_parser("down", help="delete the cluster and what kind leaves (network, volumes)")
    status = actions.add_parser("status", help="exit 0 when the cluster exists, 1 when not")
    for action, handler in ((up, _up), (load, _load), (deploy, _deploy), (down, _down), (status, _status)):
        action.add_argument("--name", default=DEFAULT_NAME, help=f"the kind cluster (default {DEFAULT_NAME})")
        action.set_defaults(handler=handler)
    for action in (up, deploy):
        action.add_argument(
            "--kubeconfig", type=Path, help="this kubeconfig instead of kind's default ($KUBECONFIG)"
        )


def _build(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import kind
    from ecs_operator.localcluster.build import print_progress

    def build() -> None:
        kind.kind_binary(print_progress)
        if kind.provider().name == "podman":
            from ecs_operator.localcluster import nodeimage

            nodeimage.ensure_node_image()

    return explained(build)


def _up(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import kind

    return explained(lambda: kind.up(args.name, args.config, args.kubeconfig, args.image))


def _load(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import kind

    return explained(lambda: kind.load(args.name, args.images, samples=args.samples))


def _deploy(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import kind

    return explained(lambda: kind.deploy(args.name, args.kustomization, args.kubeconfig))


def _down(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import kind

    return explained(lambda: kind.down(args.name))


def _status(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import kind

    return explained(lambda: kind.status(args.name))
