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


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_IANA_SVC_NAME = re.compile(r"(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def semantic_errors(obj: dict[str, Any]) -> list[str]:
    """The API server's validation rules the schema does not carry, for the fields translation writes."""
    errors: list[str] = []
    kind = obj["kind"]
    name = obj["metadata"]["name"]
    if not (_DNS_SUBDOMAIN.fullmatch(name) and len(name) <= 253):
        errors.append(f"{kind}.metadata.name: {name!r}")
    if kind in ("Service", "Namespace") and not (_DNS_LABEL.fullmatch(name) and len(name) <= 63):
        errors.append(f"{kind}.metadata.name: {name!r} is not a DNS label")
    for key, value in obj["metadata"].get("labels", {}).items():
        if not (_LABEL_VALUE.fullmatch(value) and len(value) <= 63):
            errors.append(f"{kind}.metadata.labels[{key}]: {value!r}")
    if kind == "DaemonSet":
        rolling = obj["spec"]["updateStrategy"]["rollingUpdate"]
        if rolling["maxSurge"] not in ("0%", 0) and rolling["maxUnavailable"] not in ("0%", 0):
            errors.append("DaemonSet: maxSurge and maxUnavailable both set")
    if kind in ("Deployment", "DaemonSet"):
        rolling = obj["spec"].get("strategy", obj["spec"].get("updateStrategy"))["rollingUpdate"]
        if rolling["maxSurge"] in ("0%", 0) and rolling["maxUnavailable"] in ("0%", 0):
            errors.append(f"{kind}: maxSurge and maxUnavailable both zero")
    pod = _pod_spec(obj)
    if pod is None:
        return errors
    containers = pod.get("initContainers", []) + pod["containers"]
    names = [c["name"] for c in containers]
    errors += [f"container name {n!r}" for n in names if not (_DNS_LABEL.fullmatch(n) and len(n) <= 63)]
    if len(set(names)) != len(names):
        errors.append(f"duplicate container names {names}")
    volumes = [v["name"] for v in pod.get("volumes", [])]
    errors += [f"volume name {v!r}" for v in volumes if not (_DNS_LABEL.fullmatch(v) and len(v) <= 63)]
    if len(set(volumes)) != len(volumes):
        errors.append(f"duplicate volume names {volumes}")
    for container in containers:
        ports = [p.get("name") for p in container.get("ports", [])]
        errors += [
            f"port name {p!r}" for p in ports if p and not (_IANA_SVC_NAME.fullmatch(p) and len(p) <= 15)
        ]
        mounts = container.get("volumeMounts", [])
        errors += [f"mount of unknown volume {m['name']!r}" for m in mounts if m["name"] not in volumes]
        paths = [m["mountPath"] for m in mounts]
        if len(set(paths)) != len(paths):
            errors.append(f"duplicate mount paths {paths}")
    all_ports = [p.get("name") for c in containers for p in c.get("ports", []) if p.get("name")]
    if len(set(all_ports)) != len(all_ports):
        errors.append(f"duplicate port names in the pod {all_ports}")
    for alias in pod.get("hostAliases", []):
        errors += [f"host alias {h!r}" for h in alias["hostnames"] if not _DNS_SUBDOMAIN.fullmatch(h)]
    if pod.get("hostNetwork"):
        for container in containers:
            for port in container.get("ports", []):
                if port.get("hostPort", port["containerPort"]) != port["containerPort"]:
                    errors.append("hostNetwork needs hostPort == containerPort")
    if "hostname" in pod and not _DNS_LABEL.fullmatch(pod["hostname"]):
        errors.append(f"hostname {pod['hostname']!r}")
    return errors


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] == "Pod":
        spec: dict[str, Any] = obj["spec"]
        return spec
    if obj["kind"] == "PodTemplate":
        template: dict[str, Any] = obj["template"]["spec"]
        return template
    if obj["kind"] in ("Deployment", "DaemonSet"):
        workload: dict[str, Any] = obj["spec"]["template"]["spec"]
        return workload
    return None
