"""Every sample in manifests/samples applies with `kubectl apply --server-side` and is stored as written
(nothing pruned), moved into the test's namespace and a unique cluster name, its task definition families
(account-wide) renamed to families of the test's own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

Kubectl = Callable[..., CompletedProcess[str]]
SAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "samples"


def sample_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((SAMPLES / "kustomization.yaml").read_text())
    return [yaml.safe_load((SAMPLES / name).read_text()) for name in kustomization["resources"]]


@pytest.fixture
def cluster_name(kubectl: Kubectl, ecs_crds: list[str]) -> Iterator[str]:
    name = f"sample-{uuid.uuid4().hex[:8]}"
    yield name
    kubectl("delete", "ecscluster", name, "--ignore-not-found", "--wait=false")
    kubectl("delete", "ecstaskdefinitions", "-l", f"{OWNER_LABEL}={name}", "--wait=false")


OWNER_LABEL = "ecs-tests/sample-cluster"


def test_every_sample_applies_server_side(kubectl: Kubectl, namespace: str, cluster_name: str) -> None:
    documents = sample_documents()
    assert {d["kind"] for d in documents} == {"EcsCluster", "EcsTaskDefinition", "EcsService", "EcsTask"}
    families = {d["spec"]["family"] for d in documents if d["kind"] == "EcsTaskDefinition"}
    for document in documents:
        spec = document["spec"]
        if document["kind"] == "EcsCluster":
            document["metadata"]["name"] = cluster_name
            spec["clusterName"] = cluster_name
        elif document["kind"] == "EcsTaskDefinition":  # cluster-scoped
            spec["family"] = document["metadata"]["name"] = f"{spec['family']}-{cluster_name}"
            document["metadata"]["labels"] = {OWNER_LABEL: cluster_name}
        else:
            document["metadata"]["namespace"] = namespace
            assert spec["taskDefinition"] in families, document
            spec["taskDefinition"] = f"{spec['taskDefinition']}-{cluster_name}"
        kubectl("apply", "--server-side", "--field-manager=ecs-tests", "-f", "-", input=json.dumps(document))
        scope = [] if document["kind"] in ("EcsCluster", "EcsTaskDefinition") else ["-n", namespace]
        stored = json.loads(
            kubectl(
                "get", document["kind"].lower(), document["metadata"]["name"], *scope, "-o", "json"
            ).stdout
        )
        assert stored["spec"] == document["spec"], (
            f"{document['kind']}/{document['metadata']['name']} changed"
        )


def test_kustomization_renders_every_sample(kubectl: Kubectl) -> None:
    rendered = list(yaml.safe_load_all(kubectl("kustomize", str(SAMPLES)).stdout))
    names = sorted((d["kind"], d["metadata"]["name"]) for d in rendered)
    assert names == sorted((d["kind"], d["metadata"]["name"]) for d in sample_documents())
