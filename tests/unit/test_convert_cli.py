"""The `ecs-operator convert` contract: inputs, outputs, streams and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.cli import main

from tests import corpus
from tests.unit.api.test_corpus import EXPECTED
from tests.unit.translate.openapi import semantic_errors, validate_object

TASKDEF: dict[str, Any] = {
    "family": "web",
    "networkMode": "awsvpc",
    "containerDefinitions": [
        {
            "name": "nginx",
            "image": "nginx:1.27",
            "memory": 256,
            "portMappings": [{"containerPort": 80, "name": "http"}],
        }
    ],
}
SERVICE: dict[str, Any] = {
    "serviceName": "web",
    "taskDefinition": "web:1",
    "desiredCount": 2,
    "loadBalancers": [{"containerName": "nginx", "containerPort": 80}],
}


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def convert(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["convert", *args])
    out, err = capsys.readouterr()
    return code, out, err


def kinds(out: str) -> list[str]:
    return [doc["kind"] for doc in yaml.safe_load_all(out)]


def test_register_input_prints_a_pod_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = convert(capsys, write(tmp_path, "td.json", TASKDEF))
    assert (code, err) == (0, "")
    (template,) = yaml.safe_load_all(out)
    assert template["kind"] == "PodTemplate"
    assert template["metadata"]["name"] == "web"
    assert template["metadata"]["namespace"] == "default"
    assert template["metadata"]["labels"]["ecs.operator.dev/cluster"] == "default"


def test_describe_output_with_wrapper_keeps_revision_and_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    described = {
        "taskDefinition": {
            **TASKDEF,
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/web:7",
            "revision": 7,
            "status": "ACTIVE",
            "compatibilities": ["EC2", "FARGATE"],
            "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
            "registeredAt": "2024-01-01T00:00:00Z",
        },
        "tags": [{"key": "team", "value": "web"}],
    }
    code, out, err = convert(capsys, write(tmp_path, "described.json", described))
    assert (code, err) == (0, "")
    (template,) = yaml.safe_load_all(out)
    assert template["metadata"]["labels"]["ecs.operator.dev/revision"] == "7"
    assert template["metadata"]["annotations"] == {"ecs.operator.dev/tags": '{"team":"web"}'}


def test_describe_output_without_wrapper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    described = {
        **TASKDEF,
        "revision": 3,
        "status": "ACTIVE",
        "taskDefinitionArn": "arn:aws:ecs:x:1:task-definition/web:3",
    }
    code, out, _ = convert(capsys, write(tmp_path, "described.json", described))
    assert code == 0
    assert next(yaml.safe_load_all(out))["metadata"]["labels"]["ecs.operator.dev/revision"] == "3"


def test_container_definition_list_takes_the_family_from_the_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = convert(capsys, write(tmp_path, "billing-api.json", TASKDEF["containerDefinitions"]))
    assert code == 0
    assert next(yaml.safe_load_all(out))["metadata"]["labels"]["ecs.operator.dev/family"] == "billing-api"


def test_standard_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(TASKDEF)))
    code, out, _ = convert(capsys, "-")
    assert code == 0
    assert kinds(out) == ["PodTemplate"]


def test_yaml_input_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = convert(capsys, write(tmp_path, "td.yaml", yaml.safe_dump(TASKDEF)))
    assert code == 0
    assert kinds(out) == ["PodTemplate"]


def test_service_gives_workload_and_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = convert(
        capsys,
        write(tmp_path, "td.json", TASKDEF),
        "--service",
        write(tmp_path, "svc.json", SERVICE),
        "--cluster",
        "prod",
        "--namespace",
        "shop",
    )
    assert (code, err) == (0, "")
    docs = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in docs] == ["Service", "Deployment"]
    assert {d["metadata"]["namespace"] for d in docs} == {"shop"}
    assert docs[1]["metadata"]["labels"]["ecs.operator.dev/cluster"] == "prod"


def test_namespace_defaults_to_the_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = convert(capsys, write(tmp_path, "td.json", TASKDEF), "--cluster", "prod")
    assert next(yaml.safe_load_all(out))["metadata"]["namespace"] == "prod"


def test_describe_services_output_ignores_output_only_members(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    described = {
        "services": [
            {
                **SERVICE,
                "serviceArn": "arn:aws:ecs:us-east-1:1:service/demo/web",
                "clusterArn": "arn:aws:ecs:us-east-1:1:cluster/demo",
                "status": "ACTIVE",
                "runningCount": 2,
                "pendingCount": 0,
                "deployments": [],
                "events": [],
                "createdAt": "2024-01-01T00:00:00Z",
            }
        ],
        "failures": [],
    }
    code, out, err = convert(
        capsys, write(tmp_path, "td.json", TASKDEF), "--service", write(tmp_path, "s.json", described)
    )
    assert (code, err) == (0, "")
    assert kinds(out) == ["Service", "Deployment"]


def test_output_crs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = convert(
        capsys,
        write(tmp_path, "td.json", TASKDEF),
        "--service",
        write(tmp_path, "s.json", SERVICE),
        "--output",
        "crs",
    )
    assert code == 0
    task_definition, service = yaml.safe_load_all(out)
    assert task_definition["apiVersion"] == "ecs.operator.dev/v1alpha1"
    assert task_definition["kind"] == "EcsTaskDefinition"
    assert task_definition["spec"]["family"] == "web"
    assert "namespace" not in task_definition["metadata"]  # cluster-scoped (regional)
    assert service["kind"] == "EcsService"
    assert service["spec"]["taskDefinition"] == "web"
    assert service["spec"]["desiredCount"] == 2


def test_warnings_go_to_standard_error_with_exit_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taskdef = {
        **TASKDEF,
        "containerDefinitions": [
            {
                **TASKDEF["containerDefinitions"][0],
                "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}],
            }
        ],
    }
    code, out, err = convert(capsys, write(tmp_path, "td.json", taskdef))
    assert code == 0
    assert out.startswith("---\napiVersion: v1\n")
    assert err.splitlines() == [
        "warning: containerDefinitions[0].ulimits: Kubernetes has no per-container ulimits "
        "(set them on the node runtime); ignored"
    ]


def test_a_health_check_docker_ignores_converts_without_probes_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unchecked = {
        **TASKDEF["containerDefinitions"][0],
        "healthCheck": {"command": ["curl", "-f", "http://localhost/"]},
    }
    app = {
        "name": "app",
        "image": "app:1",
        "memory": 64,
        "dependsOn": [{"containerName": "nginx", "condition": "HEALTHY"}],
    }
    code, out, err = convert(
        capsys, write(tmp_path, "td.json", {**TASKDEF, "containerDefinitions": [unchecked, app]})
    )
    assert code == 0
    assert "Probe" not in out
    assert [line.split(": ")[1] for line in err.splitlines()] == [
        "containerDefinitions[0].healthCheck.command[0]",
        "containerDefinitions[1].dependsOn[0].condition",
    ]


def test_invalid_input_names_the_fields_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taskdef = {
        "family": "web",
        "containerDefinitions": [{"name": "a", "image": "x", "memory": 64, "bogus": 1}],
    }
    code, out, err = convert(capsys, write(tmp_path, "td.json", taskdef))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: containerDefinitions[0].bogus: unknown member: ECS has no such field here"
    ]


def test_invalid_service_is_reported_with_its_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = convert(
        capsys,
        write(tmp_path, "td.json", TASKDEF),
        "--service",
        write(tmp_path, "s.json", {**SERVICE, "desiredCount": -1}),
    )
    assert (code, out) == (1, "")
    assert err.startswith("error: --service: desiredCount: ")


@pytest.mark.parametrize(
    ("balancer", "error"),
    [
        (
            {"containerName": "web", "containerPort": 80},
            "loadBalancers[0].containerName: The container web does not exist in the task definition.",
        ),
        (
            {"containerName": "nginx", "containerPort": 8080},
            "loadBalancers[0].containerPort: The container nginx did not have a container port 8080 defined.",
        ),
    ],
)
def test_a_load_balancer_the_task_definition_cannot_serve_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], balancer: dict[str, Any], error: str
) -> None:
    code, out, err = convert(
        capsys,
        write(tmp_path, "td.json", TASKDEF),
        "--service",
        write(tmp_path, "s.json", {**SERVICE, "loadBalancers": [balancer]}),
    )
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"error: --service: {error}"]


def test_unreadable_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = convert(capsys, str(tmp_path / "missing.json"))
    assert (code, out) == (1, "")
    assert err == f"error: cannot read {tmp_path / 'missing.json'}: No such file or directory\n"


def test_bad_json_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = convert(
        capsys, write(tmp_path, "bad.json", '{"family": "web",\n  "containerDefinitions": [${containers}]}')
    )
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {tmp_path / 'bad.json'}: not valid JSON or YAML: ")
    assert "(line 2, column" in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--output", "helm", "td.json"],
        ["-", "--service", "-"],
        ["td.json", "--bogus"],
        ["td.json", "--namespace", "Not_A_Namespace"],
        ["td.json", "--cluster", "bad name"],
        ["td.json", "--cluster", "My_Cluster"],
    ],
)
def test_bad_usage_exits_two(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["convert", *args])
    assert exited.value.code == 2
    assert capsys.readouterr().out == ""


def test_output_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = (write(tmp_path, "td.json", TASKDEF), "--service", write(tmp_path, "s.json", SERVICE))
    assert convert(capsys, *args) == convert(capsys, *args)


def test_the_installed_command_keeps_streams_apart(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecs_operator", "convert", "-"],
        input=json.dumps(
            [
                {
                    "name": "a",
                    "image": "x",
                    "memory": 64,
                    "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 1}],
                }
            ]
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert kinds(result.stdout) == ["PodTemplate"]
    assert result.stderr.startswith("warning: containerDefinitions[0].ulimits: ")


def corpus_files(kind: str) -> list[Path]:
    return corpus.example_files(kind) if corpus.available() else []


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
@pytest.mark.parametrize(
    "path", corpus_files("taskdefs") + corpus_files("containerdefs"), ids=lambda p: p.name
)
def test_corpus_converts_or_explains(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = convert(capsys, str(path))
    if code == 0:
        for document in yaml.safe_load_all(out):
            assert validate_object(document) + semantic_errors(document) == []
        assert all(line.startswith("warning: ") for line in err.splitlines())
    else:
        assert code == 1
        assert out == ""
        assert err and all(line.startswith("error: ") for line in err.splitlines())


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
@pytest.mark.parametrize("service", corpus_files("services"), ids=lambda p: p.name)
def test_corpus_services_convert_with_a_task_definition_that_serves_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], service: Path
) -> None:
    taskdef = corpus.task_definition_for(service, corpus_files("taskdefs")[0], tmp_path)
    code, out, err = convert(capsys, str(taskdef), "--service", str(service))
    # convert supplies the taskDefinition a service file leaves to its deploy tool
    refused = EXPECTED[service.name] - {"taskDefinition"}
    assert code == (1 if refused else 0), err
    if not refused:
        assert "Deployment" in kinds(out)


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
def test_most_of_the_corpus_converts(capsys: pytest.CaptureFixture[str]) -> None:
    files = corpus_files("taskdefs")
    converted = [path.name for path in files if convert(capsys, str(path))[0] == 0]
    assert len(converted) >= len(files) * 2 // 3, converted


@pytest.mark.parametrize("value", ["y", "No", "on", "1e3", "0x1F", "1:20", ".inf", "80", "+1", "nan"])
def test_output_quotes_strings_yaml_1_1_readers_would_retype(value: str) -> None:
    from ecs_operator.convert import dump

    assert f"- '{value}'\n" in dump([{"values": [value]}])


def test_create_service_output_and_custom_resource_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resource = {
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsTaskDefinition",
        "metadata": {"name": "web"},
    }
    taskdef = write(tmp_path, "td.yaml", yaml.safe_dump({**resource, "spec": TASKDEF}))
    created = write(tmp_path, "created.json", {"service": {**SERVICE, "status": "ACTIVE", "runningCount": 0}})
    code, out, err = convert(capsys, taskdef, "--service", created)
    assert (code, err) == (0, "")
    assert kinds(out) == ["Service", "Deployment"]


def test_describe_services_with_several_services_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    described = write(tmp_path, "s.json", {"services": [SERVICE, SERVICE], "failures": []})
    code, out, err = convert(capsys, write(tmp_path, "td.json", TASKDEF), "--service", described)
    assert (code, out) == (1, "")
    assert err == "error: services: --service needs exactly one service, found 2\n"


def test_crs_output_still_reports_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taskdef = {**TASKDEF, "proxyConfiguration": {"containerName": "nginx"}}
    code, out, err = convert(capsys, write(tmp_path, "td.json", taskdef), "--output", "crs")
    assert code == 0
    assert kinds(out) == ["EcsTaskDefinition"]
    assert err.startswith("warning: proxyConfiguration: ")


def test_cluster_names_that_are_no_namespace_need_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = convert(
        capsys, write(tmp_path, "td.json", TASKDEF), "--cluster", "My_Cluster", "--namespace", "shop"
    )
    assert code == 0
    assert next(yaml.safe_load_all(out))["metadata"]["labels"]["ecs.operator.dev/cluster"] == "My_Cluster"
