"""`local-cluster build`: compile the pinned control plane from Go modules into the versioned cache.

The binaries are built into a temporary folder and renamed into `<cache>/<versions>/bin` only when all of
them exist and run, so a killed build never leaves a `bin` folder that looks complete.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ecs_operator.localcluster import versions
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.gotool import find_go

HEARTBEAT_SECONDS = 30.0
LOG_TAIL_LINES = 20
KUBERNETES_MODULE = "k8s.io/kubernetes"
ETCD_MODULE = "go.etcd.io/etcd/server/v3"
KWOK_COMMAND = "sigs.k8s.io/kwok/cmd/kwok"
METRICS_SERVER_COMMAND = "sigs.k8s.io/metrics-server/cmd/metrics-server"
STRIP_FLAGS = "-s -w"

Progress = Callable[[str], None]


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def staging_modules(kubernetes_gomod: str) -> list[str]:
    """The modules k8s.io/kubernetes replaces with `./staging/...`: the go client ignores those replaces."""
    pattern = re.compile(r"^\s*(k8s\.io/\S+)\s+=>\s+\./staging/", re.MULTILINE)
    return pattern.findall(kubernetes_gomod)


def staging_version(kubernetes_version: str) -> str:
    """Staging modules are published as v0.<minor>.<patch> for Kubernetes 1.<minor>.<patch>."""
    major, rest = kubernetes_version.split(".", 1)
    if major != "1":
        raise ValueError(f"unexpected Kubernetes major version in {kubernetes_version!r}")
    return f"v0.{rest}"


def kubernetes_ldflags(kubernetes_version: str) -> str:
    """Stamp the version, so `/version` reports v1.x.y instead of v0.0.0 (kubectl warns about the skew)."""
    minor = kubernetes_version.split(".")[1]
    flags = [STRIP_FLAGS]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion=v{kubernetes_version}",
            f"-X {package}.gitMajor=1",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def log_tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class StepRunner:
    """Runs build steps one after another, each logged to its own file, with progress lines."""

    go: str
    logs: Path
    progress: Progress = print_progress
    started: float = field(default_factory=time.monotonic)
    count: int = 0

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", **extra}

    def run(self, name: str, args: Sequence[str], cwd: Path, extra_env: dict[str, str] | None = None) -> str:
        """Run `go <args>` in `cwd`; return its stdout; raise a LocalClusterError naming the step and log."""
        self.count += 1
        log_path = self.logs / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.log"
        step_start = time.monotonic()
        self.progress(f"[build] {name} ...")
        stdout_path = log_path.with_suffix(".stdout")
        with log_path.open("w", encoding="utf-8") as log, stdout_path.open("w", encoding="utf-8") as out:
            log.write(f"$ (cd {cwd} && go {' '.join(args)})\n")
            log.flush()
            process = subprocess.Popen(
                [self.go, *args],
                cwd=cwd,
                env=self.env(**(extra_env or {})),
                stdout=out,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
            while True:
                try:
                    returncode = process.wait(timeout=HEARTBEAT_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    self.progress(
                        f"[build] {name}: still running after {format_seconds(time.monotonic() - step_start)}"
                    )
                except BaseException:
                    process.kill()
                    process.wait()
                    raise
        stdout = stdout_path.read_text(encoding="utf-8", errors="replace")
        stdout_path.unlink()
        with log_path.open("a", encoding="utf-8") as log:
            log.write(stdout)
        if returncode != 0:
            raise LocalClusterError(
                f"build step '{name}' failed (go exited with {returncode}); last lines of its log:\n"
                f"{log_tail(log_path)}\nfull log: {log_path}"
            )
        now = time.monotonic()
        self.progress(
            f"[build] {name} done in {format_seconds(now - step_start)} "
            f"(total {format_seconds(now - self.started)})"
        )
        return stdout


@contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """Serialise builds of the same versions (two test runs starting at once share one build)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def build_kubernetes(
    runner: StepRunner, work: Path, out: Path, commands: Sequence[str] = versions.KUBERNETES_BINARIES
) -> None:
    """`commands` of k8s.io/kubernetes/cmd, built through a wrapper module that pins the staging modules."""
    k8s_version = versions.KUBERNETES_VERSION
    module_dir = fresh_dir(work / "kubernetes")
    runner.run("kubernetes: create the wrapper module", ["mod", "init", "local/k8sbins"], module_dir)
    info = json.loads(
        runner.run(
            "kubernetes: download its go.mod",
            ["mod", "download", "-json", f"{KUBERNETES_MODULE}@v{k8s_version}"],
            module_dir,
        )
    )
    staged = staging_modules(Path(info["GoMod"]).read_text(encoding="utf-8"))
    if not staged:
        raise LocalClusterError(f"{info['GoMod']} lists no ./staging replacements; the recipe needs updating")
    published = staging_version(k8s_version)
    runner.run(
        "kubernetes: pin the staging modules",
        ["mod", "edit", *(f"-replace={module}={module}@{published}" for module in staged)],
        module_dir,
    )
    packages = [f"{KUBERNETES_MODULE}/cmd/{name}" for name in commands]
    runner.run(
        "kubernetes: resolve dependencies",
        ["get", *(f"{package}@v{k8s_version}" for package in packages)],
        module_dir,
    )
    runner.run(
        f"kubernetes: compile {', '.join(commands)} (the long step)",
        ["build", "-trimpath", "-ldflags", kubernetes_ldflags(k8s_version), "-o", f"{out}/", *packages],
        module_dir,
    )


