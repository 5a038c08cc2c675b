"""manifests/admission: on Kubernetes >= 1.36 the API server adds the drain finalizer when an EcsService is
created, so the operator does not have to write it (and adds it itself when the policy is not installed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from ecs_operator.labels import DRAIN_FINALIZER

from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
Kubectl = Callable[..., CompletedProcess[str]]


def service(name: str, namespace: str, finalizers: list[str] | None = None) -> str:
    metadata: dict[str, object] = {"name": name, "namespace": namespace}
    if finalizers is not None:
        metadata["finalizers"] = finalizers
    return json.dumps(
        {
            "apiVersion": "ecs.operator.dev/v1alpha1",
            "kind": "EcsService",
            "metadata": metadata,
            "spec": {"serviceName": name, "taskDefinition": "web", "desiredCount": 1},
        }
    )


# Until the API server's policy plugin has the new CRD's OpenAPI schema (it polls every 5 s), every create
# of a kind the policy matches is refused with 503, whatever the failurePolicy says (see docs/install.md).
SCHEMA_NOT_LOADED = "There can be a delay between when CustomResourceDefinitions are created"


def created_finalizers(kubectl: Kubectl, manifest: str) -> list[str] | None:
    """What the API server would store on create (admission included), without storing it; None while the
    policy plugin has not loaded the CRD's schema yet."""
    result = kubectl("create", "--dry-run=server", "-o", "json", "-f", "-", input=manifest, check=False)
    if result.returncode != 0 and SCHEMA_NOT_LOADED in result.stderr:
        return None
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["metadata"].get("finalizers") or [])


@pytest.fixture
def drain_policy(kubectl: Kubectl, ecs_crds: list[str]) -> Iterator[None]:
    policy = str(ROOT / "manifests" / "admission")
    kubectl("apply", "--server-side", "-k", policy)
    yield
    kubectl("delete", "-k", policy, "--ignore-not-found")


def test_the_policy_adds_the_drain_finalizer_once_and_keeps_others(
    kubectl: Kubectl, namespace: str, drain_policy: None
) -> None:
    # The API server's admission plugin picks a new policy up from its informer within moments, and the
    # CRD's schema within its next poll.
    wait_for(
        lambda: created_finalizers(kubectl, service("web", namespace)) == [DRAIN_FINALIZER],
        timeout=30,
        message="EcsService created with the drain finalizer by the policy",
    )
    assert created_finalizers(kubectl, service("web", namespace, ["example.com/keep"])) == [
        "example.com/keep",
        DRAIN_FINALIZER,
    ]
    assert created_finalizers(kubectl, service("web", namespace, [DRAIN_FINALIZER])) == [DRAIN_FINALIZER]
