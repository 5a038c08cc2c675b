"""Rules of CreateService, RunTask and CreateCluster specs, each invalid case naming its path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ecs_operator.resources import SpecError, parse_cluster, parse_service, parse_task

from tests.unit.resources.specs import cluster, service, task

Mutation = Callable[[dict[str, Any]], object]
Parser = Callable[[dict[str, Any]], object]

STRATEGY = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]

INVALID: list[tuple[str, Parser, Callable[[], dict[str, Any]], Mutation, str, str]] = [
    (
        "service desiredCount",
        parse_service,
        service,
        lambda s: s.update(desiredCount=-1),
        "desiredCount",
        ">= 0",
    ),
    (
        "service taskDefinition missing",
        parse_service,
        service,
        lambda s: s.pop("taskDefinition"),
        "taskDefinition",
        "required",
    ),
    (
        "service taskDefinition reference",
        parse_service,
        service,
        lambda s: s.update(taskDefinition="web:latest"),
        "taskDefinition",
        "not a family, family:revision or task definition ARN",
    ),
    (
        "service name pattern",
        parse_service,
        service,
        lambda s: s.update(serviceName="web service"),
        "serviceName",
        "letters, numbers",
    ),
    (
        "service launch type and strategy",
        parse_service,
        service,
        lambda s: s.update(capacityProviderStrategy=STRATEGY),
        "capacityProviderStrategy",
        "cannot be combined with launchType",
    ),
    (
        "service launch type enum",
        parse_service,
        service,
        lambda s: s.update(launchType="LAMBDA"),
        "launchType",
        "is not one of",
    ),
    (
        "minimum healthy percent above 100",
        parse_service,
        service,
        lambda s: s["deploymentConfiguration"].update(minimumHealthyPercent=101),
        "deploymentConfiguration.minimumHealthyPercent",
        "<= 100",
    ),
    (
        "minimum healthy percent negative",
        parse_service,
        service,
        lambda s: s["deploymentConfiguration"].update(minimumHealthyPercent=-1),
        "deploymentConfiguration.minimumHealthyPercent",
        ">= 0",
    ),
    (
        "maximum percent below minimum",
        parse_service,
        service,
        lambda s: s["deploymentConfiguration"].update(maximumPercent=40),
        "deploymentConfiguration.maximumPercent",
        "40 is below minimumHealthyPercent 50",
    ),
    (
        "circuit breaker type",
        parse_service,
        service,
        lambda s: s["deploymentConfiguration"]["deploymentCircuitBreaker"].update(enable="yes"),
        "deploymentConfiguration.deploymentCircuitBreaker.enable",
        "valid boolean",
    ),
    (
        "circuit breaker needs rollback",
        parse_service,
        service,
        lambda s: s["deploymentConfiguration"]["deploymentCircuitBreaker"].pop("rollback"),
        "deploymentConfiguration.deploymentCircuitBreaker.rollback",
        "required",
    ),
    (
        "load balancer without container",
        parse_service,
        service,
        lambda s: s["loadBalancers"][0].pop("containerName"),
        "loadBalancers[0].containerName",
        "required",
    ),
    (
        "daemon on fargate",
        parse_service,
        service,
        lambda s: s.update(schedulingStrategy="DAEMON", launchType="FARGATE"),
        "schedulingStrategy",
        "DAEMON services cannot use the FARGATE launch type",
    ),
    (
        "service unknown member",
        parse_service,
        service,
        lambda s: s.update(replicas=3),
        "replicas",
        "unknown member",
    ),
    ("task count zero", parse_task, task, lambda s: s.update(count=0), "count", ">= 1"),
    ("task count eleven", parse_task, task, lambda s: s.update(count=11), "count", "<= 10"),
    (
        "task desired status",
        parse_task,
        task,
        lambda s: s.update(desiredStatus="PAUSED"),
        "desiredStatus",
        "STOPPED",
    ),
    (
        "task definition missing",
        parse_task,
        task,
        lambda s: s.pop("taskDefinition"),
        "taskDefinition",
        "required",
    ),
    (
        "task launch type and strategy",
        parse_task,
        task,
        lambda s: s.update(capacityProviderStrategy=STRATEGY),
        "capacityProviderStrategy",
        "cannot be combined",
    ),
    (
        "task override memory",
        parse_task,
        task,
        lambda s: s.update(overrides={"memory": "lots"}),
        "overrides.memory",
        "not an integer or a string like",
    ),
    (
        "cluster name",
        parse_cluster,
        cluster,
        lambda s: s.update(clusterName="my cluster"),
        "clusterName",
        "letters",
    ),
    (
        "cluster setting enum",
        parse_cluster,
        cluster,
        lambda s: s["settings"][0].update(name="insights"),
        "settings[0].name",
        "is not one of",
    ),
    (
        "cluster namespace",
        parse_cluster,
        cluster,
        lambda s: s.update(namespace="Demo_NS"),
        "namespace",
        "must match pattern",
    ),
]


@pytest.mark.parametrize(
    ("parse", "base", "mutation", "path", "words"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_spec_names_the_path(
    parse: Parser, base: Callable[[], dict[str, Any]], mutation: Mutation, path: str, words: str
) -> None:
    data = base()
    mutation(data)
    with pytest.raises(SpecError) as caught:
        parse(data)
    found = {error.path: error.message for error in caught.value.errors}
    assert path in found, f"expected an error at {path}, got {caught.value}"
    assert words in found[path].replace("greater than or equal to ", ">= ").replace(
        "less than or equal to ", "<= "
    )


@pytest.mark.parametrize(
    ("parse", "base"), [(parse_service, service), (parse_task, task), (parse_cluster, cluster)]
)
def test_base_specs_are_valid_and_round_trip(
    parse: Callable[[dict[str, Any]], Any], base: Callable[[], dict[str, Any]]
) -> None:
    assert parse(base()) == base()


@pytest.mark.parametrize(
    "reference",
    [
        "web",
        "web:12",
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12",
        "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web",
    ],
)
def test_task_definition_references(reference: str) -> None:
    assert parse_task({"taskDefinition": reference}) == {"taskDefinition": reference}


def test_external_services_may_omit_the_task_definition() -> None:
    data = service()
    data.pop("taskDefinition")
    data["deploymentController"] = {"type": "EXTERNAL"}
    parse_service(data)


def test_service_name_and_cluster_are_optional() -> None:
    data = service()
    data.pop("serviceName")
    data["cluster"] = "arn:aws:ecs:us-east-1:123456789012:cluster/demo"
    assert parse_service(data)["cluster"] == data["cluster"]


def test_describe_services_output_members_are_dropped() -> None:
    data = service()
    described = {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/demo/web",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
        "status": "ACTIVE",
        "runningCount": 3,
        "pendingCount": 0,
        "platformFamily": "Linux",
        "roleArn": "arn:aws:iam::123456789012:role/ecsServiceRole",
        "createdAt": "2024-01-01T00:00:00Z",
        "createdBy": "arn:aws:iam::123456789012:role/admin",
        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "COMPLETED"}],
        "events": [
            {"id": "e1", "createdAt": 1700000000.0, "message": "(service web) has reached a steady state."}
        ],
    }
    assert parse_service({**data, **described}) == data


def test_describe_clusters_output_members_are_dropped() -> None:
    data = cluster()
    described = {
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
        "status": "ACTIVE",
        "runningTasksCount": 2,
    }
    assert parse_cluster({**data, **described}) == data


def test_task_desired_status_stopped_is_kept() -> None:
    assert parse_task({"taskDefinition": "web", "desiredStatus": "STOPPED"}) == {
        "taskDefinition": "web",
        "desiredStatus": "STOPPED",
    }
