"""The real node's binaries: kubelet and kube-proxy from the control plane's Kubernetes module, and crictl.

They go to a cache folder of their own (`versions.real_node_bin_dir()`), so the control plane's folder and
its key are the same with or without a real node.
"""

from __future__ import annotations

from pathlib import Path

from ecs_operator.localcluster import versions
from ecs_operator.localcluster.build import (
    STRIP_FLAGS,
    Progress,
    StepRunner,
    build_cached,
    build_kubernetes,
    fresh_dir,
    print_progress,
)

CRICTL_COMMAND = "sigs.k8s.io/cri-tools/cmd/crictl"


def build_crictl(runner: StepRunner, work: Path, out: Path) -> None:
    runner.run(
        "crictl: compile",
        ["install", "-trimpath", "-ldflags", STRIP_FLAGS, f"{CRICTL_COMMAND}@v{versions.CRI_TOOLS_VERSION}"],
        fresh_dir(work / "crictl"),
        {"GOBIN": str(out)},
    )


def _steps(runner: StepRunner, work: Path, out: Path) -> None:
    build_crictl(runner, work, out)
    build_kubernetes(runner, work, out, versions.REAL_NODE_KUBERNETES_BINARIES)


REAL_NODE = (
    f"kubelet and kube-proxy {versions.KUBERNETES_VERSION} and crictl {versions.CRI_TOOLS_VERSION} "
    "(about 2 minutes on 2 cores once the control plane is built)"
)


def build(progress: Progress = print_progress) -> Path:
    """Build kubelet, kube-proxy and crictl unless cached; return their folder."""
    return build_cached(
        versions.real_node_bin_dir(), versions.REAL_NODE_BINARIES, _steps, REAL_NODE, progress
    )
