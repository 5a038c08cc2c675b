"""Pinned, mutually compatible versions of the control-plane binaries, and where they are cached."""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES_VERSION = "1.36.3"
ETCD_VERSION = "3.6.10"
KWOK_VERSION = "0.8.0"
# crictl, to inspect and clean up the real node's containers; released in step with Kubernetes minors.
CRI_TOOLS_VERSION = "1.36.0"
# kind and what its node image holds beyond the binaries above: the versions kubeadm 1.36 asks for
# (cmd/kubeadm/app/constants: DefaultEtcdVersion, CoreDNSVersion), so its image names are the ones it expects.
KIND_VERSION = "0.33.0"
KIND_ETCD_VERSION = "3.6.8"
COREDNS_VERSION = "1.14.2"
# The resource metrics API (`kubectl top`, HPAs on CPU and memory). 0.9.0 is the newest whose go.mod asks
# for no newer Go than ours (0.9.1 wants 1.26.10); it is built with Kubernetes 0.36 modules.
METRICS_SERVER_VERSION = "0.9.0"

# The highest `go` directive among the pinned modules (k8s.io/kubernetes and sigs.k8s.io/kwok say 1.26.0).
MINIMUM_GO = (1, 26)

KUBERNETES_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
BINARIES = ("etcd", *KUBERNETES_BINARIES, "kwok")
# Built only when a real node is asked for, into a cache folder of their own.
REAL_NODE_KUBERNETES_BINARIES = ("kubelet", "kube-proxy")
REAL_NODE_BINARIES = (*REAL_NODE_KUBERNETES_BINARIES, "crictl")
# In a cache folder of its own, so adding it did not invalidate the control plane's 11-minute build.
METRICS_SERVER_BINARIES = ("metrics-server",)

CACHE_ENV = "ECS_OPERATOR_CACHE"


def versions_key() -> str:
    """The cache folder name: it names every version, so a version bump never reuses old binaries."""
    return f"k8s-{KUBERNETES_VERSION}_etcd-{ETCD_VERSION}_kwok-{KWOK_VERSION}"


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser().absolute()
    return Path.home() / ".cache" / "ecs-operator"


def versions_dir() -> Path:
    return cache_root() / versions_key()


def bin_dir() -> Path:
    return versions_dir() / "bin"


def real_node_key() -> str:
    return f"realnode_k8s-{KUBERNETES_VERSION}_cri-tools-{CRI_TOOLS_VERSION}"


def real_node_bin_dir() -> Path:
    return cache_root() / real_node_key() / "bin"


KIND_BINARIES = ("kind", "kubeadm", "etcd", "coredns")


def kind_key() -> str:
    return f"kind-{KIND_VERSION}_k8s-{KUBERNETES_VERSION}_etcd-{KIND_ETCD_VERSION}_coredns-{COREDNS_VERSION}"


def kind_bin_dir() -> Path:
    return cache_root() / kind_key() / "bin"


def missing_binaries(directory: Path, names: tuple[str, ...] = BINARIES) -> list[str]:
    return [name for name in names if not os.access(directory / name, os.X_OK)]


def metrics_server_bin_dir() -> Path:
    return cache_root() / f"metrics-server-{METRICS_SERVER_VERSION}" / "bin"
