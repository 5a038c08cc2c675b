"""Check a status a controller writes against the status schema its CRD publishes (crds/*.yaml).

The CRDs keep unknown status fields (a status write is never refused), so the API server would accept a
member the schema does not describe: this check does not. Every member must be declared, with its type and
enum; a free-form map (additionalProperties, or unknown fields kept with no member declared) takes any key.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CRDS = Path(__file__).resolve().parents[2] / "crds"
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list, tuple),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


@cache
def status_schema(kind: str) -> Mapping[str, Any]:
    for path in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
            return dict(version["schema"]["openAPIV3Schema"]["properties"]["status"])
    raise KeyError(kind)


def problems(value: Any, schema: Mapping[str, Any], path: str = "status") -> list[str]:
    """What in `value` its schema does not describe, each as `<path>: <why>`."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null"]
    if "anyOf" in schema:
        options = [problems(value, option, path) for option in schema["anyOf"]]
        return [] if any(not found for found in options) else min(options, key=len)
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        kind = None if isinstance(value, (int, str)) and not isinstance(value, bool) else "int-or-string"
    if kind and (
        not isinstance(value, _TYPES.get(kind, ()))
        or (kind in ("integer", "number") and isinstance(value, bool))
    ):
        return [f"{path}: {type(value).__name__} where the schema says {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} not one of {schema['enum']}"]
    if isinstance(value, dict):
        return _members(value, schema, path)
    if isinstance(value, (list, tuple)) and "items" in schema:
        return [p for i, item in enumerate(value) for p in problems(item, schema["items"], f"{path}[{i}]")]
    return []


def _members(value: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    declared = schema.get("properties") or {}
    free = schema.get("additionalProperties")
    if not declared and schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = [f"{path}.{key}: required" for key in schema.get("required") or () if key not in value]
    for key, member in value.items():
        if key in declared:
            found += problems(member, declared[key], f"{path}.{key}")
        elif isinstance(free, Mapping):
            found += problems(member, free, f"{path}.{key}")
        elif free is not True:
            found.append(f"{path}.{key}: not in the CRD's schema")
    return found


def assert_matches_crd(kind: str, status: Mapping[str, Any] | None) -> None:
    if status is None:
        return
    found = problems(dict(status), status_schema(kind))
    assert not found, f"{kind} status the CRD does not describe: {found}"
