"""`ecs-operator kind up|load|deploy|down|status`: a kind cluster from kind-config.yaml, on Docker or podman.

kind is built from its Go module and cached with the control plane. Where a Docker engine answers, kind uses
it with its own default node image, as kind always does. Without one (our machines), kind runs on podman
(`KIND_EXPERIMENTAL_PROVIDER=podman`, with the project's containers.conf) and the node image is built here
(`nodeimage.py`), so nothing is pulled from a registry; images are loaded into the nodes with `kind load`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ecs_operator.localcluster import images, kindbuild, operator_image, podman, versions
from ecs_operator.localcluster.build import Progress, format_seconds, print_progress
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.realnode import host
from ecs_operator.localcluster.realnode.node import docker_name, podman_name

PROVIDER_ENV = "KIND_EXPERIMENTAL_PROVIDER"
CLUSTER_LABEL = "io.x-k8s.kind.cluster"
NETWORK = "kind"  # the network kind's docker and podman providers create, and never remove
LIB_MODULES = Path("/lib/modules")  # kind mounts it into every node
READY_TIMEOUT = "300s"
REAL_NODE_NETNS = Path("/run/netns/ecs-operator-*")  # realnode/layout.py names them so
# The samples' images, built here from Debian packages (manifests/kind/samples names them).
SAMPLE_IMAGES = (images.BUSYBOX, images.NGINX)


@dataclass(frozen=True)
class Provider:
    name: str  # "docker" or "podman"
    env: dict[str, str]

    @property
    def engine(self) -> str:
        return podman.binary() if self.name == "podman" else self.name


def provider() -> Provider:
    """`$KIND_EXPERIMENTAL_PROVIDER` if set, else Docker when its engine answers, else podman."""
    name = os.environ.get(PROVIDER_ENV) or ("docker" if operator_image.docker_engine() else "podman")
    if name not in ("docker", "podman"):
        raise LocalClusterError(f"{PROVIDER_ENV}={name}: ecs-operator knows the docker and podman providers")
    env = podman.environment() if name == "podman" else dict(os.environ)
    return Provider(name, {**env, PROVIDER_ENV: name})


def kind_binary(progress: Progress) -> str:
    return str(kindbuild.build(progress) / "kind")


def kubectl_binary(progress: Progress) -> str:
    from ecs_operator.localcluster import build

    return str(build.build(progress) / "kubectl")


def _run(
    args: Sequence[str], env: dict[str, str], *, capture: bool = True, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), env=env, capture_output=capture, text=True, check=False, stdin=stdin, timeout=1800
    )


def _checked(args: Sequence[str], env: dict[str, str], what: str, *, capture: bool = True) -> str:
    result = _run(args, env, capture=capture)
    if result.returncode != 0:
        detail = f": {(result.stderr or result.stdout or '').strip()[-2000:]}" if capture else ""
        raise LocalClusterError(f"{what} failed (exit {result.returncode}){detail}")
    return result.stdout or ""


def clusters(kind: str, where: Provider) -> list[str]:
    return _checked([kind, "get", "clusters"], where.env, "kind get clusters").split()


def node_containers(name: str, where: Provider) -> list[str]:
    listed = _checked(
        [where.engine, "ps", "-a", "--filter", f"label={CLUSTER_LABEL}={name}", "--format", "{{.Names}}"],
        where.env,
        "listing the nodes",
    )
    return sorted(listed.split())


def up(
    name: str,
    config: Path,
    kubeconfig: Path | None = None,
    image: str | None = None,
    progress: Progress = print_progress,
) -> None:
    """Create the cluster unless it exists; wait until every node is Ready."""
    began = time.monotonic()
    where = provider()
    kind = kind_binary(progress)
    if where.name == "podman" and image is None:
        from ecs_operator.localcluster import nodeimage

        image = nodeimage.ensure_node_image(progress)
    if name in clusters(kind, where):
        progress(f"[kind] cluster {name} exists; reusing it")
        if kubeconfig is not None:
            _write_kubeconfig(kind, name, kubeconfig, where)
    else:
        _prepare_host(progress)
        args = [kind, "create", "cluster", "--name", name, "--config", str(config)]
        args += ["--image", image] if image else []
        args += ["--kubeconfig", str(kubeconfig)] if kubeconfig is not None else []
        progress(f"[kind] creating cluster {name} on {where.name}" + (f" from {image}" if image else ""))
        _checked(args, where.env, f"kind create cluster --name {name}", capture=False)
    wait_ready(name, kubeconfig, progress)
    progress(f"[kind] cluster {name} ready in {format_seconds(time.monotonic() - began)}")


def _prepare_host(progress: Progress) -> None:
    if os.geteuid() != 0:
        return
    if not LIB_MODULES.exists():
        # kind bind-mounts it into every node; a kernel with every module built in may have none.
        progress(f"[kind] {LIB_MODULES} is missing (no loadable modules); creating it empty for kind")
        LIB_MODULES.mkdir(parents=True)
    # The kubelets in the nodes set six kernel settings that are not namespaced; `down` puts them back.
    host.remember_kernel_settings()


def kubectl_args(name: str, kubeconfig: Path | None, progress: Progress) -> list[str]:
    args = [kubectl_binary(progress), f"--context=kind-{name}"]
    return [*args, f"--kubeconfig={kubeconfig}"] if kubeconfig is not None else args


def wait_ready(name: str, kubeconfig: Path | None, progress: Progress) -> None:
    kubectl = kubectl_args(name, kubeconfig, progress)
    _checked(
        [*kubectl, "wait", "--for=condition=Ready", "nodes", "--all", f"--timeout={READY_TIMEOUT}"],
        dict(os.environ),
        "waiting for the nodes to be Ready",
    )


def _write_kubeconfig(kind: str, name: str, path: Path, where: Provider) -> None:
    text = _checked([kind, "get", "kubeconfig", "--name", name], where.env, "kind get kubeconfig")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def load(name: str, names: Sequence[str], samples: bool = False, progress: Progress = print_progress) -> None:
    """Load images from the engine into every node, under the names Pods give them (as `kind load` does).

    With `samples` on podman, also the samples' images built here (no registry to pull them from).
    """
    where = provider()
    kind = kind_binary(progress)
    wanted = list(names)
    if samples and where.name == "podman":
        wanted += [images.ensure(recipe, progress) for recipe in SAMPLE_IMAGES]
    if where.name == "docker":
        _checked([kind, "load", "docker-image", "--name", name, *wanted], where.env, "kind load docker-image")
        return
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kind-load-", dir=images.scratch_dir()) as scratch:
        archive = Path(scratch) / "images.tar"
        local = [podman_name(image) for image in wanted]
        save = ["save", "--multi-image-archive", "--format", "docker-archive", "-o", str(archive)]
        podman.run([*save, *local])
        _checked([kind, "load", "image-archive", "--name", name, str(archive)], where.env, "kind load")
    for node in node_containers(name, where):
        for image in wanted:
            source, target = podman_name(image), docker_name(image)
            if source != target:
                tag = ["exec", node, "ctr", "--namespace=k8s.io", "images", "tag", "--force", source, target]
                _checked([where.engine, *tag], where.env, f"tagging {target} in {node}")
    progress(f"[kind] loaded {', '.join(wanted)} in {format_seconds(time.monotonic() - began)}")


def deploy(
    name: str, kustomization: Path, kubeconfig: Path | None = None, progress: Progress = print_progress
) -> None:
    """`kubectl apply --server-side -k <kustomization>`, then wait for the operator's rollout."""
    kubectl = kubectl_args(name, kubeconfig, progress)
    env = dict(os.environ)
    apply = [*kubectl, "apply", "--server-side", "-k", str(kustomization)]
    _checked(apply, env, "kubectl apply", capture=False)
    for deployment in _deployments(kubectl, env):
        _checked(
            [*kubectl, "-n", "ecs-operator-system", "rollout", "status", deployment, "--timeout=300s"],
            env,
            f"the rollout of {deployment}",
            capture=False,
        )


