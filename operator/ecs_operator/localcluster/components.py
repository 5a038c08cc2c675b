"""The command line of each control-plane component (pure: unit-tested without starting anything)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ecs_operator import NAMESPACE as LEASE_NAMESPACE
from ecs_operator.localcluster import resourcemetrics, versions
from ecs_operator.localcluster.pki import Pki
from ecs_operator.localcluster.ports import LOOPBACK

# Start order; `down` stops them in reverse.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "metrics-server")
PORT_NAMES = (
    "etcd",
    "etcd-peer",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "metrics-server",
)

SERVICE_CIDR = "10.96.0.0/16"
NODE_PORT_RANGE = "30000-39999"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
POD_CIDR = "10.244.0.0/16"
NODE_LEASE_SECONDS = 40
# Who asked the API server for what (verb, resource, user agent), so benchmarks can count the requests of
# one client without a proxy in its path. The writes to the operator's leader Lease are logged with their
# body, which names the holder, so a benchmark can tell which replica held it when another wrote. Other
# leases are left out: kwok renews one per Node every few seconds, which would grow the log without telling
# anything.
AUDIT_POLICY = f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Request
    namespaces: [{LEASE_NAMESPACE}]
    verbs: [create, update, patch, delete]
    resources:
      - group: coordination.k8s.io
        resources: [leases]
  - level: None
    resources:
      - group: coordination.k8s.io
        resources: [leases]
  - level: Metadata
"""
# Megabytes before the audit log rotates: never, in practice (a benchmark run writes tens of megabytes).
AUDIT_LOG_MAX_MB = 102400
# The controllers the operator relies on, plus the ones any namespace and ServiceAccount need.
CONTROLLERS = (
    "deployment-controller",
    "replicaset-controller",
    "endpoints-controller",
    "endpointslice-controller",
    "endpointslice-mirroring-controller",
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "node-lifecycle-controller",
    "job-controller",
    "cronjob-controller",
    "statefulset-controller",
    "daemonset-controller",
    "disruption-controller",
    "horizontal-pod-autoscaler-controller",
    "resourcequota-controller",
    "pod-garbage-collector-controller",
    "taint-eviction-controller",
    "ttl-controller",
    "ttl-after-finished-controller",
    "clusterrole-aggregation-controller",
)


@dataclass(frozen=True)
class Layout:
    """Where one cluster keeps its files."""

    state: Path

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def pki(self) -> Pki:
        return Pki(self.state / "pki")

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def audit_policy(self) -> Path:
        return self.state / "audit-policy.yaml"

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.log"

    @property
    def stages(self) -> Path:
        return self.state / "kwok-stages.yaml"

    @property
    def kept_file(self) -> Path:
        """The processes `make demo KEEP=1` leaves running against this cluster (`down` stops them)."""
        return self.state / "kept.json"

    @property
    def state_file(self) -> Path:
        return self.state / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.state / ".lock"

    @property
    def real_node(self) -> Path:
        return self.state / "realnode"

    def owned_paths(self) -> tuple[Path, ...]:
        """Everything `up` creates, so `down` removes exactly that (the folder may hold other things)."""
        return (
            self.kubeconfig,
            self.etcd_data,
            self.pki.directory,
            self.logs,
            self.stages,
            self.audit_policy,
            self.state_file,
            self.kept_file,
            self.lock_file,
            self.real_node,
        )

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"


def component_args(name: str, bin_dir: Path, layout: Layout, ports: dict[str, int]) -> list[str]:
    arguments = _ARGUMENTS.get(name)
    if arguments is None:
        raise ValueError(f"unknown component {name!r}; expected one of {', '.join(COMPONENTS)}")
    directory = versions.metrics_server_bin_dir() if name == "metrics-server" else bin_dir
    return [str(directory / name), *arguments(layout, ports)]


def _etcd_args(layout: Layout, ports: dict[str, int]) -> list[str]:
    return [
        "--name=local",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls=http://{LOOPBACK}:{ports['etcd']}",
        f"--advertise-client-urls=http://{LOOPBACK}:{ports['etcd']}",
        f"--listen-peer-urls=http://{LOOPBACK}:{ports['etcd-peer']}",
        f"--initial-advertise-peer-urls=http://{LOOPBACK}:{ports['etcd-peer']}",
        f"--initial-cluster=local=http://{LOOPBACK}:{ports['etcd-peer']}",
        "--unsafe-no-fsync=true",
        "--quota-backend-bytes=8589934592",
        "--log-level=warn",
    ]


