"""The real node's configuration files (pure: unit-tested without starting anything).

containerd runs on the host's cgroups with the cgroupfs driver, keeps every file in the node's folder and
clamps the negative OOM scores the kubelet asks for (this host's root cannot set them). The CNI network is a
bridge inside the node's network namespace. The kubelet and kube-proxy reach the API server through the
host's end of the link; their kubeconfigs name the server `kubernetes`, which its certificate holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ecs_operator.localcluster.realnode.layout import (
    KUBE_PROXY_HEALTHZ_PORT,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    Addresses,
    Files,
    Names,
)

CNI_BIN_DIR = "/usr/lib/cni"
BRIDGE = "cni0"
API_SERVER_NAME = "kubernetes"


def containerd_config(files: Files, sandbox_image: str, runc: str) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
root = "{files.containerd_root}"
state = "{files.containerd_state}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "{files.containerd_socket}"

[{cri}]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{files.cni_config_dir}"

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = "{runc}"
  Root = "{files.runc_root}"
  SystemdCgroup = false

[plugins."io.containerd.internal.v1.opt"]
  path = "{files.containerd_root / "opt"}"
"""


def cni_config(files: Files, addresses: Addresses) -> str:
    network = {
        "cniVersion": "1.0.0",
        "name": "ecs-operator",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "dataDir": str(files.cni_ipam_dir),
                    "ranges": [[{"subnet": str(addresses.pod_network), "gateway": addresses.bridge_ip}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(network, indent=2) + "\n"


def kubelet_config(files: Files, names: Names, addresses: Addresses, client_ca: Path) -> str:
    config: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": addresses.node_ip,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": addresses.node_ip,
        "healthzPort": KUBELET_HEALTHZ_PORT,
        # The API server presents the cluster's admin certificate for logs and exec; everything else asks
        # the API server (SubjectAccessReview).
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(client_ca)},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{files.containerd_socket}",
        "podLogsDir": str(files.pod_logs),
        # This host: cgroup v1 (hybrid) without systemd as PID 1; a root that may not lower OOM scores.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{names.cgroup}",
        "oomScoreAdj": 0,
        "failSwapOn": False,
        # Images are imported, never pulled: collecting one would lose it.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        "serializeImagePulls": False,
        "maxPods": 60,
        "clusterDomain": "cluster.local",
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(files: Files, addresses: Addresses, node_name: str) -> str:
    config: dict[str, Any] = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(files.kubeconfig("kube-proxy"))},
        "mode": "iptables",
        "hostnameOverride": node_name,
        "clusterCIDR": str(addresses.pod_network),
        "healthzBindAddress": f"{addresses.node_ip}:{KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": "127.0.0.1:10249",
        "nodePortAddresses": [f"{addresses.node_ip}/32"],
        "oomScoreAdj": 0,
        # Conntrack limits and timeouts are the host's; a network namespace may not change them.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "iptables": {"localhostNodePorts": False},
    }
    return yaml.safe_dump(config, sort_keys=False)


def kubelet_args(
    binary: Path, files: Files, addresses: Addresses, node_name: str, labels: Mapping[str, str]
) -> list[str]:
    return [
        str(binary),
        f"--config={files.kubelet_config}",
        f"--kubeconfig={files.kubeconfig('kubelet')}",
        f"--root-dir={files.kubelet_root}",
        f"--hostname-override={node_name}",
        f"--node-ip={addresses.node_ip}",
        f"--node-labels={','.join(f'{key}={value}' for key, value in labels.items())}",
    ]


def kube_proxy_args(binary: Path, files: Files) -> list[str]:
    return [str(binary), f"--config={files.kube_proxy_config}"]


def containerd_args(binary: str, files: Files) -> list[str]:
    return [binary, f"--config={files.containerd_config}"]