def _deployments(kubectl: Sequence[str], env: dict[str, str]) -> list[str]:
    listed = _checked(
        [*kubectl, "-n", "ecs-operator-system", "get", "deployments", "-o", "name"], env, "kubectl get"
    )
    return listed.split()


def down(name: str, progress: Progress = print_progress) -> list[str]:
    """Delete the cluster, then what kind leaves behind: its network once no container uses it, volumes of
    the cluster, the kernel settings when no other node needs them. Returns what was removed."""
    where = provider()
    kind = kind_binary(progress)
    removed = []
    if name in clusters(kind, where):
        _checked([kind, "delete", "cluster", "--name", name], where.env, f"kind delete cluster --name {name}")
        removed.append(f"cluster {name}")
    for volume in _volumes(name, where):
        _checked([where.engine, "volume", "rm", "--force", volume], where.env, f"removing volume {volume}")
        removed.append(f"volume {volume}")
    if not clusters(kind, where) and _network_exists(where) and not _network_users(where):
        _checked([where.engine, "network", "rm", NETWORK], where.env, f"removing the network {NETWORK}")
        removed.append(f"network {NETWORK}")
    if os.geteuid() == 0 and not clusters(kind, where):
        removed += [f"kernel setting {item}" for item in host.restore_kernel_settings(_real_nodes_run())]
    progress(f"[kind] removed {', '.join(removed) or 'nothing (no such cluster)'}")
    return removed


def _real_nodes_run() -> bool:
    """Whether a local cluster's real node runs on this machine (its network namespace exists)."""
    return any(REAL_NODE_NETNS.parent.glob(REAL_NODE_NETNS.name))


def _volumes(name: str, where: Provider) -> list[str]:
    listed = _run(
        [where.engine, "volume", "ls", "--filter", f"label={CLUSTER_LABEL}={name}", "--format", "{{.Name}}"],
        where.env,
    )
    return listed.stdout.split() if listed.returncode == 0 else []


def _network_exists(where: Provider) -> bool:
    return _run([where.engine, "network", "inspect", NETWORK], where.env).returncode == 0


def _network_users(where: Provider) -> list[str]:
    listed = _run(
        [where.engine, "ps", "-a", "--filter", f"network={NETWORK}", "--format", "{{.Names}}"], where.env
    )
    return listed.stdout.split()


def status(name: str, progress: Progress = print_progress) -> int:
    where = provider()
    kind = kind_binary(progress)
    if name not in clusters(kind, where):
        print(f"kind cluster {name}: not created (provider {where.name})")
        return 1
    print(f"kind cluster {name} (provider {where.name}, kind {versions.KIND_VERSION})")
    for node in node_containers(name, where):
        print(f"  node container {node}")
    return 0
