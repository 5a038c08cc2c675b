"""`ecs-operator local-cluster build|up|down|status|restart`: the local control plane for development."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ecs_operator.localcluster.components import COMPONENTS
from ecs_operator.localcluster.errors import LocalClusterError

REAL_NODE_BUILD_HELP = "also build the real node's kubelet, kube-proxy, crictl and images"
REAL_NODE_UP_HELP = (
    "add a real Node (kubelet, containerd, runc, CNI bridge, kube-proxy in a network namespace of its own) "
    "that runs containers; needs root and the Debian packages docs/local-cluster.md lists"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local-cluster",
        help="build and run a local Kubernetes control plane with kwok Nodes (for tests and the demo)",
        description=(
            "A real etcd, kube-apiserver, kube-controller-manager and kube-scheduler with simulated kwok "
            "Nodes, built from Go modules. Binaries: $ECS_OPERATOR_CACHE (default ~/.cache/ecs-operator); "
            "state and kubeconfig: $ECS_OPERATOR_LOCAL_DIR (default <repo root>/.local)."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build the pinned binaries unless cached")
    build.add_argument("--real-node", action="store_true", help=REAL_NODE_BUILD_HELP)
    build.set_defaults(handler=_build)
    up = actions.add_parser("up", help="start the cluster (or reuse the running one)")
    up.add_argument("--real-node", action="store_true", help=REAL_NODE_UP_HELP)
    up.set_defaults(handler=_up)
    load = actions.add_parser("load-image", help="copy images from podman into the real node's containerd")
    load.add_argument("images", nargs="+", metavar="IMAGE", help="as Pods name it, e.g. ecs-operator:0.1.0")
    load.set_defaults(handler=_load_image)
    image = actions.add_parser(
        "image", help="build the operator image (Docker, else podman; see `make image`)"
    )
    image.add_argument("--tag", action="append", required=True, help="a name for the image (repeatable)")
    image.set_defaults(handler=_image)
    actions.add_parser("down", help="stop every process and remove the state").set_defaults(handler=_down)
    actions.add_parser("status", help="exit 0 when the cluster runs, 1 when not").set_defaults(
        handler=_status
    )
    instances = actions.add_parser(
        "add-instances",
        help="add kwok Nodes as container instances of an ECS cluster (EC2 tasks run on them)",
        description=(
            "Create COUNT kwok Nodes labelled ecs.operator.dev/cluster=<cluster> (and, with "
            "--capacity-provider, ecs.operator.dev/capacity-provider=<provider>): the ECS cluster's "
            "container instances. On another Kubernetes cluster, label Nodes the same way."
        ),
    )
    instances.add_argument("--cluster", required=True, help="the ECS cluster name")
    instances.add_argument("--count", type=int, default=1, help="how many (default 1)")
    instances.add_argument("--capacity-provider", help="the EC2 capacity provider they belong to")
    instances.set_defaults(handler=_add_instances)
    restart = actions.add_parser("restart", help="restart one component (chaos testing)")
    restart.add_argument("component", choices=COMPONENTS)
    restart.set_defaults(handler=_restart)


def explained(action: Callable[[], object]) -> int:
    """Run `action`; an int result is the exit code, anything else means success."""
    try:
        result = action()
    except LocalClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. a cache or state folder that cannot be written
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def _build(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.build import build

    def build_all() -> None:
        build()
        if args.real_node:
            from ecs_operator.localcluster import images
            from ecs_operator.localcluster.build import print_progress
            from ecs_operator.localcluster.realnode.build import build as build_real_node

            build_real_node()
            images.ensure_node_images(print_progress)

    return explained(build_all)


def _up(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.cluster import up

    with_real_node: bool = args.real_node
    return explained(lambda: up(with_real_node=with_real_node))


def _add_instances(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.cluster import add_instances

    cluster: str = args.cluster
    count: int = args.count
    provider: str | None = args.capacity_provider
    return explained(lambda: print("\n".join(add_instances(cluster, count, provider))))


def _load_image(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.cluster import load_images

    names: list[str] = args.images
    return explained(lambda: load_images(names))


def _image(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster import operator_image, paths
    from ecs_operator.localcluster.build import print_progress

    tags: list[str] = args.tag
    return explained(lambda: operator_image.build(paths.repo_root(), tags, print_progress))


def _down(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.cluster import down

    return explained(lambda: down())


def _restart(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.cluster import restart_component

    component: str = args.component
    return explained(lambda: restart_component(component))


def _status(args: argparse.Namespace) -> int:
    from ecs_operator.localcluster.cluster import status
    from ecs_operator.localcluster.versions import versions_key

    def show() -> int:
        current = status()
        running = "yes" if current.running else f"no ({current.problem})"
        print(f"running:    {running}")
        print(f"versions:   {current.versions_key or versions_key()}")
        print(f"state:      {current.state_dir}")
        print(f"kubeconfig: {current.kubeconfig}")
        if current.ports:
            print("ports:      " + ", ".join(f"{name}={port}" for name, port in current.ports.items()))
        if current.node_count is not None:
            print(f"nodes:      {current.node_count}")
        print(f"real node:  {current.real_node}")
        return 0 if current.running else 1

    return explained(show)
