"""The binaries kind needs beyond the control plane's and the real node's: kind itself, kubeadm, and the etcd
and CoreDNS that kubeadm 1.36 asks for by version, each from its Go module, cached in a folder of their own.
"""

from __future__ import annotations

from pathlib import Path

from ecs_operator.localcluster import versions
from ecs_operator.localcluster.build import (
    STRIP_FLAGS,
    Progress,
    StepRunner,
    build_cached,
    build_etcd,
    build_kubernetes,
    fresh_dir,
    print_progress,
)

KIND_COMMAND = "sigs.k8s.io/kind"
COREDNS_COMMAND = "github.com/coredns/coredns"


def _go_install(runner: StepRunner, work: Path, out: Path, name: str, package: str) -> None:
    runner.run(
        f"{name}: compile",
        ["install", "-trimpath", "-ldflags", STRIP_FLAGS, package],
        fresh_dir(work / name),
        {"GOBIN": str(out)},
    )


def _steps(runner: StepRunner, work: Path, out: Path) -> None:
    _go_install(runner, work, out, "kind", f"{KIND_COMMAND}@v{versions.KIND_VERSION}")
    _go_install(runner, work, out, "coredns", f"{COREDNS_COMMAND}@v{versions.COREDNS_VERSION}")
    build_etcd(runner, work, out, versions.KIND_ETCD_VERSION)
    build_kubernetes(runner, work, out, ("kubeadm",))


KIND_BINARIES = (
    f"kind {versions.KIND_VERSION}, kubeadm {versions.KUBERNETES_VERSION}, etcd {versions.KIND_ETCD_VERSION} "
    f"and CoreDNS {versions.COREDNS_VERSION} (about 3 minutes on 2 cores once the control plane is built)"
)


def build(progress: Progress = print_progress) -> Path:
    """Build kind, kubeadm, etcd and CoreDNS for kind's nodes unless cached; return their folder."""
    return build_cached(versions.kind_bin_dir(), versions.KIND_BINARIES, _steps, KIND_BINARIES, progress)
