"""Whole translations compared with reviewed expected output (expected/*.yaml).

Set UPDATE_EXPECTED=1 to rewrite the YAML after a deliberate change, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.translate import Translation, translate_service, translate_task, translate_task_definition

EXPECTED = Path(__file__).with_name("expected")
CASES = sorted(path.name.removesuffix(".input.json") for path in EXPECTED.glob("*.input.json"))


def translate(case: dict[str, Any]) -> Translation:
    common = {"revision": 1, "cluster": case["cluster"], "namespace": case["namespace"]}
    if "service" in case:
        return translate_service(case["service"], case["taskDefinition"], name=case["name"], **common)
    if "task" in case:
        return translate_task(case["task"], case["taskDefinition"], name=case["name"], **common)
    return translate_task_definition(case["taskDefinition"], **common)


def render(translation: Translation) -> str:
    document = {"warnings": [str(w) for w in translation.warnings], "objects": translation.objects}
    return yaml.safe_dump(document, sort_keys=False, width=120)


@pytest.mark.parametrize("name", CASES)
def test_translation_matches_expected_output(name: str) -> None:
    case = json.loads((EXPECTED / f"{name}.input.json").read_text())
    rendered = render(translate(case))
    expected_file = EXPECTED / f"{name}.yaml"
    if os.environ.get("UPDATE_EXPECTED") == "1":
        expected_file.write_text(rendered)
    assert expected_file.exists(), f"{expected_file} is missing; run with UPDATE_EXPECTED=1 and review it"
    assert rendered == expected_file.read_text()


def test_there_are_cases() -> None:
    assert len(CASES) >= 4
