"""RunTask on real containers: exit codes, dependsOn, stopTimeout, task volumes, environment and secrets,
entryPoint/command, and logs read back with `kubectl logs`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.integration.operator_helpers import Cluster, run_task
from tests.integration.realnode.conftest import OPERATOR_IMAGE
from tests.integration.realnode.workloads import (
    BUSYBOX,
    container_entry,
    describe,
    logs,
    marks,
    shell,
    sleep_forever,
    stopped,
    task_definition,
    tasks,
)
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.realnode]


def wait_stopped(cluster: Cluster, name: str, timeout: float = 120) -> dict[str, Any]:
    return wait_for(
        lambda: stopped(cluster, name),
        timeout=timeout,
        message=f"task {name} STOPPED; {describe(cluster, 'ecstask', name)}",
    )


def test_an_essential_container_exiting_1_stops_the_task_with_its_exit_code(real_cluster: Cluster) -> None:
    real_cluster.apply(
        task_definition(
            real_cluster.family("crash"),
            shell("app", "mark started; sleep 1; echo 'giving up'; exit 1", essential=True),
            sleep_forever("sidecar", essential=False),
        ),
        run_task("crash", real_cluster.family("crash")),
    )

    entry = wait_stopped(real_cluster, "crash")

    assert entry["stopCode"] == "EssentialContainerExited"
    assert entry["stoppedReason"] == "Essential container in task exited"
    assert container_entry(entry, "app")["exitCode"] == 1
    degraded = real_cluster.wait_condition("ecstask", "crash", "Degraded")
    assert "app exited with code 1" in degraded["message"]


def test_depends_on_orders_containers_by_their_own_start_times(real_cluster: Cluster) -> None:
    healthy_when_ready = {"command": ["CMD-SHELL", "test -f /tmp/ready"], "interval": 5, "retries": 3}
    real_cluster.apply(
        task_definition(
            real_cluster.family("ordered"),
            shell("migrate", "mark start; sleep 2; mark end; exit 0", essential=False),
            shell("warmup", "mark start; sleep 1; mark end; exit 0", essential=False),
            shell(
                "cache",
                "mark start; sleep 2; touch /tmp/ready; mark ready; while true; do sleep 1; done",
                essential=False,
                healthCheck=healthy_when_ready,
            ),
            sleep_forever(
                "app",
                essential=True,
                dependsOn=[
                    {"containerName": "migrate", "condition": "SUCCESS"},
                    {"containerName": "warmup", "condition": "COMPLETE"},
                    {"containerName": "cache", "condition": "HEALTHY"},
                ],
            ),
        ),
        run_task("ordered", real_cluster.family("ordered")),
    )
    real_cluster.wait_condition("ecstask", "ordered", "Ready", timeout=120)
    pod = tasks(real_cluster, "ordered")[0]["podName"]

    app = wait_for(
        lambda: marks(logs(real_cluster, pod, "app")), timeout=60, message="the app container's start mark"
    )
    migrate, warmup, cache = (marks(logs(real_cluster, pod, name)) for name in ("migrate", "warmup", "cache"))
    assert app["start"] >= migrate["end"], (migrate, app)  # SUCCESS: after it exited 0
    assert app["start"] >= warmup["end"], (warmup, app)  # COMPLETE: after it exited
    assert app["start"] >= cache["ready"], (cache, app)  # HEALTHY: after its health check passed


def test_a_failed_success_dependency_never_starts_the_dependent(real_cluster: Cluster) -> None:
    real_cluster.apply(
        task_definition(
            real_cluster.family("blocked"),
            shell("migrate", "mark start; exit 4", essential=False),
            shell(
                "app",
                "mark start; exit 0",
                essential=True,
                dependsOn=[{"containerName": "migrate", "condition": "SUCCESS"}],
            ),
        ),
        run_task("blocked", real_cluster.family("blocked")),
    )

    entry = wait_stopped(real_cluster, "blocked")

    assert container_entry(entry, "migrate")["exitCode"] == 4
    assert "exitCode" not in container_entry(entry, "app")
    never_started = real_cluster.kubectl(
        "logs", "-n", real_cluster.namespace, entry["podName"], "-c", "app", check=False
    )
    assert never_started.returncode != 0 and "waiting to start" in never_started.stderr


def test_stop_timeout_is_the_time_between_sigterm_and_sigkill(real_cluster: Cluster, host_dir: Path) -> None:
    stop_timeout = 4
    record = "/record/marks"
    ignores_term = f"trap 'mark term {record}' TERM; "
    real_cluster.apply(
        task_definition(
            real_cluster.family("stubborn"),
            shell(
                "app",
                f"mark start {record}; while true; do mark tick {record}; sleep 1; done",
                term=ignores_term,
                stopTimeout=stop_timeout,
                mountPoints=[{"sourceVolume": "record", "containerPath": "/record"}],
            ),
            volumes=[{"name": "record", "host": {"sourcePath": str(host_dir)}}],
        ),
        run_task("stubborn", real_cluster.family("stubborn")),
    )
    real_cluster.wait_condition("ecstask", "stubborn", "Ready")
    wait_for(lambda: (host_dir / "marks").exists(), timeout=60, message="the container's first mark")

    real_cluster.kubectl(
        "patch", "ecstask", "stubborn", "-n", real_cluster.namespace, "--type=merge",
        "-p", '{"spec":{"desiredStatus":"STOPPED"}}',
    )  # fmt: skip
    entry = wait_stopped(real_cluster, "stubborn")

    lines = (host_dir / "marks").read_text().splitlines()
    term = next(float(line.split()[2]) for line in lines if line.startswith("mark term "))
    last_tick = max(float(line.split()[2]) for line in lines if line.startswith("mark tick "))
    # It ignored SIGTERM and kept ticking (once a second) until SIGKILL came stopTimeout seconds later.
    assert stop_timeout - 1.5 <= last_tick - term <= stop_timeout + 1.5, lines[-8:]
    assert entry["stopCode"] == "UserInitiated"


def test_a_task_volume_written_by_one_container_is_read_by_another(real_cluster: Cluster) -> None:
    shared = [{"sourceVolume": "shared", "containerPath": "/shared"}]
    real_cluster.apply(
        task_definition(
            real_cluster.family("handover"),
            shell(
                "writer", "echo 'written by the writer' > /shared/note", essential=False, mountPoints=shared
            ),
            shell(
                "reader",
                "cat /shared/note",
                essential=True,
                mountPoints=shared,
                dependsOn=[{"containerName": "writer", "condition": "SUCCESS"}],
            ),
            volumes=[{"name": "shared"}],
        ),
        run_task("handover", real_cluster.family("handover")),
    )

    entry = wait_stopped(real_cluster, "handover")

    assert container_entry(entry, "reader")["exitCode"] == 0
    assert logs(real_cluster, entry["podName"], "reader").strip() == "written by the writer"


def test_environment_and_a_secret_reference_are_visible_in_the_container(real_cluster: Cluster) -> None:
    password = "not-a-real-password"
    real_cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db-password", "namespace": real_cluster.namespace},
            "data": {"value": base64.b64encode(password.encode()).decode()},
        }
    )
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"
    real_cluster.apply(
        task_definition(
            real_cluster.family("configured"),
            shell(
                "app",
                'echo "GREETING=$GREETING"; echo "DB_PASSWORD=$DB_PASSWORD"',
                essential=True,
                environment=[{"name": "GREETING", "value": "hello from the task definition"}],
                secrets=[{"name": "DB_PASSWORD", "valueFrom": arn}],
            ),
        ),
        run_task("configured", real_cluster.family("configured")),
    )

    entry = wait_stopped(real_cluster, "configured")

    printed = logs(real_cluster, entry["podName"], "app").splitlines()
    assert "GREETING=hello from the task definition" in printed
    assert f"DB_PASSWORD={password}" in printed


def test_entry_point_and_command_run_as_docker_runs_them(real_cluster: Cluster) -> None:
    """entryPoint replaces the image's ENTRYPOINT and command its CMD, as with `docker run`."""
    both = {"name": "both", "image": BUSYBOX, "memory": 64, "essential": False}
    both |= {"entryPoint": ["/bin/echo", "entry"], "command": ["cmd-1", "cmd 2"]}
    # The operator image's ENTRYPOINT is `ecs-operator run`: command only becomes its arguments.
    command_only = {"name": "command-only", "image": OPERATOR_IMAGE, "memory": 256, "essential": False}
    command_only |= {"command": ["--help"]}
    shell_args = {"name": "shell-args", "image": BUSYBOX, "memory": 64, "essential": False}
    shell_args |= {"entryPoint": ["sh", "-c"], "command": ['echo "$0|$1"', "zero", "one two"]}
    real_cluster.apply(
        task_definition(
            real_cluster.family("argv"),
            both,
            command_only,
            shell_args,
            shell(
                "done",
                "echo done",
                essential=True,
                dependsOn=[
                    {"containerName": name, "condition": "COMPLETE"}
                    for name in ("both", "command-only", "shell-args")
                ],
            ),
        ),
        run_task("argv", real_cluster.family("argv")),
    )

    entry = wait_stopped(real_cluster, "argv")

    pod = entry["podName"]
    # A finished task keeps its Pod, so `kubectl logs` still reads every container's output.
    finished = real_cluster.get("pod", pod)
    assert finished is not None and not finished["metadata"].get("deletionTimestamp")
    assert logs(real_cluster, pod, "both").strip() == "entry cmd-1 cmd 2"
    assert logs(real_cluster, pod, "command-only").startswith("usage: ecs-operator run")
    assert logs(real_cluster, pod, "shell-args").strip() == "zero|one two"
    assert [c.get("exitCode") for c in entry["containers"]] == [0, 0, 0, 0]
    assert len(tasks(real_cluster, "argv")) == 1