def build_etcd(runner: StepRunner, work: Path, out: Path, version: str = versions.ETCD_VERSION) -> None:
    module_dir = fresh_dir(work / "etcd")
    runner.run("etcd: create the wrapper module", ["mod", "init", "local/etcdbin"], module_dir)
    runner.run("etcd: resolve dependencies", ["get", f"{ETCD_MODULE}@v{version}"], module_dir)
    runner.run(
        "etcd: compile",
        ["build", "-trimpath", "-ldflags", STRIP_FLAGS, "-o", str(out / "etcd"), ETCD_MODULE],
        module_dir,
    )


def build_kwok(runner: StepRunner, work: Path, out: Path) -> None:
    module_dir = fresh_dir(work / "kwok")
    runner.run(
        "kwok: compile",
        ["install", "-trimpath", "-ldflags", STRIP_FLAGS, f"{KWOK_COMMAND}@v{versions.KWOK_VERSION}"],
        module_dir,
        {"GOBIN": str(out)},
    )


def build_metrics_server(runner: StepRunner, work: Path, out: Path) -> None:
    """Its go.mod has no replace directives, so `go install` builds it as released (with its version)."""
    version = versions.METRICS_SERVER_VERSION
    runner.run(
        "metrics-server: compile",
        [
            "install",
            "-trimpath",
            "-ldflags",
            f"{STRIP_FLAGS} -X k8s.io/client-go/pkg/version.gitVersion=v{version}",
            f"{METRICS_SERVER_COMMAND}@v{version}",
        ],
        fresh_dir(work / "metrics-server"),
        {"GOBIN": str(out)},
    )


# How to ask each binary for its version (the others take `--version`).
VERSION_ARGS = {"kubectl": ["version", "--client"], "kubeadm": ["version"], "kind": ["version"]}


def check_binaries(directory: Path, names: Sequence[str] = versions.BINARIES) -> None:
    missing = versions.missing_binaries(directory, tuple(names))
    if missing:
        raise LocalClusterError(f"the build finished but {', '.join(missing)} are missing in {directory}")
    for name in names:
        args = VERSION_ARGS.get(name, ["--version"])
        result = subprocess.run(
            [str(directory / name), *args], capture_output=True, text=True, check=False, timeout=60
        )
        if result.returncode != 0:
            raise LocalClusterError(f"{directory / name} does not run: {result.stderr.strip()[-500:]}")


Steps = Callable[[StepRunner, Path, Path], None]


def build_cached(target: Path, names: Sequence[str], steps: Steps, announce: str, progress: Progress) -> Path:
    """Run `steps` into `<target>.partial` unless `target` holds every binary in `names`; return `target`.

    A lock in the parent folder makes concurrent builds of the same versions share one build; the partial
    folder is renamed into place only when every binary exists and runs.
    """
    if not versions.missing_binaries(target, tuple(names)):
        progress(f"[build] all binaries are cached in {target}; nothing to do")
        return target
    go = find_go()
    root = target.parent
    with build_lock(root):
        if not versions.missing_binaries(target, tuple(names)):
            progress(f"[build] another build finished meanwhile; binaries are in {target}")
            return target
        shutil.rmtree(target, ignore_errors=True)
        partial = fresh_dir(root / "bin.partial")
        logs = fresh_dir(root / "logs")
        work = root / "work"
        runner = StepRunner(go=go, logs=logs, progress=progress)
        progress(f"[build] building {announce} with {go}; logs in {logs}")
        steps(runner, work, partial)
        check_binaries(partial, names)
        os.replace(partial, target)
        shutil.rmtree(work, ignore_errors=True)
        progress(f"[build] done in {format_seconds(time.monotonic() - runner.started)}: {target}")
    return target


def _control_plane_steps(runner: StepRunner, work: Path, out: Path) -> None:
    build_etcd(runner, work, out)
    build_kwok(runner, work, out)
    build_kubernetes(runner, work, out)


CONTROL_PLANE = (
    f"Kubernetes {versions.KUBERNETES_VERSION}, etcd {versions.ETCD_VERSION} and kwok "
    f"{versions.KWOK_VERSION} (about 11 minutes on 2 cores with an empty Go cache)"
)


def build(progress: Progress = print_progress) -> Path:
    """Build the control plane and metrics-server unless cached; return the control plane's folder."""
    built = build_cached(versions.bin_dir(), versions.BINARIES, _control_plane_steps, CONTROL_PLANE, progress)
    build_cached(
        versions.metrics_server_bin_dir(),
        versions.METRICS_SERVER_BINARIES,
        build_metrics_server,
        f"metrics-server {versions.METRICS_SERVER_VERSION} (about 3 minutes on 2 cores)",
        progress,
    )
    return built


def missing() -> bool:
    """True when `build` has something to do."""
    return bool(
        versions.missing_binaries(versions.bin_dir())
        or versions.missing_binaries(versions.metrics_server_bin_dir(), versions.METRICS_SERVER_BINARIES)
    )
