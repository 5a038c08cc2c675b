"""Container images made on this machine from Debian packages, for machines that reach no image registry.

Every name is under `localhost/ecs-operator-local/` and says what the image holds; none takes an upstream
image's name. The base is `debootstrap --variant=minbase` of Debian 12 imported into podman; the others are
built on it with podman. An image is rebuilt only when its recipe (Containerfile, files, base) changes: the
recipe's digest is stored as a label.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecs_operator.localcluster import podman, versions
from ecs_operator.localcluster.build import format_seconds
from ecs_operator.localcluster.errors import LocalClusterError

Progress = Callable[[str], None]

PREFIX = "localhost/ecs-operator-local"
DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))
RECIPE_LABEL = "dev.ecs-operator.recipe"

MINBASE = f"{PREFIX}/debian-minbase:{DEBIAN_SUITE}"
PAUSE_VERSION = "3.10.2"  # the TAG in build/pause/Makefile of Kubernetes 1.36
PAUSE = f"{PREFIX}/pause:{PAUSE_VERSION}"


def apt_install(*packages: str) -> str:
    return (
        "RUN apt-get update \\\n"
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\\n"
        f"    {' '.join(packages)} \\\n"
        " && rm -rf /var/lib/apt/lists/*"
    )


@dataclass(frozen=True)
class Recipe:
    """An image built FROM the minbase image: its Containerfile and the files of its build context."""

    name: str
    containerfile: str
    # Small files by content; large ones (binaries in the versioned build cache) by path.
    files: Mapping[str, bytes | Path] = field(default_factory=dict)

    def digest(self, base_id: str) -> str:
        hasher = hashlib.sha256(base_id.encode())
        hasher.update(self.containerfile.encode())
        for name in sorted(self.files):
            hasher.update(name.encode() + b"\0" + file_fingerprint(self.files[name]))
        return hasher.hexdigest()[:16]


def file_fingerprint(content: bytes | Path) -> bytes:
    """The content itself, or for a cached file its path, size and modification time (it never changes
    in place: the caches' folders are versioned and renamed into place whole)."""
    if isinstance(content, bytes):
        return content
    stat = content.stat()
    return f"{content}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()


def place(content: bytes | Path, target: Path) -> None:
    """Put a build context file in place: written, or hard-linked from the cache (copied across devices)."""
    if isinstance(content, bytes):
        target.write_bytes(content)
        return
    try:
        os.link(content, target)
    except OSError:
        shutil.copy2(content, target)


PYTHON_BASE = Recipe(
    f"{PREFIX}/debian-python3:{DEBIAN_SUITE}",
    f"FROM {MINBASE}\n{apt_install('python3', 'python3-venv', 'python-is-python3')}\n",
)

BUSYBOX = Recipe(
    f"{PREFIX}/busybox:1.35-debian12",
    f"""FROM {MINBASE} AS debian
{apt_install("busybox-static")}
FROM scratch
COPY --from=debian /bin/busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/sbin", "/usr/bin", "/usr/sbin", "/tmp", "/root"]
RUN ["/bin/busybox", "--install", "-s"]
RUN ["/bin/chmod", "1777", "/tmp"]
COPY passwd group /etc/
CMD ["sh"]
""",
    {
        "passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "group": b"root:x:0:\nnogroup:x:65534:\n",
    },
)

NGINX = Recipe(
    f"{PREFIX}/nginx:1.22-debian12",
    f"""FROM {MINBASE}
{apt_install("nginx-light", "curl")} \\
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
""",
)


AWS_CLI_VERSION = "1.46.3"
PIP_CA_SECRET = "pip-ca"
# The AWS CLI from PyPI (Debian's is too old for AWS_ENDPOINT_URL): what a pipeline's deploy step runs, as the
# public aws-cli image does (`aws` is the entrypoint). The host's CA bundle reaches pip as a build secret.
AWS_CLI = Recipe(
    f"{PREFIX}/aws-cli:{AWS_CLI_VERSION}-debian12",
    f"""FROM {MINBASE}
{apt_install("python3", "python3-venv")}
RUN --mount=type=secret,id={PIP_CA_SECRET} python3 -m venv /opt/aws-cli \\
 && if [ -s /run/secrets/{PIP_CA_SECRET} ]; then export PIP_CERT=/run/secrets/{PIP_CA_SECRET}; fi \\
 && /opt/aws-cli/bin/pip install --no-cache-dir --disable-pip-version-check awscli=={AWS_CLI_VERSION} \\
 && /opt/aws-cli/bin/aws --version
ENV PATH=/opt/aws-cli/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
USER 65532:65532
ENTRYPOINT ["aws"]
""",
)


def pause_recipe(pause_source: bytes) -> Recipe:
    """The sandbox image every Pod starts first, compiled from the Kubernetes module's own pause.c."""
    return Recipe(
        PAUSE,
        f"""FROM {MINBASE} AS build
{apt_install("gcc", "libc6-dev")}
COPY pause.c /pause.c
RUN gcc -Os -Wall -Werror -static -DVERSION=v{PAUSE_VERSION}-ecs-operator-local -o /pause /pause.c \\
 && strip /pause
FROM scratch
COPY --from=build /pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
""",
        {"pause.c": pause_source},
    )


def apt_mirror(sources: tuple[Path, ...] = APT_SOURCES) -> str:
    """The Debian mirror this machine's apt uses (deb822 `URIs:` or a `deb` line), else the default one."""
    for path in sources:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for pattern in (r"^URIs:\s*(\S+)", r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+"):
            for found in re.findall(pattern, text, re.MULTILINE):
                if "security" not in found:
                    return str(found)
    return DEFAULT_MIRROR


def image_id(name: str) -> str:
    return podman.run(["image", "inspect", "--format", "{{.Id}}", name]).stdout.strip()


def ensure_minbase(progress: Progress) -> str:
    """The Debian minbase image, made by debootstrap unless podman has it; returns its id."""
    if podman.image_exists(MINBASE):
        return image_id(MINBASE)
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise LocalClusterError("`debootstrap` was not found on PATH (Debian: `apt-get install debootstrap`)")
    mirror = apt_mirror()
    progress(f"[images] debootstrap --variant=minbase {DEBIAN_SUITE} from {mirror} (about 40 s)")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="debootstrap-", dir=scratch_dir()) as scratch:
        root = Path(scratch) / "rootfs"
        result = subprocess.run(
            [debootstrap, "--variant=minbase", DEBIAN_SUITE, str(root), mirror],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LocalClusterError(f"debootstrap failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [podman.binary(), "import", "--change", 'CMD ["/bin/bash"]', "-", MINBASE],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
            env=podman.environment(),
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise LocalClusterError(f"importing the debootstrap tree into podman failed: {imported.stderr}")
    progress(f"[images] made {MINBASE} in {format_seconds(time.monotonic() - began)}")
    return image_id(MINBASE)


def scratch_dir() -> Path:
    path = versions.cache_root() / "images-scratch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure(recipe: Recipe, progress: Progress) -> str:
    """Build `recipe` on the minbase image unless podman holds it from the same recipe; return its name."""
    digest = recipe.digest(ensure_minbase(progress))
    if podman.image_label(recipe.name, RECIPE_LABEL) == digest:
        return recipe.name
    progress(f"[images] building {recipe.name}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="context-", dir=scratch_dir()) as scratch:
        context = Path(scratch)
        (context / "Containerfile").write_text(recipe.containerfile, encoding="utf-8")
        for name, content in recipe.files.items():
            place(content, context / name)
        podman.run(
            [
                "build",
                "--network",
                "host",
                *_secrets(recipe),
                "--label",
                f"{RECIPE_LABEL}={digest}",
                "-t",
                recipe.name,
                str(context),
            ]
        )
    progress(f"[images] built {recipe.name} in {format_seconds(time.monotonic() - began)}")
    return recipe.name


def _secrets(recipe: Recipe) -> list[str]:
    """The host's CA bundle as a build secret for a recipe that installs from PyPI (never in a layer)."""
    from ecs_operator.localcluster.operator_image import ca_bundle

    ca = ca_bundle()
    if f"id={PIP_CA_SECRET}" not in recipe.containerfile:
        return []
    if ca is None:  # the step still runs: the secret is an empty file
        ca = Path("/dev/null")
    return ["--secret", f"id={PIP_CA_SECRET},src={ca}"]


def kubernetes_source_file(relative: str) -> bytes:
    """A file of the k8s.io/kubernetes module at the pinned version (downloaded by the Go client)."""
    from ecs_operator.localcluster.gotool import find_go

    result = subprocess.run(
        [find_go(), "mod", "download", "-json", f"k8s.io/kubernetes@v{versions.KUBERNETES_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=scratch_dir(),
    )
    if result.returncode != 0:
        raise LocalClusterError(
            f"`go mod download k8s.io/kubernetes` failed: {result.stderr.strip()[-1000:]}"
        )
    return (Path(json.loads(result.stdout)["Dir"]) / relative).read_bytes()


def ensure_node_images(progress: Progress) -> tuple[str, ...]:
    """The images the real node needs (its sandbox image) and the tests run (busybox, nginx)."""
    pause = pause_recipe(kubernetes_source_file("build/pause/linux/pause.c"))
    return tuple(ensure(recipe, progress) for recipe in (pause, BUSYBOX, NGINX))
