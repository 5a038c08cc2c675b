"""Health checks → probes, essential, and dependsOn → init containers / native sidecars."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.translate.helpers import (
    container,
    first_container,
    paths,
    pod_spec,
    service,
    taskdef,
    template,
)


def probe(command: list[str], **timing: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "exec": {"command": command},
        "periodSeconds": 30,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    body.update(timing)
    return body


@pytest.mark.parametrize(
    ("command", "exec_command"),
    [
        (["CMD", "curl", "-f", "http://localhost/"], ["curl", "-f", "http://localhost/"]),
        (
            ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
            ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"],
        ),
    ],
)
def test_health_check_becomes_readiness_and_liveness(command: list[str], exec_command: list[str]) -> None:
    got = first_container(taskdef(container(healthCheck={"command": command})))
    assert got["readinessProbe"] == probe(exec_command, successThreshold=1)
    assert got["livenessProbe"] == probe(exec_command)
    assert "startupProbe" not in got


def test_health_check_timing_and_start_period() -> None:
    check = {"command": ["CMD", "true"], "interval": 10, "timeout": 2, "retries": 5, "startPeriod": 60}
    got = first_container(taskdef(container(healthCheck=check)))
    timing = {"periodSeconds": 10, "timeoutSeconds": 2}
    assert got["livenessProbe"] == {"exec": {"command": ["true"]}, **timing, "failureThreshold": 5}
    assert got["startupProbe"] == {"exec": {"command": ["true"]}, **timing, "failureThreshold": 6 + 5}


def test_none_health_check_means_no_probe_and_no_warning() -> None:
    td = taskdef(container(healthCheck={"command": ["NONE"]}))
    got = first_container(td)
    assert not {"readinessProbe", "livenessProbe", "startupProbe"} & set(got)
    assert template(td).warnings == []


def test_unknown_health_check_kind_is_not_run() -> None:
    td = taskdef(container(healthCheck={"command": ["curl", "-f", "http://localhost/"], "interval": 10}))
    got = first_container(td)
    assert not {"readinessProbe", "livenessProbe", "startupProbe"} & set(got)
    assert [str(w) for w in template(td).warnings] == [
        "containerDefinitions[0].healthCheck.command[0]: 'curl' is not CMD, CMD-SHELL or NONE: "
        "Docker ignores it, the check is not run"
    ]


@pytest.mark.parametrize("check", [{"interval": 10}, {"command": []}, {"command": ["CMD"]}])
def test_health_check_without_command_is_warned(check: dict[str, Any]) -> None:
    td = taskdef(container(healthCheck=check))
    assert "livenessProbe" not in first_container(td)
    assert paths(template(td)) == ["containerDefinitions[0].healthCheck.command"]


def test_non_essential_health_check_is_reported_not_probed() -> None:
    td = taskdef(
        container("main"), container("helper", essential=False, healthCheck={"command": ["CMD", "true"]})
    )
    helper = pod_spec(td)["containers"][1]
    assert "livenessProbe" not in helper
    assert paths(template(td)) == ["containerDefinitions[1].healthCheck"]


def test_grace_period_delays_liveness_only() -> None:
    td = taskdef(container(healthCheck={"command": ["CMD", "true"]}))
    deployment = service(td, healthCheckGracePeriodSeconds=120).objects[-1]
    got = deployment["spec"]["template"]["spec"]["containers"][0]
    assert got["livenessProbe"]["initialDelaySeconds"] == 120
    assert "initialDelaySeconds" not in got["readinessProbe"]


def test_success_dependency_becomes_an_init_container() -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "migrate", "condition": "SUCCESS"}]),
        container("migrate", essential=False, command=["migrate"]),
    )
    spec = pod_spec(td)
    assert [c["name"] for c in spec["initContainers"]] == ["migrate"]
    assert "restartPolicy" not in spec["initContainers"][0]
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert template(td).warnings == []


def test_complete_dependency_is_an_init_container_with_a_warning() -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "seed", "condition": "COMPLETE"}]),
        container("seed", essential=False),
    )
    assert [c["name"] for c in pod_spec(td)["initContainers"]] == ["seed"]
    assert paths(template(td)) == ["containerDefinitions[1].name"]


def test_start_dependency_becomes_a_native_sidecar_without_startup_probe() -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "proxy", "condition": "START"}]),
        container("proxy", healthCheck={"command": ["CMD", "true"]}),
    )
    sidecar = pod_spec(td)["initContainers"][0]
    assert sidecar["name"] == "proxy"
    assert sidecar["restartPolicy"] == "Always"
    assert "startupProbe" not in sidecar
    assert "livenessProbe" in sidecar


def test_healthy_dependency_becomes_a_native_sidecar_with_startup_probe() -> None:
    td = taskdef(
        container("sidecar", essential=False, dependsOn=[{"containerName": "nginx", "condition": "HEALTHY"}]),
        container("nginx", healthCheck={"command": ["CMD-SHELL", "curl -f localhost"], "retries": 2}),
    )
    spec = pod_spec(td)
    nginx = spec["initContainers"][0]
    assert nginx["restartPolicy"] == "Always"
    assert nginx["startupProbe"]["failureThreshold"] == 2
    assert [c["name"] for c in spec["containers"]] == ["sidecar"]


def test_init_containers_follow_their_own_dependencies() -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "proxy", "condition": "START"}]),
        container("proxy", dependsOn=[{"containerName": "config", "condition": "SUCCESS"}]),
        container("config", essential=False),
    )
    assert [c["name"] for c in pod_spec(td)["initContainers"]] == ["config", "proxy"]


@pytest.mark.parametrize(
    ("db", "also_warned"),
    [
        ({}, []),
        ({"healthCheck": {"command": ["NONE"]}}, []),
        (
            {"healthCheck": {"command": ["curl", "-f", "http://localhost/"]}},
            ["containerDefinitions[1].healthCheck.command[0]"],
        ),
    ],
    ids=["no health check", "NONE", "unknown kind"],
)
def test_healthy_dependency_on_a_container_whose_check_is_not_run_is_warned_and_only_ordered(
    db: dict[str, Any], also_warned: list[str]
) -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]),
        container("db", **db),
    )
    translation = template(td)
    assert paths(translation) == ["containerDefinitions[0].dependsOn[0].condition", *also_warned]
    assert "'db' runs no health check" in translation.warnings[0].message
    sidecar = pod_spec(td)["initContainers"][0]
    assert sidecar["name"] == "db" and sidecar["restartPolicy"] == "Always"
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & set(sidecar)


def test_restart_policy_in_a_service_is_native_and_ignored_codes_are_warned() -> None:
    td = taskdef(container(restartPolicy={"enabled": True, "ignoredExitCodes": [0]}))
    assert paths(template(td)) == ["containerDefinitions[0].restartPolicy.ignoredExitCodes"]


def test_non_essential_healthy_dependency_only_gets_a_startup_probe() -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "proxy", "condition": "HEALTHY"}]),
        container("proxy", essential=False, healthCheck={"command": ["CMD", "true"]}),
    )
    proxy = pod_spec(td)["initContainers"][0]
    assert "startupProbe" in proxy
    assert not {"readinessProbe", "livenessProbe"} & set(proxy)
    assert template(td).warnings == []


def test_non_essential_start_dependency_gets_no_probe() -> None:
    td = taskdef(
        container("app", dependsOn=[{"containerName": "proxy", "condition": "START"}]),
        container("proxy", essential=False, healthCheck={"command": ["CMD", "true"]}),
    )
    proxy = pod_spec(td)["initContainers"][0]
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & set(proxy)
    assert paths(template(td)) == ["containerDefinitions[1].healthCheck"]
