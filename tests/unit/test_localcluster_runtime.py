"""Running processes, ports, the state file, folders and the command's error handling (no cluster)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ecs_operator.cli import main
from ecs_operator.localcluster import cluster, paths, ports, processes, versions
from ecs_operator.localcluster.errors import LocalClusterError
from ecs_operator.localcluster.state import ClusterState, load, save

from tests.integration.waiting import wait_for


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_picked_ports_are_distinct_and_keep_the_fixed_ones(taken_port: int) -> None:
    chosen = ports.pick_ports(("a", "b", "c"), {"b": taken_port})

    assert chosen["b"] == taken_port
    assert len(set(chosen.values())) == 3


def test_a_taken_port_is_named_with_its_component(taken_port: int) -> None:
    assert not ports.is_free(taken_port)

    with pytest.raises(LocalClusterError) as error:
        ports.check_free({"kube-apiserver": taken_port, "etcd": ports.free_port()})

    assert f"port {taken_port} (kube-apiserver) on 127.0.0.1 is already in use" in str(error.value)
    assert "(etcd)" not in str(error.value)


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[processes.ProcessRecord]:
    record = processes.start(
        [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(600)"],
        tmp_path / "logs" / "sleeper.log",
    )
    yield record
    processes.stop(record, timeout=1)


def test_a_started_process_is_detached_recorded_and_logged(
    sleeper: processes.ProcessRecord, tmp_path: Path
) -> None:
    assert processes.is_running(sleeper)
    assert os.getsid(sleeper.pid) != os.getsid(0)
    assert os.getppid() != sleeper.pid
    log = tmp_path / "logs" / "sleeper.log"
    assert processes.start_time_of(sleeper.pid) == sleeper.start_time
    wait_for(lambda: "started" in log.read_text(encoding="utf-8"), timeout=10, message="the log line")


def test_stop_ends_the_process(sleeper: processes.ProcessRecord) -> None:
    processes.stop(sleeper)

    assert not processes.is_running(sleeper)
    assert processes.start_time_of(sleeper.pid) is None


def test_a_reused_pid_is_not_taken_for_ours(sleeper: processes.ProcessRecord) -> None:
    impostor = processes.ProcessRecord(pid=sleeper.pid, start_time=sleeper.start_time + 1, args=sleeper.args)

    assert not processes.is_running(impostor)
    processes.stop(impostor)
    assert processes.is_running(sleeper)


def test_a_missing_binary_is_explained(tmp_path: Path) -> None:
    with pytest.raises(
        LocalClusterError, match="missing-binary is missing or not executable; run `ecs-operator"
    ):
        processes.start([str(tmp_path / "missing-binary")], tmp_path / "missing.log")


def test_a_process_that_dies_is_seen_as_not_running(tmp_path: Path) -> None:
    record = processes.start(["/bin/sh", "-c", "sleep 0.3; exit 3"], tmp_path / "dies.log")

    wait_for(lambda: not processes.is_running(record), timeout=10, message="the process gone")


def test_strays_match_whole_paths_only(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_etcd = bin_dir / "etcd"
    shutil.copy(shutil.which("sh") or "/bin/sh", fake_etcd)
    state = tmp_path / ".local"
    mine = processes.start(
        [str(fake_etcd), "-c", "sleep 600; :", f"--data-dir={state}/etcd"], tmp_path / "mine.log"
    )
    try:
        # Right after the fork /proc still shows the parent's command line; wait for the exec.
        wait_for(
            lambda: Path(f"/proc/{mine.pid}/cmdline").read_bytes().startswith(os.fsencode(fake_etcd)),
            timeout=10,
            message="the fake etcd to be exec'd",
        )
        assert [stray.pid for stray in processes.strays(bin_dir, {f"{state}/dev/etcd"})] == []
        # The fake forks `sleep`: until that child has exec'd it is a second copy of the fake; wait it out.
        wait_for(
            lambda: [stray.pid for stray in processes.strays(bin_dir, {f"{state}/etcd"})] == [mine.pid],
            timeout=10,
            message="the fake etcd, and only it, to be found as a stray",
        )
    finally:
        processes.stop(mine, timeout=1)


def test_the_state_file_round_trips(tmp_path: Path) -> None:
    state = ClusterState(
        versions_key="k",
        bin_dir="/bin",
        ports={"etcd": 1, "kube-apiserver": 2},
        processes={"etcd": processes.ProcessRecord(pid=10, start_time=20, args=("/bin/etcd", "--x=1"))},
    )
    save(tmp_path / "state.json", state)

    assert load(tmp_path / "state.json") == state


def test_a_torn_state_file_reads_as_no_state(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"versionsKey": "k", "bin', encoding="utf-8")

    assert load(tmp_path / "state.json") is None
    assert load(tmp_path / "absent.json") is None


def test_the_repo_root_is_the_nearest_folder_with_our_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "ecs-operator"\n', encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text('[project]\nname = "other"\n', encoding="utf-8")
    deep = tmp_path / "other" / "deep"
    deep.mkdir()

    assert paths.repo_root(deep) == tmp_path
    assert paths.repo_root(Path("/")) == Path("/")


def test_the_state_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(paths.STATE_ENV, str(tmp_path / "elsewhere"))
    assert paths.state_dir() == tmp_path / "elsewhere"

    monkeypatch.delenv(paths.STATE_ENV)
    monkeypatch.chdir(Path(__file__).parent)
    assert paths.state_dir() == Path(__file__).resolve().parents[2] / ".local"


@pytest.fixture
def empty_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv(paths.STATE_ENV, str(state))
    return state


def test_status_of_a_cluster_never_started_exits_1(
    empty_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local-cluster", "status"]) == 1

    output = capsys.readouterr().out
    assert "running:    no (not started)" in output
    assert f"kubeconfig: {empty_state / 'kubeconfig'}" in output


def test_restart_without_a_cluster_says_what_to_run(
    empty_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local-cluster", "restart", "kube-apiserver"]) == 1

    assert capsys.readouterr().err == (
        f"error: no local cluster in {empty_state}; run `ecs-operator local-cluster up`\n"
    )


def test_down_without_a_cluster_does_nothing(empty_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local-cluster", "down"]) == 0

    assert "nothing to do" in capsys.readouterr().err


def test_a_dead_recorded_cluster_is_reported_with_the_fix(empty_state: Path) -> None:
    empty_state.mkdir()
    dead = processes.ProcessRecord(pid=2**22 + 1, start_time=1, args=("etcd",))
    save(
        empty_state / "state.json",
        ClusterState(versions_key="k", bin_dir="/nowhere", ports={}, processes={"etcd": dead}),
    )

    with pytest.raises(LocalClusterError) as error:
        cluster.require_running(cluster.layout())

    assert "is broken (etcd, kube-apiserver" in str(error.value)
    assert "run `ecs-operator local-cluster up` to recover it" in str(error.value)


def test_up_on_a_taken_apiserver_port_fails_before_starting_anything(
    empty_state: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    taken_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(versions.CACHE_ENV, str(tmp_path / "cache"))
    for folder, names in (
        (versions.bin_dir(), versions.BINARIES),
        (versions.metrics_server_bin_dir(), versions.METRICS_SERVER_BINARIES),
    ):
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
            (folder / name).chmod(0o755)
    monkeypatch.setenv(cluster.APISERVER_PORT_ENV, str(taken_port))

    assert main(["local-cluster", "up"]) == 1

    assert capsys.readouterr().err.startswith(
        f"error: port {taken_port} (kube-apiserver) on 127.0.0.1 is already in use"
    )
    assert not (empty_state / "logs").exists()


def test_a_malformed_apiserver_port_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cluster.APISERVER_PORT_ENV, "http")

    with pytest.raises(LocalClusterError, match="ECS_OPERATOR_APISERVER_PORT='http' is not a port number"):
        cluster.fixed_ports()


def test_an_unusable_state_folder_is_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    monkeypatch.setenv(paths.STATE_ENV, str(not_a_folder))

    assert main(["local-cluster", "down"]) == 1

    error = capsys.readouterr().err
    assert error.startswith("error: ") and str(not_a_folder) in error
    assert "Traceback" not in error


def test_without_proc_a_live_pid_is_running_and_there_are_no_strays(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sleeper: processes.ProcessRecord
) -> None:
    monkeypatch.setattr(processes, "PROC", tmp_path / "no-proc")

    assert processes.start_time_of(sleeper.pid) == 0
    assert processes.start_time_of(2**22 + 1) is None
    assert processes.strays(tmp_path, {str(tmp_path)}) == []
