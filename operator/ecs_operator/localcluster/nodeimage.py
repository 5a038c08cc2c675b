"""kind's node image, built here: no registry is reachable, so nothing of it is pulled.

The recipe is kind's own (`pkg/build/nodeimage`): a base image with systemd and containerd, the Kubernetes
binaries, and the images the nodes run imported into containerd under the names kubeadm asks for. Each piece
comes from what this machine reaches:

podman holds each under `localhost/ecs-operator-local/`; the nodes' containerd holds them under the names
kubeadm asks for:
- `kind-base`: Debian 12 minbase with systemd, containerd, runc, the CNI plugins and iptables, plus the
  entrypoint, units and configuration in `kindnode/`;
- `kube-apiserver`, `kube-controller-manager`, `kube-scheduler` (the control plane's binaries) and
  `kube-proxy` (the real node's, with Debian's iptables): `registry.k8s.io/<name>:v1.36.3`;
- `etcd` and `coredns`, built from their Go modules at kubeadm's versions: `registry.k8s.io/etcd:3.6.8-0`,
  `registry.k8s.io/coredns/coredns:v1.14.2`; `pause` from Kubernetes' pause.c: `registry.k8s.io/pause:3.10.2`;
- `kind-podnet`: `podnet.py` on Debian's python3 (kindnetd's Go module is not served), under its own name;
- `kind-node`: `kind-base` with kubelet, kubeadm, kubectl, crictl and all of the above imported.

Every image carries the digest of its recipe (Containerfile, files, the ids of the images it uses) as a
label, and is rebuilt only when that changes: podman's storage is the cache across runs.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ecs_operator.localcluster import build, images, kindbuild, podman, versions
from ecs_operator.localcluster.build import Progress, format_seconds
from ecs_operator.localcluster.realnode import build as realnode_build

PREFIX = images.PREFIX
K8S_TAG = f"v{versions.KUBERNETES_VERSION}"
NODE_IMAGE = f"{PREFIX}/kind-node:{K8S_TAG}"
BASE_IMAGE = f"{PREFIX}/kind-base:{images.DEBIAN_SUITE}"
UPSTREAM = "registry.k8s.io"
SANDBOX_IMAGE = f"{UPSTREAM}/pause:{images.PAUSE_VERSION}"
PAUSE_SOURCE = "build/pause/linux/pause.c"

BASE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "conntrack",
    "iproute2",
    "util-linux",
    "mount",
    "kmod",
    "procps",
    "ca-certificates",
)


def node_file(name: str) -> bytes:
    return resources.files("ecs_operator.localcluster").joinpath("kindnode", name).read_bytes()


def base_recipe() -> images.Recipe:
    """systemd as PID 1, containerd and the CNI plugins from Debian, with our entrypoint and units."""
    files = {
        name: node_file(name)
        for name in ("entrypoint", "kubelet-cgroups", "kubelet.service", "10-kubeadm.conf", "crictl.yaml")
    }
    files["config.toml"] = node_file("containerd.toml").replace(b"SANDBOX_IMAGE", SANDBOX_IMAGE.encode())
    return images.Recipe(
        BASE_IMAGE,
        f"""FROM {images.MINBASE}
{images.apt_install(*BASE_PACKAGES)}
# systemd in a container: no getty, udev or units that touch the host's kernel; journald off /dev/kmsg.
RUN rm -f /etc/systemd/system/*.wants/* /lib/systemd/system/multi-user.target.wants/* \\
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \\
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \\
 && systemctl mask systemd-binfmt.service \\
 && echo ReadKMsg=no >> /etc/systemd/journald.conf \\
 && mkdir -p /opt/cni/bin /etc/cni/net.d /etc/kubernetes/manifests /kind/manifests \\
 && ln -s /usr/lib/cni/* /opt/cni/bin/ \\
 && : > /etc/machine-id
COPY entrypoint kubelet-cgroups /usr/local/bin/
COPY kubelet.service /etc/systemd/system/kubelet.service
COPY 10-kubeadm.conf /etc/systemd/system/kubelet.service.d/10-kubeadm.conf
COPY config.toml /etc/containerd/config.toml
COPY crictl.yaml /etc/crictl.yaml
RUN chmod 0755 /usr/local/bin/entrypoint /usr/local/bin/kubelet-cgroups \\
 && systemctl enable containerd.service kubelet.service
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
""",
        files,
    )


def podnet_recipe() -> images.Recipe:
    source = resources.files("ecs_operator.localcluster").joinpath("podnet.py").read_bytes()
    return images.Recipe(
        f"{PREFIX}/kind-podnet:{K8S_TAG}",
        f"""FROM {images.MINBASE}
{images.apt_install("python3", "iproute2", "iptables")}
COPY podnet.py /usr/local/lib/podnet.py
CMD ["python3", "/usr/local/lib/podnet.py"]
""",
        {"podnet.py": source},
    )


def kube_proxy_recipe(binary: Path) -> images.Recipe:
    return images.Recipe(
        f"{PREFIX}/kube-proxy:{K8S_TAG}",
        f"""FROM {images.MINBASE}
{images.apt_install("iptables", "conntrack")}
COPY kube-proxy /usr/local/bin/kube-proxy
""",
        {"kube-proxy": binary},
    )


@dataclass(frozen=True)
class Binaries:
    """An image FROM scratch holding static binaries at /usr/local/bin (kubeadm runs them by name)."""

    name: str
    files: Mapping[str, Path]
    entrypoint: str | None = None

    def recipe(self) -> images.Recipe:
        lines = ["FROM scratch", *(f"COPY {name} /usr/local/bin/{name}" for name in self.files)]
        lines.append("ENV PATH=/usr/local/bin:/usr/bin:/bin")
        if self.entrypoint:
            lines.append(f'ENTRYPOINT ["/usr/local/bin/{self.entrypoint}"]')
        return images.Recipe(self.name, "\n".join(lines) + "\n", dict(self.files))


@dataclass(frozen=True)
class Preloaded:
    """An image in podman, and the name the nodes' containerd keeps it under."""

    local: str
    node: str


@dataclass(frozen=True)
class BinDirs:
    control_plane: Path
    real_node: Path
    kind: Path


def build_binaries(progress: Progress) -> BinDirs:
    """Every binary the node image holds, from the three versioned caches (each built unless cached)."""
    return BinDirs(build.build(progress), realnode_build.build(progress), kindbuild.build(progress))


def component_images(bins: BinDirs, progress: Progress) -> list[Preloaded]:
    """Every image a node runs before anything is loaded: the control plane, DNS, network and sandbox."""
    control_plane, real_node, kind_bins = bins.control_plane, bins.real_node, bins.kind
    wanted: list[tuple[images.Recipe, str]] = [
        (Binaries(f"{PREFIX}/{name}:{K8S_TAG}", {name: control_plane / name}).recipe(), f"{UPSTREAM}/{name}")
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    wanted += [
        (kube_proxy_recipe(real_node / "kube-proxy"), f"{UPSTREAM}/kube-proxy"),
        (
            Binaries(f"{PREFIX}/etcd:{versions.KIND_ETCD_VERSION}-0", {"etcd": kind_bins / "etcd"}).recipe(),
            f"{UPSTREAM}/etcd",
        ),
        (
            Binaries(
                f"{PREFIX}/coredns:v{versions.COREDNS_VERSION}", {"coredns": kind_bins / "coredns"}, "coredns"
            ).recipe(),
            f"{UPSTREAM}/coredns/coredns",
        ),
        (images.pause_recipe(images.kubernetes_source_file(PAUSE_SOURCE)), f"{UPSTREAM}/pause"),
        (podnet_recipe(), ""),
    ]
    preloaded = []
    for recipe, upstream in wanted:
        images.ensure(recipe, progress)
        tag = recipe.name.rsplit(":", 1)[1]
        preloaded.append(Preloaded(recipe.name, f"{upstream}:{tag}" if upstream else recipe.name))
    return preloaded


def ensure_node_image(progress: Progress = build.print_progress) -> str:
    """The kind node image for the pinned Kubernetes, built unless podman holds it from the same recipe."""
    bins = build_binaries(progress)
    preloaded = component_images(bins, progress)
    base = images.ensure(base_recipe(), progress)
    node_bins = {
        "kubelet": bins.real_node / "kubelet",
        "crictl": bins.real_node / "crictl",
        "kubectl": bins.control_plane / "kubectl",
        "kubeadm": bins.kind / "kubeadm",
    }
    podnet = next(image.node for image in preloaded if "/kind-podnet:" in image.local)
    files: dict[str, bytes | Path] = {
        **node_bins,
        "version": f"{K8S_TAG}\n".encode(),
        "default-cni.yaml": node_file("default-cni.yaml").replace(b"PODNET_IMAGE", podnet.encode()),
        "preload-images": node_file("preload-images"),
    }
    containerfile = f"""FROM {base}
COPY kubelet kubeadm kubectl /usr/bin/
COPY crictl /usr/local/bin/crictl
COPY version /kind/version
COPY default-cni.yaml /kind/manifests/default-cni.yaml
RUN --mount=type=bind,source=.,target=/kind/build bash /kind/build/preload-images /kind/build/images
"""
    inputs = [base, *(image.local for image in preloaded)]
    digest = _digest(containerfile, files, inputs, [f"{image.local} {image.node}" for image in preloaded])
    if podman.image_label(NODE_IMAGE, images.RECIPE_LABEL) == digest:
        return NODE_IMAGE
    progress(f"[kind] building the node image {NODE_IMAGE}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kind-node-", dir=images.scratch_dir()) as scratch:
        context = Path(scratch)
        _write_context(context, containerfile, files)
        _save_archives(context / "images", preloaded, progress)
        # --no-cache: the layer cache would reuse the preload step, whose inputs (the bind mount) it ignores.
        args = ["--no-cache", "--network", "host", "--label", f"{images.RECIPE_LABEL}={digest}"]
        podman.run(["build", *args, "-t", NODE_IMAGE, str(context)])
    progress(f"[kind] built {NODE_IMAGE} in {format_seconds(time.monotonic() - began)}")
    return NODE_IMAGE


def _digest(
    containerfile: str, files: Mapping[str, bytes | Path], inputs: Sequence[str], extra: Sequence[str]
) -> str:
    hasher = hashlib.sha256(containerfile.encode())
    for name in sorted(files):
        hasher.update(name.encode() + b"\0" + images.file_fingerprint(files[name]))
    for image in inputs:
        hasher.update(images.image_id(image).encode())
    for line in extra:
        hasher.update(line.encode())
    return hasher.hexdigest()[:16]


def _write_context(context: Path, containerfile: str, files: Mapping[str, bytes | Path]) -> None:
    (context / "Containerfile").write_text(containerfile, encoding="utf-8")
    for name, content in files.items():
        images.place(content, context / name)


def _save_archives(directory: Path, preloaded: Sequence[Preloaded], progress: Progress) -> None:
    directory.mkdir()
    lines = []
    for index, image in enumerate(preloaded):
        archive = f"{index:02d}.tar"
        podman.run(["save", "--format", "docker-archive", "-o", str(directory / archive), image.local])
        lines.append(f"{archive} {image.local} {image.node}\n")
    (directory / "images.txt").write_text("".join(lines), encoding="utf-8")
    progress(f"[kind] saved {len(preloaded)} images for the node image")
