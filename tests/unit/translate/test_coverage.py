"""Every member of the ECS request shapes (botocore's model) is classified in translate/coverage.py."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator.translate.coverage import ROOTS, SHAPES, Handling, unmapped_warnings

botocore_loaders = pytest.importorskip("botocore.loaders")


@pytest.fixture(scope="module")
def ecs_shapes() -> dict[str, Any]:
    model = botocore_loaders.Loader().load_service_model("ecs", "service-2")
    shapes: dict[str, Any] = model["shapes"]
    return shapes


def structure_of(shapes: dict[str, Any], name: str) -> str | None:
    shape = shapes[name]
    if shape["type"] == "list":
        return structure_of(shapes, shape["member"]["shape"])
    return name if shape["type"] == "structure" else None


def test_every_reachable_member_is_classified(ecs_shapes: dict[str, Any]) -> None:
    problems: list[str] = []
    pending = list(ROOTS.values())
    seen: set[str] = set()
    while pending:
        shape_name = pending.pop()
        if shape_name in seen:
            continue
        seen.add(shape_name)
        table = SHAPES.get(shape_name)
        if table is None:
            problems.append(f"{shape_name}: not in the coverage table")
            continue
        members = ecs_shapes[shape_name]["members"]
        problems += [f"{shape_name}.{m}: not classified" for m in members if m not in table]
        problems += [f"{shape_name}.{m}: not in the ECS model" for m in table if m not in members]
        for name, member in table.items():
            if name not in members or member.handling is not Handling.MAPPED:
                continue
            nested = structure_of(ecs_shapes, members[name]["shape"])
            if nested != member.shape:
                problems.append(
                    f"{shape_name}.{name}: nested shape {member.shape} but the model says {nested}"
                )
            if nested is not None:
                pending.append(nested)
    assert problems == []


def test_no_unreachable_shapes_in_table() -> None:
    reachable: set[str] = set()
    pending = list(ROOTS.values())
    while pending:
        name = pending.pop()
        if name not in reachable:
            reachable.add(name)
            pending += [m.shape for m in SHAPES[name].values() if m.shape]
    assert set(SHAPES) - reachable == set()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"proxyConfiguration": {"type": "APPMESH"}}, ["proxyConfiguration"]),
        ({"enableFaultInjection": False}, []),
        ({"enableFaultInjection": True}, ["enableFaultInjection"]),
        (
            {"containerDefinitions": [{"name": "a"}, {"name": "b", "ulimits": [{"name": "nofile"}]}]},
            ["containerDefinitions[1].ulimits"],
        ),
        (
            {
                "containerDefinitions": [
                    {"linuxParameters": {"maxSwap": 0, "tmpfs": [{"mountOptions": ["rw"]}]}}
                ]
            },
            [
                "containerDefinitions[0].linuxParameters.maxSwap",
                "containerDefinitions[0].linuxParameters.tmpfs[0].mountOptions",
            ],
        ),
        ({"containerDefinitions": [{"dockerSecurityOptions": []}]}, []),
    ],
)
def test_walker_reports_present_warned_members(data: dict[str, Any], expected: list[str]) -> None:
    paths = [w.path for w in unmapped_warnings("RegisterTaskDefinitionRequest", data)]
    assert paths == expected
