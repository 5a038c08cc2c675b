"""The Argo CD health check installs as docs/argocd.md says: rendered by kustomize from the one script, and
merged server-side into an argocd-cm that already has other keys, which it leaves alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import Kubectl

ROOT = Path(__file__).resolve().parents[2]
HEALTH = ROOT / "manifests" / "argocd" / "health"
KINDS = ("EcsCluster", "EcsTaskDefinition", "EcsService", "EcsTask")


def test_kustomize_renders_argocd_cm_with_the_script_under_every_kind(kubectl: Kubectl) -> None:
    (config_map,) = yaml.safe_load_all(kubectl("kustomize", str(HEALTH)).stdout)
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    assert config_map["metadata"]["namespace"] == "argocd"
    script = (HEALTH / "ecs.lua").read_text()
    assert config_map["data"] == {
        f"resource.customizations.health.ecs.operator.dev_{k}": script for k in KINDS
    }


@pytest.fixture
def argocd_namespace(kubectl: Kubectl) -> Iterator[str]:
    kubectl("create", "namespace", "argocd")
    try:
        yield "argocd"
    finally:
        kubectl("delete", "namespace", "argocd", "--wait=false")


def test_server_side_apply_merges_into_an_existing_argocd_cm(kubectl: Kubectl, argocd_namespace: str) -> None:
    kubectl(
        "create",
        "configmap",
        "argocd-cm",
        "-n",
        argocd_namespace,
        "--from-literal=url=https://argocd.example",
    )
    kubectl("apply", "--server-side", "--field-manager=ecs-operator-health", "-k", str(HEALTH))
    data = json.loads(kubectl("get", "configmap", "argocd-cm", "-n", argocd_namespace, "-o", "json").stdout)[
        "data"
    ]
    assert data["url"] == "https://argocd.example"
    assert {f"resource.customizations.health.ecs.operator.dev_{k}" for k in KINDS} <= set(data)
