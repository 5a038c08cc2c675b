"""The generated CRDs on a real API server: installed, admission rules refuse bad specs naming the field,
`kubectl get ecs`, `kubectl explain`, the scale subresource and permissive status writes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml
from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.api import SpecError, parse_cluster, parse_service, parse_task, parse_task_definition

pytestmark = pytest.mark.integration

Kubectl = Callable[..., CompletedProcess[str]]
CRDS = Path(__file__).resolve().parents[2] / "crds"
API = f"{API_GROUP}/{API_VERSION}"

TASK_DEFINITION = {
    "family": "web",
    "containerDefinitions": [{"name": "nginx", "image": "nginx:1.27", "memory": 256, "essential": True}],
}
SERVICE = {"taskDefinition": "web", "desiredCount": 2, "launchType": "EC2"}
# Task definitions are regional: EcsTaskDefinition is cluster-scoped, like EcsCluster.
CLUSTER_SCOPED = ("EcsCluster", "EcsTaskDefinition")


def manifest(kind: str, name: str, spec: dict[str, Any], namespace: str | None = None) -> str:
    metadata: dict[str, Any] = {"name": name}
    if namespace and kind not in CLUSTER_SCOPED:
        metadata["namespace"] = namespace
    return json.dumps({"apiVersion": API, "kind": kind, "metadata": metadata, "spec": spec})


def apply(kubectl: Kubectl, document: str, check: bool = True) -> CompletedProcess[str]:
    return kubectl(
        "apply", "--server-side", "--field-manager=ecs-tests", "-f", "-", input=document, check=check
    )


@pytest.fixture
def cluster_name(kubectl: Kubectl, ecs_crds: list[str]) -> Iterator[str]:
    name = f"crd-test-{uuid.uuid4().hex[:8]}"
    yield name
    kubectl("delete", "ecscluster", name, "--ignore-not-found", "--wait=false")


@pytest.fixture
def task_definition_name(kubectl: Kubectl, ecs_crds: list[str]) -> Iterator[str]:
    """A name of the test's own for an EcsTaskDefinition (account-wide: it outlives the test's namespace)."""
    name = f"crd-test-{uuid.uuid4().hex[:8]}"
    yield name
    kubectl("delete", "ecstaskdefinition", name, "--ignore-not-found", "--wait=false")


def test_every_crd_is_established_and_structural(kubectl: Kubectl, ecs_crds: list[str]) -> None:
    for path in sorted(CRDS.glob("*.yaml")):
        name = yaml.safe_load(path.read_text())["metadata"]["name"]
        crd = json.loads(kubectl("get", "crd", name, "-o", "json").stdout)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", name
        assert conditions.get("NonStructuralSchema") is None, name


def test_kubectl_get_ecs_lists_all_kinds(
    kubectl: Kubectl, namespace: str, cluster_name: str, task_definition_name: str
) -> None:
    family = task_definition_name
    apply(kubectl, manifest("EcsCluster", cluster_name, {}))
    apply(kubectl, manifest("EcsTaskDefinition", family, {**TASK_DEFINITION, "family": family}))
    apply(kubectl, manifest("EcsService", "web", {**SERVICE, "taskDefinition": family}, namespace))
    apply(kubectl, manifest("EcsTask", "once", {"taskDefinition": family}, namespace))
    listed = kubectl("get", "ecs", "-n", namespace, "-o", "name").stdout.split()
    for expected in (
        f"ecscluster.{API_GROUP}/{cluster_name}",
        f"ecstaskdefinition.{API_GROUP}/{family}",
        f"ecsservice.{API_GROUP}/web",
        f"ecstask.{API_GROUP}/once",
    ):
        assert expected in listed
    assert kubectl("get", "ecstd", family, "-o", "name").stdout.strip()
    for short_name, name in (("ecssvc", "web"), ("ecstask", "once")):
        assert kubectl("get", short_name, name, "-n", namespace, "-o", "name").stdout.strip()
    table = kubectl("get", "ecssvc", "-n", namespace).stdout.splitlines()[0].split()
    assert table[:4] == ["NAME", "STATUS", "DESIRED", "RUNNING"]


def test_kubectl_explain_deployment_configuration(kubectl: Kubectl, ecs_crds: list[str]) -> None:
    explained = kubectl("explain", "ecsservice.spec.deploymentConfiguration").stdout
    for member in ("deploymentCircuitBreaker", "maximumPercent", "minimumHealthyPercent"):
        assert member in explained
    container = kubectl("explain", "ecstaskdefinition.spec.containerDefinitions.healthCheck").stdout
    assert "startPeriod" in container


def with_container(**changes: Any) -> dict[str, Any]:
    container = {**TASK_DEFINITION["containerDefinitions"][0], **changes}  # type: ignore[index]
    return {**TASK_DEFINITION, "containerDefinitions": [container]}


REFUSED: list[tuple[str, str, dict[str, Any], list[str]]] = [
    # (case, kind, spec, fragments the API server's message must contain)
    ("unknown member", "EcsTaskDefinition", {**TASK_DEFINITION, "familly": "x"}, [".spec.familly"]),
    (
        "family missing",
        "EcsTaskDefinition",
        {"containerDefinitions": TASK_DEFINITION["containerDefinitions"]},
        ["spec.family"],
    ),
    (
        "network mode enum",
        "EcsTaskDefinition",
        {**TASK_DEFINITION, "networkMode": "overlay"},
        ["spec.networkMode", "Unsupported value"],
    ),
    (
        "no essential container",
        "EcsTaskDefinition",
        with_container(essential=False),
        ["at least one container must be essential"],
    ),
    (
        "duplicate container names",
        "EcsTaskDefinition",
        {**TASK_DEFINITION, "containerDefinitions": TASK_DEFINITION["containerDefinitions"] * 2},  # type: ignore[operator]
        ["container names must be unique"],
    ),
    (
        "memoryReservation above memory",
        "EcsTaskDefinition",
        with_container(memoryReservation=512),
        ["spec.containerDefinitions[0].memoryReservation", "must not exceed the container memory"],
    ),
    (
        "dependsOn unknown container",
        "EcsTaskDefinition",
        with_container(dependsOn=[{"containerName": "db", "condition": "START"}]),
        ["dependsOn[].containerName: must name a container"],
    ),
    (
        "health check interval",
        "EcsTaskDefinition",
        with_container(healthCheck={"command": ["CMD", "true"], "interval": 1}),
        ["spec.containerDefinitions[0].healthCheck.interval", "greater than or equal to 5"],
    ),
    (
        "fargate without awsvpc",
        "EcsTaskDefinition",
        {**TASK_DEFINITION, "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512"},
        ["spec.requiresCompatibilities", "FARGATE needs networkMode awsvpc"],
    ),
    ("negative desiredCount", "EcsService", {**SERVICE, "desiredCount": -1}, ["spec.desiredCount"]),
    (
        "launchType with capacityProviderStrategy",
        "EcsService",
        {**SERVICE, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]},
        ["spec.capacityProviderStrategy", "cannot be combined with launchType"],
    ),
    (
        "minimumHealthyPercent above 100",
        "EcsService",
        {**SERVICE, "deploymentConfiguration": {"minimumHealthyPercent": 150}},
        ["spec.deploymentConfiguration.minimumHealthyPercent"],
    ),
    (
        "maximumPercent below minimumHealthyPercent",
        "EcsService",
        {**SERVICE, "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 50}},
        ["spec.deploymentConfiguration.maximumPercent", "must not be below minimumHealthyPercent"],
    ),
    ("task count", "EcsTask", {"taskDefinition": "web", "count": 11}, ["spec.count"]),
    ("task without task definition", "EcsTask", {"count": 1}, ["spec.taskDefinition"]),
]


@pytest.mark.parametrize(("kind", "spec", "fragments"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_invalid_specs_are_refused_at_admission(
    kubectl: Kubectl,
    namespace: str,
    ecs_crds: list[str],
    kind: str,
    spec: dict[str, Any],
    fragments: list[str],
) -> None:
    result = apply(kubectl, manifest(kind, "invalid", spec, namespace), check=False)
    assert result.returncode != 0, f"{kind} was accepted: {spec}"
    for fragment in fragments:
        assert fragment in result.stderr
    where = [] if kind in CLUSTER_SCOPED else ["-n", namespace]
    assert kubectl("get", kind.lower(), "invalid", *where, "--ignore-not-found", "-o", "name").stdout == ""


FARGATE = {**TASK_DEFINITION, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"]}
PARSERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "EcsTaskDefinition": parse_task_definition,
    "EcsService": parse_service,
    "EcsTask": parse_task,
    "EcsCluster": parse_cluster,
}

# Rules the operator's parser applies that the API server applies too, in the same words:
# (case, kind, spec, the path the parser names, the field the API server names).
SAME_WORDS: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "container name pattern",
        "EcsTaskDefinition",
        with_container(name="my app"),
        "containerDefinitions[0].name",
        "spec.containerDefinitions[0].name",
    ),
    (
        "container name empty",
        "EcsTaskDefinition",
        with_container(name=""),
        "containerDefinitions[0].name",
        "spec.containerDefinitions[0].name",
    ),
    (
        "container without image",
        "EcsTaskDefinition",
        {**TASK_DEFINITION, "containerDefinitions": [{"name": "nginx", "memory": 256}]},
        "containerDefinitions[0].image",
        "spec.containerDefinitions[0].image",
    ),
    (
        "container image empty",
        "EcsTaskDefinition",
        with_container(image=""),
        "containerDefinitions[0].image",
        "spec.containerDefinitions[0].image",
    ),
    ("family pattern", "EcsTaskDefinition", {**TASK_DEFINITION, "family": "web/1"}, "family", "spec.family"),
    (
        "fargate cpu size",
        "EcsTaskDefinition",
        {**FARGATE, "cpu": "384", "memory": "1024"},
        "cpu",
        "spec.cpu",
    ),
    (
        "fargate memory with console units",
        "EcsTaskDefinition",
        {**FARGATE, "cpu": "0.25 vCPU", "memory": "4 GB"},
        "memory",
        "spec.memory",
    ),
    (
        "fargate memory as numbers",
        "EcsTaskDefinition",
        {**FARGATE, "cpu": 1024, "memory": 1024},
        "memory",
        "spec.memory",
    ),
    (
        "container without memory in a task without memory",
        "EcsTaskDefinition",
        {**TASK_DEFINITION, "containerDefinitions": [{"name": "nginx", "image": "nginx:1.27"}]},
        "containerDefinitions[0]",
        "spec.containerDefinitions",
    ),
    (
        "container memory above the task's",
        "EcsTaskDefinition",
        {**with_container(memory=2048), "memory": "1 GB"},
        "containerDefinitions[0].memory",
        "spec.containerDefinitions",
    ),
    (
        "container memoryReservation above the task's",
        "EcsTaskDefinition",
        {**with_container(memory=None, memoryReservation=1536), "memory": 1024},
        "containerDefinitions[0].memoryReservation",
        "spec.containerDefinitions",
    ),
    (
        "links with awsvpc",
        "EcsTaskDefinition",
        {**with_container(links=["db"]), "networkMode": "awsvpc"},
        "containerDefinitions[0].links[0]",
        "spec.containerDefinitions",
    ),
    (
        "container depends on itself",
        "EcsTaskDefinition",
        with_container(dependsOn=[{"containerName": "nginx", "condition": "START"}]),
        "containerDefinitions[0].dependsOn[0].containerName",
        "spec.containerDefinitions[0].dependsOn",
    ),
    (
        "health check kind without a command",
        "EcsTaskDefinition",
        with_container(healthCheck={"command": ["CMD-SHELL"]}),
        "containerDefinitions[0].healthCheck.command",
        "spec.containerDefinitions[0].healthCheck.command",
    ),
    (
        "port mapping without containerPort",
        "EcsTaskDefinition",
        with_container(portMappings=[{"protocol": "tcp"}]),
        "containerDefinitions[0].portMappings[0].containerPort",
        "spec.containerDefinitions[0].portMappings[0].containerPort",
    ),
    (
        "service name pattern",
        "EcsService",
        {**SERVICE, "serviceName": "web app"},
        "serviceName",
        "spec.serviceName",
    ),
    (
        "service without task definition",
        "EcsService",
        {"desiredCount": 1},
        "taskDefinition",
        "spec.taskDefinition",
    ),
    (
        "service task definition reference",
        "EcsService",
        {**SERVICE, "taskDefinition": "web:latest"},
        "taskDefinition",
        "spec.taskDefinition",
    ),
    (
        "load balancer without container name",
        "EcsService",
        {**SERVICE, "loadBalancers": [{"containerPort": 80}]},
        "loadBalancers[0].containerName",
        "spec.loadBalancers[0].containerName",
    ),
    (
        "task task definition reference",
        "EcsTask",
        {"taskDefinition": "web:0"},
        "taskDefinition",
        "spec.taskDefinition",
    ),
    ("cluster name pattern", "EcsCluster", {"clusterName": "my cluster"}, "clusterName", "spec.clusterName"),
]


@pytest.mark.parametrize(
    ("kind", "spec", "path", "field"), [c[1:] for c in SAME_WORDS], ids=[c[0] for c in SAME_WORDS]
)
def test_ecs_rules_are_refused_at_admission_in_the_parsers_words(
    kubectl: Kubectl,
    namespace: str,
    ecs_crds: list[str],
    kind: str,
    spec: dict[str, Any],
    path: str,
    field: str,
) -> None:
    spec = {key: value for key, value in spec.items() if value is not None}
    if kind == "EcsTaskDefinition":
        spec["containerDefinitions"] = [
            {key: value for key, value in container.items() if value is not None}
            for container in spec["containerDefinitions"]
        ]
    with pytest.raises(SpecError) as caught:
        PARSERS[kind](spec)
    words = [error.message for error in caught.value.errors if error.path == path]
    assert words, f"the parser does not name {path}: {caught.value}"
    result = apply(kubectl, manifest(kind, "invalid", spec, namespace), check=False)
    assert result.returncode != 0, f"{kind} was accepted: {spec}"
    assert f"{field}: " in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_describe_output_and_console_units_are_accepted(kubectl: Kubectl, task_definition_name: str) -> None:
    described = {
        **TASK_DEFINITION,
        "family": task_definition_name,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "1 vCPU",
        "memory": 2048,
        "taskDefinitionArn": f"arn:aws:ecs:us-east-1:123456789012:task-definition/{task_definition_name}:7",
        "revision": 7,
        "status": "ACTIVE",
        "registeredAt": "2024-05-01T10:00:00.000Z",
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
        "compatibilities": ["EC2", "FARGATE"],
    }
    apply(kubectl, manifest("EcsTaskDefinition", task_definition_name, described))
    stored = json.loads(kubectl("get", "ecstd", task_definition_name, "-o", "json").stdout)["spec"]
    assert stored == described


def test_scale_subresource_and_permissive_status(
    kubectl: Kubectl, namespace: str, ecs_crds: list[str]
) -> None:
    apply(kubectl, manifest("EcsService", "web", SERVICE, namespace))
    kubectl("scale", "ecsservice", "web", "-n", namespace, "--replicas=5")
    service = json.loads(kubectl("get", "ecssvc", "web", "-n", namespace, "-o", "json").stdout)
    assert service["spec"]["desiredCount"] == 5
    status = {
        "status": "ACTIVE",
        "runningCount": 4,
        "pendingCount": 1,
        "selector": "ecs.operator.dev/service=web",
        "deployments": [
            {"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "IN_PROGRESS", "extra": "kept"}
        ],
        "events": [
            {"id": "1", "createdAt": "2024-05-01T10:00:00Z", "message": "(service web) has started 1 tasks."}
        ],
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "Rolling",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
        "notInTheModel": {"still": "kept"},
    }
    kubectl(
        "patch",
        "ecssvc",
        "web",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
    )
    stored = json.loads(kubectl("get", "ecssvc", "web", "-n", namespace, "-o", "json").stdout)["status"]
    assert {key: stored[key] for key in status} == status
    scale = json.loads(
        kubectl("get", "ecssvc", "web", "-n", namespace, "--subresource=scale", "-o", "json").stdout
    )
    assert scale["spec"]["replicas"] == 5
    assert scale["status"] == {"replicas": 4, "selector": "ecs.operator.dev/service=web"}


def test_a_cluster_needs_no_spec_but_other_kinds_do(
    kubectl: Kubectl, namespace: str, cluster_name: str
) -> None:
    document = {"apiVersion": API, "kind": "EcsCluster", "metadata": {"name": cluster_name}}
    apply(kubectl, json.dumps(document))
    for kind in ("EcsTaskDefinition", "EcsService", "EcsTask"):
        metadata = {"name": "nospec", **({} if kind in CLUSTER_SCOPED else {"namespace": namespace})}
        document = {"apiVersion": API, "kind": kind, "metadata": metadata}
        result = apply(kubectl, json.dumps(document), check=False)
        assert result.returncode != 0 and "spec: Required value" in result.stderr, kind
