"""`make image`: the operator image from the project's Dockerfile, with Docker if an engine runs, else podman.

With podman the Dockerfile's public base image is used when it can be pulled; otherwise a stand-in made here
from Debian's python3 (`images.PYTHON_BASE`) goes in through the Dockerfile's `PYTHON_IMAGE` argument. The
host's CA bundle reaches pip as a build secret, mounted for the pip step only, so no layer keeps it (the
package index may sit behind a TLS-intercepting proxy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from ecs_operator.localcluster import images, podman
from ecs_operator.localcluster.errors import LocalClusterError

Progress = Callable[[str], None]

PUBLIC_PYTHON_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
CA_SECRET_ID = images.PIP_CA_SECRET
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def ca_bundle() -> Path | None:
    """The CA bundle pip should trust: `$PIP_CERT`, `$SSL_CERT_FILE`, else the distribution's bundle."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), *CA_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def build_args(context: Path, tags: Sequence[str], ca: Path | None, python_image: str | None) -> list[str]:
    """The `build` arguments shared by docker and podman."""
    args = ["build"]
    for tag in tags:
        args += ["-t", tag]
    if ca is not None:
        args += [
            "--secret",
            f"id={CA_SECRET_ID},src={ca}",
            "--build-arg",
            f"PIP_CERT=/run/secrets/{CA_SECRET_ID}",
        ]
    if python_image is not None:
        args += ["--build-arg", f"PYTHON_IMAGE={python_image}"]
    return [*args, str(context)]


def docker_engine() -> str | None:
    """`docker` when its engine answers (a docker client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    answer = subprocess.run([docker, "info"], capture_output=True, check=False, timeout=60)
    return docker if answer.returncode == 0 else None


def python_base(progress: Progress) -> str | None:
    """None when the Dockerfile's own base image is at hand, else the local stand-in's name."""
    if podman.image_exists(PUBLIC_PYTHON_IMAGE):
        return None
    if podman.run(["pull", "--quiet", PUBLIC_PYTHON_IMAGE], check=False).returncode == 0:
        return None
    progress(
        f"[image] {PUBLIC_PYTHON_IMAGE} cannot be pulled; using {images.PYTHON_BASE.name} (Debian's python3)"
    )
    return images.ensure(images.PYTHON_BASE, progress)


def build(context: Path, tags: Sequence[str], progress: Progress) -> str:
    """Build the Dockerfile in `context` under every tag in `tags`; return the tool that built it."""
    if not (context / "Dockerfile").is_file():
        raise LocalClusterError(f"no Dockerfile in {context}")
    ca = ca_bundle()
    docker = docker_engine()
    if docker is not None:
        progress(f"[image] docker build -t {' -t '.join(tags)}")
        result = subprocess.run(
            [docker, *build_args(context, tags, ca, None)],
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
            check=False,
        )
        if result.returncode != 0:
            raise LocalClusterError(f"docker build exited with {result.returncode}")
        return "docker"
    progress(f"[image] no Docker engine; podman build -t {' -t '.join(tags)}")
    # RUN steps use the host's network: podman's own would need iptables rules on this host.
    podman.run(
        ["build", "--network", "host", *build_args(context, tags, ca, python_base(progress))[1:]],
        capture=False,
    )
    return "podman"
