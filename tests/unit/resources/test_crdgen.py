"""The generated CRDs are structural and hygienic (the API server judges them in the integration tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.resources.crdgen import KINDS, MAX_CONTAINERS, Kind, cel_message, crd

FREE_FORM_MAPS = {"dockerLabels", "options", "driverOpts", "labels"}


def schema_of(kind: Kind) -> dict[str, Any]:
    version = crd(kind)["spec"]["versions"][0]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for member, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{member}")
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from nodes(schema["additionalProperties"], f"{path}{{}}")


@pytest.fixture(params=KINDS, ids=[kind.kind for kind in KINDS])
def kind(request: pytest.FixtureRequest) -> Kind:
    result: Kind = request.param
    return result


def test_schema_is_structural(kind: Kind) -> None:
    for path, node in nodes(schema_of(kind)):
        assert not {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "default"} & node.keys(), path
        open_node = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
        assert "type" in node or open_node, f"{path} has no type"
        if "properties" in node:
            assert node["type"] == "object", path
            assert "additionalProperties" not in node, f"{path}: additionalProperties beside properties"
        if "enum" in node:
            assert node["type"] == "string" and node["maxLength"] >= 1, path


def test_only_output_only_members_and_status_keep_unknown_fields(kind: Kind) -> None:
    output_only = {f".spec.{member}" for member in kind.spec.output_only}  # type: ignore[attr-defined]
    for path, node in nodes(schema_of(kind)):
        if node.get("x-kubernetes-preserve-unknown-fields"):
            assert path in output_only or path.startswith(".status"), path


def test_free_form_maps_are_maps_of_strings(kind: Kind) -> None:
    for path, node in nodes(schema_of(kind)):
        if "additionalProperties" in node:
            member = re.sub(r"\[\]$", "", path).rsplit(".", 1)[-1]
            assert member in FREE_FORM_MAPS, path
            assert node["additionalProperties"] == {"type": "string"}, path


def test_names_category_and_subresources(kind: Kind) -> None:
    spec = crd(kind)["spec"]
    assert spec["group"] == API_GROUP
    assert spec["names"]["categories"] == ["ecs"]
    assert spec["names"]["shortNames"] and spec["names"]["shortNames"][0].startswith("ecs")
    version = spec["versions"][0]
    assert version["name"] == API_VERSION
    assert version["subresources"]["status"] == {}
    if kind.kind == "EcsService":
        assert version["subresources"]["scale"] == {
            "specReplicasPath": ".spec.desiredCount",
            "statusReplicasPath": ".status.runningCount",
            "labelSelectorPath": ".status.selector",
        }
    else:
        assert "scale" not in version["subresources"]


def test_printer_columns_point_at_schema_members(kind: Kind) -> None:
    schema = schema_of(kind)
    for column in crd(kind)["spec"]["versions"][0]["additionalPrinterColumns"]:
        path = column["jsonPath"]
        if path.startswith(".metadata"):
            continue
        node = schema
        for part in re.sub(r"\[[^\]]*\]", "", path).strip(".").split("."):
            node = node.get("items", node)["properties"][part]
        assert node, path


def test_admission_rules_are_attached() -> None:
    by_kind = {kind.kind: schema_of(kind) for kind in KINDS}
    task_definition = by_kind["EcsTaskDefinition"]["properties"]["spec"]
    messages = [rule["message"] for rule in task_definition["x-kubernetes-validations"]]
    assert "containerDefinitions: container names must be unique" in messages
    assert "containerDefinitions: at least one container must be essential" in messages
    container = task_definition["properties"]["containerDefinitions"]["items"]
    assert container["x-kubernetes-validations"][0]["fieldPath"] == ".memoryReservation"
    assert container["properties"]["name"]["maxLength"] == 255
    assert task_definition["properties"]["containerDefinitions"]["maxItems"] == 10
    health = container["properties"]["healthCheck"]["properties"]
    assert (health["interval"]["minimum"], health["interval"]["maximum"]) == (5, 300)
    service = by_kind["EcsService"]["properties"]["spec"]
    assert service["properties"]["desiredCount"]["minimum"] == 0
    assert service["properties"]["launchType"]["enum"] == ["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"]
    assert any(
        rule["fieldPath"] == ".capacityProviderStrategy" for rule in service["x-kubernetes-validations"]
    )
    assert task_definition["properties"]["cpu"] == {
        "x-kubernetes-int-or-string": True,
        "maxLength": 32,
        "description": task_definition["properties"]["cpu"]["description"],
    }
    # The rules that name a container unroll over every index the schema allows.
    assert task_definition["properties"]["containerDefinitions"]["maxItems"] == MAX_CONTAINERS


def test_cel_messages_render_the_parsers_templates() -> None:
    template = "The '{member}' setting for container '{container}' is greater than for the task."
    assert cel_message(template, member="'memory'", container="self.name") == (
        "'The \\'' + 'memory' + '\\' setting for container \\'' + self.name + "
        "'\\' is greater than for the task.'"
    )
