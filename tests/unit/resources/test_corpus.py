"""Real ECS files from public projects: each validates, or fails with exactly the ECS rules it breaks.

The corpus lives outside the repo (`../shared/ecs-examples/`); the test is skipped when it is absent.
Every file has its expectation written down here; a new file fails until someone writes one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ecs_operator.resources import SpecError, parse_service, parse_task_definition

from tests import corpus

INVALID_JSON = "invalid JSON"

AGENT = "aws__amazon-ecs-agent__agent__functional_tests__testdata__taskdefinitions__"
FIRELENS = "aws-samples__amazon-ecs-firelens-examples__examples__"
INSIGHTS = (
    "aws-samples__amazon-cloudwatch-container-insights__ecs-task-definition-templates__deployment-mode__"
)
DEPLOY_ACTION = "aws-actions__amazon-ecs-deploy-task-definition__"

# File name -> the error paths expected (empty: valid), or INVALID_JSON when the file is not JSON as stored.
EXPECTED: dict[str, frozenset[str] | str] = {
    # taskdefs
    "2017387-jh__vw-aws-cloud-service__script__taskdef.json": frozenset(),
    # tags given as a map where ECS wants a list of {key, value}
    "AmaliTech-Training-Academy__talentradar-config-server-rw__.aws__task-definition.json": frozenset(
        {"tags"}
    ),
    "BraidFI-AI__watchman-java__.aws__task-definition.json": frozenset(),
    "COS301-SE-2023__Where-is-the-power__.aws__task-definition.json": frozenset(),
    DEPLOY_ACTION + "task-definition-run-task-volume-configuration.json": frozenset(),
    DEPLOY_ACTION + "task-definition-volume-configuration.json": frozenset(),
    INSIGHTS + "daemon-service__cwagent-ecs-instance-metric__cwagent-ecs-instance-metric.json": frozenset(),
    # {{networkmode}} and {{launchtype}} template placeholders are not enum values
    INSIGHTS + "replica-service__cwagent-prometheus__cwagent-prometheus-task-definition.json": frozenset(
        {"networkMode", "requiresCompatibilities[0]"}
    ),
    FIRELENS + "fluent-bit__cloudwatchlogs-emf__emf-over-tcp__task-definition-bridge.json": frozenset(),
    FIRELENS + "fluent-bit__datadog__task-definition.json": frozenset(),
    # a comma is missing upstream
    FIRELENS + "fluent-bit__dynatrace__task-definition.json": INVALID_JSON,
    FIRELENS + "fluent-bit__ecs-log-collection__task-definition-tail.json": frozenset(),
    FIRELENS + "fluent-bit__newrelic__example-task-definition.json": frozenset(),
    FIRELENS
    + "fluent-bit__parse-envoy-app-mesh__appmesh-firelens-colorteller-black-ecs-task-def.json": frozenset(),
    FIRELENS + "fluentd__multiline-logs__task-definition.json": frozenset(),
    "aws-samples__aws-containers-task-definitions__consul__ConsulClient.json": frozenset(),
    # awsvpc with hostPort 80 != containerPort 5601
    "aws-samples__aws-containers-task-definitions__kibana__kibana_ec2.json": frozenset(
        {"containerDefinitions[0].portMappings[0].hostPort"}
    ),
    # an unquoted $$$$START_PERIOD$$$$ template line
    AGENT + "container-health-windows__task-definition.json": INVALID_JSON,
    AGENT + "container-ordering-timedout__task-definition.json": frozenset(),
    AGENT + "init-process__task-definition.json": frozenset(),
    AGENT + "ipc-namespace-host-share__task-definition.json": frozenset(),
    AGENT + "nvidia-gpu__task-definition.json": frozenset(),
    AGENT + "secrets-environment-variables__task-definition.json": frozenset(),
    AGENT + "sysctl__task-definition.json": frozenset(),
    # the agent's private "inferenceDevices" key is not a ContainerDefinition member
    AGENT + "task-elastic-inference__task-definition.json": frozenset(
        {"containerDefinitions[0].inferenceDevices"}
    ),
    AGENT + "task-shared-vol-write__task-definition.json": frozenset(),
    AGENT + "tmpfs__task-definition.json": frozenset(),
    "hyperdxio__hyperdx__aws__task-definition.json": frozenset(),
    "jojo786__ghost-aws-ecs-pipeline__taskdef.json": frozenset(),
    # empty-string enums (versionConsistency, pidMode, ipcMode) mean "unset", as the AWS SDKs send them
    "neilkuan__cdk-agent-broker__ecs-task-def.json": frozenset(),
    # portMappings protocol "http" (ECS knows tcp and udp)
    "nkdchck__IaC-Mythical-Misfits__task-definition.json": frozenset(
        {"containerDefinitions[0].portMappings[0].protocol"}
    ),
    "zaru__ecs-service-connect-sample__ecs__internal-ecs-task-def.json": frozenset(),
    "zorrofox__aws-ecs-cicd-springboot-eureka__taskdef.json": frozenset(),
    # services
    "hyperdxio__hyperdx__aws__service-definition.json": frozenset(),
    # ecspresso service definitions leave taskDefinition to the tool
    "hyt-sasaki__alb_experiments__ecs-service-def.json": frozenset({"taskDefinition"}),
    "ionicd__wordpress-ecs__ecs-service.json": frozenset(),
    "jojo786__ghost-aws-ecs-pipeline__create-service.json": frozenset(),
    # a {{ env }} template as the deployment controller type
    "kayac__ecspresso__tests__ci__ecs-service-def.json": frozenset({"deploymentController.type"}),
    "nkdchck__IaC-Mythical-Misfits__service-definition.json": frozenset(),
    "zaru__ecs-service-connect-sample__ecs__client-ecs-service-def.json": frozenset({"taskDefinition"}),
    "zaru__ecs-service-connect-sample__ecs__internal-ecs-service-def.json": frozenset({"taskDefinition"}),
    "zorrofox__aws-ecs-cicd-springboot-eureka__create-service.json": frozenset(),
    # Terraform container definitions, placeholders substituted (see substitute())
    "Enterprise-CMCS__mac-fc-security-hub-collector-ecs-runner__container-definitions.tpl": frozenset(),
    "pagopa__b2b-portals__.infrastructure__task-definitions__cms_app.json.tpl": frozenset(),
    "pagopa__b2b-portals__apps__infrastructure__src__task-definitions__cms_app.json.tpl": frozenset(),
    "tarmac__automation-station-tf__env__taskdefinitions__generic_task_definition.tpl": frozenset(),
}

# Terraform placeholders spliced in unquoted stand for JSON values; quoted ones become their own name.
UNQUOTED_VALUES = {
    "cpu": "256",
    "memory": "512",
    "container_port": "1337",
    "portMappings": '[{"containerPort": 8080, "protocol": "tcp"}]',
    "secrets": '[{"name": "API_KEY", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/api-key"}]',
}
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
# Terraform's task definition resource around the container definitions supplies the task-level members.
FARGATE_TASK = {"family": "corpus", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"]}


def substitute(template: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        quoted = match.string[match.start() - 1 : match.start()] == '"' or _inside_string(match)
        if not quoted and name in UNQUOTED_VALUES:
            return UNQUOTED_VALUES[name]
        return re.sub(r"[^A-Za-z0-9-]", "-", name)

    return PLACEHOLDER.sub(value, template)


def _inside_string(match: re.Match[str]) -> bool:
    line_start = match.string.rfind("\n", 0, match.start()) + 1
    return match.string[line_start : match.start()].count('"') % 2 == 1


def load(path: Path) -> tuple[Callable[[dict[str, Any]], Any], dict[str, Any]]:
    if path.suffix == ".tpl":
        containers = json.loads(substitute(path.read_text()))
        return parse_task_definition, {
            **FARGATE_TASK,
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": containers,
        }
    data = json.loads(path.read_text())
    if path.parent.name == "services":
        return parse_service, data
    if isinstance(data.get("taskDefinition"), dict):
        data = data["taskDefinition"]  # describe-task-definition output; `convert` unwraps it the same way
    return parse_task_definition, data


def all_examples() -> list[Path]:
    return [path for kind in corpus.KINDS for path in corpus.example_files(kind)]


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
@pytest.mark.parametrize("path", all_examples(), ids=lambda path: path.name[:80])
def test_example_validates_or_breaks_only_its_rules(path: Path) -> None:
    assert path.name in EXPECTED, f"{path.name}: write down in EXPECTED what this file should do"
    expected = EXPECTED[path.name]
    if expected == INVALID_JSON:
        with pytest.raises(json.JSONDecodeError):
            load(path)
        return
    parse, data = load(path)
    try:
        parse(data)
    except SpecError as error:
        assert {e.path for e in error.errors} == expected, str(error)
    else:
        assert not expected, f"expected errors at {sorted(expected)}"


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
def test_every_expectation_has_its_file() -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in all_examples())


def test_substitution_makes_terraform_templates_json() -> None:
    template = '{"name": "${app}-${env}", "cpu": ${cpu}, "portMappings": ${portMappings}}'
    assert json.loads(substitute(template)) == {
        "name": "app-env",
        "cpu": 256,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
    }
