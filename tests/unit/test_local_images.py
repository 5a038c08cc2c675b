"""Images made without a registry: podman's configuration, local image recipes, the operator image build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ecs_operator.localcluster import images, operator_image, podman

ROOT = Path(__file__).resolve().parents[2]


def test_podman_asks_for_the_limits_the_host_allows_and_runc_on_cgroup_v1() -> None:
    text = podman.containers_conf(nofile=20000, nproc=32768, cgroup_v2_only=False)

    assert 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' in text
    assert 'runtime = "runc"' in text
    assert 'runtime = "runc"' not in podman.containers_conf(nofile=1, nproc=1, cgroup_v2_only=True)


def test_local_images_have_local_names_that_say_what_they_are() -> None:
    recipes = [images.PYTHON_BASE, images.BUSYBOX, images.NGINX, images.pause_recipe(b"int main(){}")]

    for name in [images.MINBASE, *(recipe.name for recipe in recipes)]:
        assert name.startswith("localhost/ecs-operator-local/"), name
    assert "debian" in images.BUSYBOX.name and "debian" in images.NGINX.name


def test_every_recipe_builds_on_the_local_debian_base() -> None:
    for recipe in (images.PYTHON_BASE, images.BUSYBOX, images.NGINX, images.pause_recipe(b"")):
        assert recipe.containerfile.startswith(f"FROM {images.MINBASE}")


def test_a_recipe_digest_changes_with_its_base_and_its_files() -> None:
    pause = images.pause_recipe(b"int main(){}")

    assert pause.digest("base-1") == pause.digest("base-1")
    assert pause.digest("base-1") != pause.digest("base-2")
    assert pause.digest("base-1") != images.pause_recipe(b"int main(){return 1;}").digest("base-1")


def test_the_apt_mirror_is_read_from_deb822_and_one_line_sources(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    )
    one_line = tmp_path / "sources.list"
    one_line.write_text("deb [arch=amd64] http://other.example/debian bookworm main\n")

    assert images.apt_mirror((deb822,)) == "http://mirror.example/debian"
    assert images.apt_mirror((tmp_path / "absent", one_line)) == "http://other.example/debian"
    assert images.apt_mirror((tmp_path / "absent",)) == images.DEFAULT_MIRROR


def test_the_ca_bundle_is_a_build_secret_and_the_base_a_build_argument(tmp_path: Path) -> None:
    args = operator_image.build_args(tmp_path, ["ecs-operator:dev"], Path("/ca.crt"), "local/python")

    assert args[:3] == ["build", "-t", "ecs-operator:dev"]
    assert "--secret" in args and "id=pip-ca,src=/ca.crt" in args
    assert "PIP_CERT=/run/secrets/pip-ca" in args and "PYTHON_IMAGE=local/python" in args
    assert args[-1] == str(tmp_path)
    bare = operator_image.build_args(tmp_path, ["a", "b"], None, None)
    assert bare == ["build", "-t", "a", "-t", "b", str(tmp_path)]


def test_the_dockerfile_mounts_the_ca_for_the_pip_step_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_stage, final_stage = dockerfile.split("\nFROM ${PYTHON_IMAGE}\n")

    assert f"ARG PYTHON_IMAGE={operator_image.PUBLIC_PYTHON_IMAGE.removeprefix('docker.io/library/')}" in (
        dockerfile
    )
    assert f"RUN --mount=type=secret,id={operator_image.CA_SECRET_ID}" in build_stage
    assert "PIP_CERT" not in final_stage and "secret" not in final_stage
    assert re.search(r"^USER 65532:65532$", final_stage, re.MULTILINE)


def test_a_docker_client_without_an_engine_is_no_docker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    assert operator_image.docker_engine() is None
