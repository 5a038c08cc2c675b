"""docs/mapping.md lists every member of the ECS request shapes with its handling, in step with the code."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ecs_operator.translate.coverage import SHAPES, render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"
BEGIN = "<!-- BEGIN MEMBER REFERENCE -->\n"
END = "<!-- END MEMBER REFERENCE -->"


def test_member_reference_is_current() -> None:
    text = DOC.read_text()
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    wanted = f"{head}{BEGIN}{render_reference()}{END}{tail}"
    if os.environ.get("UPDATE_MAPPING_DOC") == "1":
        DOC.write_text(wanted)
    assert text == wanted, "docs/mapping.md is stale: run this test with UPDATE_MAPPING_DOC=1"


def test_every_classified_member_has_a_row() -> None:
    reference = DOC.read_text().split(BEGIN)[1]
    sections = dict(re.findall(r"#### `(\w+)`\n\n(.*?)(?=\n####|\n###|\Z)", reference, flags=re.S))
    missing = [
        f"{shape}.{member}"
        for shape, members in SHAPES.items()
        for member in members
        if f"| `{member}` |" not in sections.get(shape, "")
    ]
    assert missing == []
