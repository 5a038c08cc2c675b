"""The pure parts of `local-cluster build`: versions, the recipe's rules, Go checks and failure reports."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ecs_operator.localcluster import build, gotool, versions
from ecs_operator.localcluster.errors import LocalClusterError

GOMOD_EXCERPT = """\
module k8s.io/kubernetes

go 1.26.0

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
)

replace github.com/example/fork => github.com/example/fork v1.2.3
"""


def fake_go(directory: Path, script: str) -> Path:
    """A `go` on PATH that runs `script` (sh), for the checks that only look at what go says."""
    directory.mkdir(parents=True, exist_ok=True)
    go = directory / "go"
    go.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    return go


def test_the_versions_key_names_every_pinned_version() -> None:
    key = versions.versions_key()

    assert key == (
        f"k8s-{versions.KUBERNETES_VERSION}_etcd-{versions.ETCD_VERSION}_kwok-{versions.KWOK_VERSION}"
    )


def test_the_cache_follows_the_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(versions.CACHE_ENV, str(tmp_path))

    assert versions.bin_dir() == tmp_path / versions.versions_key() / "bin"


def test_the_cache_defaults_to_the_home_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(versions.CACHE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    assert versions.cache_root() == tmp_path / ".cache" / "ecs-operator"


def test_staging_modules_are_read_from_the_kubernetes_gomod() -> None:
    assert build.staging_modules(GOMOD_EXCERPT) == ["k8s.io/api", "k8s.io/client-go", "k8s.io/cri-streaming"]


def test_staging_modules_are_published_as_v0_minor_patch() -> None:
    assert build.staging_version("1.36.3") == "v0.36.3"
    with pytest.raises(ValueError, match="major version"):
        build.staging_version("2.0.1")


def test_ldflags_stamp_the_kubernetes_version_into_both_version_packages() -> None:
    flags = build.kubernetes_ldflags("1.36.3")

    assert flags.startswith("-s -w ")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.36.3" in flags
        assert f"-X {package}.gitMinor=36" in flags


@pytest.mark.parametrize(
    ("text", "expected"),
    [("go1.26.8", (1, 26, 8)), ("go1.26", (1, 26, 0)), ("go1.27rc1\n", (1, 27, 0)), ("go1.25.0", (1, 25, 0))],
)
def test_go_versions_are_parsed(text: str, expected: tuple[int, int, int]) -> None:
    assert gotool.parse_go_version(text) == expected


def test_an_unreadable_go_version_is_explained() -> None:
    with pytest.raises(LocalClusterError, match="cannot read the Go version from 'devel'"):
        gotool.parse_go_version("devel")


def test_a_missing_go_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(LocalClusterError) as error:
        gotool.find_go()

    assert "`go` was not found on PATH" in str(error.value)
    assert f"install Go {gotool.minimum_text()} or newer" in str(error.value)


def test_an_old_go_says_which_version_is_needed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_go(tmp_path, 'echo "go1.22.5"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")

    with pytest.raises(LocalClusterError) as error:
        gotool.find_go()

    message = str(error.value)
    assert "is Go 1.22.5" in message
    assert f"need Go {gotool.minimum_text()} or newer" in message


def test_a_new_enough_go_is_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    go = fake_go(tmp_path, 'echo "go1.26.0"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")

    assert gotool.find_go() == str(go)


def test_a_failed_step_names_the_step_the_last_log_lines_and_the_log(tmp_path: Path) -> None:
    go = fake_go(
        tmp_path / "go-bin", 'echo "downloading things"; echo "go: module not found: k8s.io/nope" >&2; exit 1'
    )
    runner = build.StepRunner(go=str(go), logs=tmp_path / "logs", progress=lambda line: None)
    (tmp_path / "logs").mkdir()

    with pytest.raises(LocalClusterError) as error:
        runner.run("kubernetes: resolve dependencies", ["get", "k8s.io/nope"], tmp_path)

    message = str(error.value)
    log = tmp_path / "logs" / "01-kubernetes-resolve-dependencies.log"
    assert "build step 'kubernetes: resolve dependencies' failed (go exited with 1)" in message
    assert "go: module not found: k8s.io/nope" in message
    assert f"full log: {log}" in message
    assert "downloading things" in log.read_text(encoding="utf-8")


def test_a_step_reports_progress_with_elapsed_time(tmp_path: Path) -> None:
    go = fake_go(tmp_path / "go-bin", "echo ok")
    lines: list[str] = []
    runner = build.StepRunner(go=str(go), logs=tmp_path, progress=lines.append)

    assert runner.run("etcd: compile", ["build"], tmp_path) == "ok\n"

    assert lines[0] == "[build] etcd: compile ..."
    assert lines[1].startswith("[build] etcd: compile done in ") and "(total " in lines[1]


def test_a_complete_cache_is_not_rebuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(versions.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # building would fail: no go
    bin_dir = versions.bin_dir()
    metrics_dir = versions.metrics_server_bin_dir()
    for folder, names in ((bin_dir, versions.BINARIES), (metrics_dir, versions.METRICS_SERVER_BINARIES)):
        folder.mkdir(parents=True)
        for name in names:
            fake_go(folder, "exit 0").rename(folder / name)
    lines: list[str] = []

    assert not build.missing()
    assert build.build(progress=lines.append) == bin_dir

    assert lines == [
        f"[build] all binaries are cached in {bin_dir}; nothing to do",
        f"[build] all binaries are cached in {metrics_dir}; nothing to do",
    ]


def test_metrics_server_alone_missing_is_built_in_its_own_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(versions.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    bin_dir = versions.bin_dir()
    bin_dir.mkdir(parents=True)
    for name in versions.BINARIES:
        fake_go(bin_dir, "exit 0").rename(bin_dir / name)

    assert build.missing()
    assert versions.metrics_server_bin_dir().parent != bin_dir.parent
    with pytest.raises(LocalClusterError, match="`go` was not found on PATH"):
        build.build(progress=lambda line: None)


def test_an_incomplete_bin_folder_is_rebuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(versions.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    bin_dir = versions.bin_dir()
    bin_dir.mkdir(parents=True)
    fake_go(bin_dir, "exit 0").rename(bin_dir / "etcd")

    assert "kwok" in versions.missing_binaries(bin_dir)
    with pytest.raises(LocalClusterError, match="`go` was not found on PATH"):
        build.build(progress=lambda line: None)


@pytest.mark.parametrize(
    ("seconds", "text"), [(3.14, "3.1s"), (59.9, "59.9s"), (61, "1m01s"), (671, "11m11s")]
)
def test_elapsed_times_read_well(seconds: float, text: str) -> None:
    assert build.format_seconds(seconds) == text
