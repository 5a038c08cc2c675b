"""The samples in manifests/samples are valid specs of the scenario they describe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.api import parse_cluster, parse_service, parse_task, parse_task_definition

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"
PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "EcsCluster": parse_cluster,
    "EcsTaskDefinition": parse_task_definition,
    "EcsService": parse_service,
    "EcsTask": parse_task,
}


def samples() -> dict[str, dict[str, Any]]:
    documents = {}
    for path in sorted(SAMPLES.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents[path.name] = yaml.safe_load(path.read_text())
    return documents


def test_kustomization_lists_every_sample() -> None:
    kustomization = yaml.safe_load((SAMPLES / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(samples())


def test_every_sample_is_a_valid_spec_in_namespace_demo() -> None:
    # Clusters and task definitions (regional in ECS) are cluster-scoped.
    for name, document in samples().items():
        assert document["apiVersion"] == f"{API_GROUP}/{API_VERSION}", name
        PARSERS[document["kind"]](document["spec"])
        if document["kind"] in ("EcsCluster", "EcsTaskDefinition"):
            assert "namespace" not in document["metadata"], name
        else:
            assert document["metadata"]["namespace"] == "demo", name


def test_the_explainer_scenario() -> None:
    by_kind_name = {(d["kind"], d["metadata"]["name"]): d["spec"] for d in samples().values()}
    assert ("EcsCluster", "demo") in by_kind_name
    web = parse_task_definition(by_kind_name["EcsTaskDefinition", "web"]).to_ecs()
    nginx, sidecar = web["containerDefinitions"]
    assert nginx["portMappings"][0] == {
        "name": "http",
        "containerPort": 80,
        "protocol": "tcp",
        "appProtocol": "http",
    }
    assert nginx["healthCheck"]["command"][0] == "CMD-SHELL"
    assert sidecar["dependsOn"] == [{"containerName": "nginx", "condition": "HEALTHY"}]
    service = by_kind_name["EcsService", "web"]
    assert service["desiredCount"] == 3
    assert service["loadBalancers"][0]["containerName"] == "nginx"
    assert service["loadBalancers"][0]["containerPort"] == 80
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    task = by_kind_name["EcsTask", "db-migrate"]
    assert ("EcsTaskDefinition", task["taskDefinition"]) in by_kind_name
    fargate = parse_task_definition(by_kind_name["EcsTaskDefinition", "web-fargate"]).to_ecs()
    assert (fargate["cpu"], fargate["memory"], fargate["networkMode"]) == ("512", "1024", "awsvpc")
    assert by_kind_name["EcsService", "web-fargate"]["launchType"] == "FARGATE"
