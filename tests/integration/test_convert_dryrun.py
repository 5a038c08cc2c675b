"""Translations are accepted by a real API server: `kubectl apply --dry-run=server`, in batches.

Covers every corpus file `convert` accepts (alone and with the corpus services) and a sample of
hypothesis-generated task definitions, services and tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.cli import main
from ecs_operator.convert import dump
from ecs_operator.resources import SpecError, parse_service, parse_task_definition
from ecs_operator.translate import translate_service, translate_task, translate_task_definition
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import corpus
from tests.integration.conftest import Kubectl
from tests.unit.translate.strategies import services, task_definitions

pytestmark = pytest.mark.integration


def dry_run(kubectl: Kubectl, objects: list[dict[str, Any]]) -> None:
    """Server-side dry-run of every object; ServiceAccounts are created for real first (Pods need them)."""
    accounts = [o for o in objects if o["kind"] == "ServiceAccount"]
    if accounts:
        kubectl("apply", "-f", "-", input=dump(accounts))
    result = kubectl("apply", "--dry-run=server", "-f", "-", input=dump(objects), check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(server dry run)") == len(objects)


def converted(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]] | None:
    code = main(["convert", *args])
    out, _ = capsys.readouterr()
    return list(yaml.safe_load_all(out)) if code == 0 else None


def uniquely_named(objects: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    for obj in objects:
        obj["metadata"]["name"] = f"{obj['metadata']['name'][:50]}-{suffix}"
    return objects


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
def test_corpus_output_passes_server_dry_run(
    kubectl: Kubectl, namespace: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    batch: list[dict[str, Any]] = []
    accepted: list[Path] = []
    for index, path in enumerate(corpus.example_files("taskdefs") + corpus.example_files("containerdefs")):
        objects = converted(capsys, str(path), "--cluster", "demo", "--namespace", namespace)
        if objects is not None:
            accepted.append(path)
            batch += uniquely_named(objects, f"t{index}")
    assert accepted, "no corpus task definition converted"
    for index, service in enumerate(corpus.example_files("services")):
        taskdef = corpus.task_definition_for(service, accepted[index % len(accepted)], tmp_path)
        objects = converted(capsys, str(taskdef), "--service", str(service), "--namespace", namespace)
        if objects is not None:
            batch += uniquely_named(objects, f"s{index}")
    assert sum(o["kind"] == "Service" and o["spec"].get("type") == "LoadBalancer" for o in batch) >= 4
    dry_run(kubectl, batch)


def valid(taskdef: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return parse_task_definition(taskdef)
    except SpecError:
        return None


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
@given(data=st.data())
def test_generated_translations_pass_server_dry_run(
    kubectl: Kubectl, namespace: str, data: st.DataObject
) -> None:
    batch: list[dict[str, Any]] = []
    for index in range(15):
        spec = valid(data.draw(task_definitions()))
        if spec is None:
            continue
        common = {"revision": 1, "cluster": "demo", "namespace": namespace}
        batch += uniquely_named(translate_task_definition(spec, **common).objects, f"d{index}")
        run = {"taskDefinition": spec["family"], "count": 1}
        batch += translate_task(run, spec, name=f"task-{index}", **common).objects
        try:
            service = parse_service(data.draw(services(spec)))
        except SpecError:
            continue
        batch += translate_service(service, spec, name=f"service-{index}", **common).objects
    kinds = {o["kind"] for o in batch}
    assert {"PodTemplate", "Pod"} <= kinds, json.dumps(sorted(kinds))
    dry_run(kubectl, batch)


@pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)
def test_corpus_custom_resources_pass_server_dry_run(
    kubectl: Kubectl,
    ecs_crds: list[str],
    namespace: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    batch: list[dict[str, Any]] = []
    accepted: list[Path] = []
    for index, path in enumerate(corpus.example_files("taskdefs") + corpus.example_files("containerdefs")):
        objects = converted(capsys, str(path), "--namespace", namespace, "--output", "crs")
        if objects is not None:
            accepted.append(path)
            batch += uniquely_named(objects, f"t{index}")
    for index, service in enumerate(corpus.example_files("services")):
        taskdef = corpus.task_definition_for(service, accepted[index % len(accepted)], tmp_path)
        args = (str(taskdef), "--service", str(service), "--namespace", namespace, "--output", "crs")
        objects = converted(capsys, *args)
        if objects is not None:
            batch += uniquely_named(objects, f"s{index}")
    assert {o["kind"] for o in batch} == {"EcsTaskDefinition", "EcsService"}
    assert sum(o["kind"] == "EcsService" and bool(o["spec"].get("loadBalancers")) for o in batch) >= 4
    dry_run(kubectl, batch)