def _apiserver_args(layout: Layout, ports: dict[str, int]) -> list[str]:
    pki = layout.pki
    return [
        f"--etcd-servers=http://{LOOPBACK}:{ports['etcd']}",
        f"--bind-address={LOOPBACK}",
        f"--advertise-address={LOOPBACK}",
        f"--secure-port={ports['kube-apiserver']}",
        f"--cert-dir={pki.directory}",
        f"--tls-cert-file={pki.admin_cert}",
        f"--tls-private-key-file={pki.admin_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--service-account-key-file={pki.admin_key}",
        f"--service-account-signing-key-file={pki.admin_key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # Room for ECS's quota of 5000 services in one cluster, each with a load balancer (a NodePort);
        # the default range holds 2768.
        f"--service-node-port-range={NODE_PORT_RANGE}",
        "--authorization-mode=Node,RBAC",
        # Lets the controller manager and scheduler authenticate their health probes without noise,
        # and aggregated API servers work as on a real cluster.
        f"--requestheader-client-ca-file={pki.ca_cert}",
        "--requestheader-allowed-names=ecs-operator-admin",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={pki.admin_cert}",
        f"--proxy-client-key-file={pki.admin_key}",
        "--allow-privileged=true",
        "--endpoint-reconciler-type=none",
        # A real kubelet (the real node) serves logs and exec to this client certificate, at the
        # Node's InternalIP: kwok's and the real node's Hostname addresses resolve nowhere.
        f"--kubelet-client-certificate={pki.admin_cert}",
        f"--kubelet-client-key={pki.admin_key}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--audit-policy-file={layout.audit_policy}",
        f"--audit-log-path={layout.audit_log}",
        f"--audit-log-maxsize={AUDIT_LOG_MAX_MB}",
        "--audit-log-format=json",
    ]


def _controller_manager_args(layout: Layout, ports: dict[str, int]) -> list[str]:
    pki = layout.pki
    return [
        *_controller_args("kube-controller-manager", layout, ports),
        f"--controllers={','.join(CONTROLLERS)}",
        "--use-service-account-credentials=false",
        f"--root-ca-file={pki.ca_cert}",
        f"--service-account-private-key-file={pki.admin_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--concurrent-deployment-syncs=20",
        "--concurrent-replicaset-syncs=20",
        "--concurrent-service-endpoint-syncs=20",
        "--concurrent-gc-syncs=40",
        "--concurrent-namespace-syncs=20",
    ]


def _scheduler_args(layout: Layout, ports: dict[str, int]) -> list[str]:
    return _controller_args("kube-scheduler", layout, ports)


def _kwok_args(layout: Layout, ports: dict[str, int]) -> list[str]:
    pki = layout.pki
    return [
        f"--kubeconfig={layout.kubeconfig}",
        f"--config={layout.stages}",
        # Only the simulated Nodes: the real node's kubelet reports its own status.
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
        f"--cidr={POD_CIDR}",
        f"--node-ip={LOOPBACK}",
        f"--node-port={ports['kwok']}",
        f"--server-address={LOOPBACK}:{ports['kwok']}",
        f"--tls-cert-file={pki.admin_cert}",
        f"--tls-private-key-file={pki.admin_key}",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
    ]


def _controller_args(name: str, layout: Layout, ports: dict[str, int]) -> list[str]:
    """What the controller manager and the scheduler share: the admin kubeconfig for everything, a health
    port on loopback, no leader election (one instance), and room for bursts of API requests."""
    kubeconfig = str(layout.kubeconfig)
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={ports[name]}",
        f"--cert-dir={layout.state / 'pki' / name}",
        "--leader-elect=false",
        "--kube-api-qps=500",
        "--kube-api-burst=1000",
    ]


def _metrics_server_args(layout: Layout, ports: dict[str, int]) -> list[str]:
    pki = layout.pki
    return resourcemetrics.arguments(
        ports["metrics-server"],
        str(layout.kubeconfig),
        pki.admin_cert,
        pki.admin_key,
        layout.state / "pki" / "metrics-server",
    )


_ARGUMENTS: dict[str, Callable[[Layout, dict[str, int]], list[str]]] = {
    "etcd": _etcd_args,
    "kube-apiserver": _apiserver_args,
    "kube-controller-manager": _controller_manager_args,
    "kube-scheduler": _scheduler_args,
    "kwok": _kwok_args,
    "metrics-server": _metrics_server_args,
}
