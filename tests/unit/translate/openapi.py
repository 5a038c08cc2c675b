"""A small validator for the Kubernetes OpenAPI v3 subset (a trimmed copy of the 1.36 API server's schema).

Stricter than the API server's defaults in one way on purpose: unknown fields are errors (like
`kubectl apply --validate=strict`), so a misspelt field cannot slip through.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("kubernetes-openapi-v1.36.json")
ROOTS = {
    ("v1", "Pod"): "io.k8s.api.core.v1.Pod",
    ("v1", "PodTemplate"): "io.k8s.api.core.v1.PodTemplate",
    ("v1", "Service"): "io.k8s.api.core.v1.Service",
    ("v1", "ServiceAccount"): "io.k8s.api.core.v1.ServiceAccount",
    ("v1", "Namespace"): "io.k8s.api.core.v1.Namespace",
    ("apps/v1", "Deployment"): "io.k8s.api.apps.v1.Deployment",
    ("apps/v1", "DaemonSet"): "io.k8s.api.apps.v1.DaemonSet",
}
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[munkMGTPE]?)$")
_INT32 = (-(2**31), 2**31 - 1)


@cache
def schemas() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())["schemas"]
    return loaded


def validate_object(obj: dict[str, Any]) -> list[str]:
    root = ROOTS.get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if root is None:
        return [f"unknown kind {obj.get('apiVersion')}/{obj.get('kind')}"]
    return _validate(obj, {"$ref": f"#/components/schemas/{root}"}, obj.get("kind", ""))


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in schema:
            schema = schemas()[schema["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in schema and len(schema["allOf"]) == 1 and len(schema) <= 3:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = {**_resolve(schema["allOf"][0]), **{k: v for k, v in rest.items() if k != "default"}}
        else:
            return schema


def _validate(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    schema = _resolve(schema)
    if schema.get("x-kubernetes-int-or-string") or schema.get("format") == "int-or-string":
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        return [] if ok else [f"{path}: must be an integer or a string, got {value!r}"]
    if "oneOf" in schema:  # resource.Quantity: a number or a quantity string
        if isinstance(value, int | float) and not isinstance(value, bool):
            return []
        ok = isinstance(value, str) and _QUANTITY.match(value)
        return [] if ok else [f"{path}: {value!r} is not a quantity"]
    kind = schema.get("type")
    errors: list[str] = []
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{path}: must be an object, got {type(value).__name__}"]
        properties = schema.get("properties")
        if properties is not None:
            for key, item in value.items():
                if key not in properties:
                    errors.append(f"{path}.{key}: unknown field")
                else:
                    errors += _validate(item, properties[key], f"{path}.{key}")
            errors += [f"{path}.{key}: required" for key in schema.get("required", []) if key not in value]
        elif "additionalProperties" in schema:
            for key, item in value.items():
                errors += _validate(item, schema["additionalProperties"], f"{path}[{key!r}]")
        return errors
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: must be a list, got {type(value).__name__}"]
        for index, item in enumerate(value):
            errors += _validate(item, schema.get("items", {}), f"{path}[{index}]")
        return errors
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: must be a string, got {value!r}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{path}: {value!r} not in {schema['enum']}"]
        return []
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: must be an integer, got {value!r}"]
        if schema.get("format") == "int32" and not _INT32[0] <= value <= _INT32[1]:
            return [f"{path}: {value} is out of int32 range"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: must be a boolean, got {value!r}"]
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: must be a number, got {value!r}"]
    return []
