"""ECS names and the Kubernetes names derived from them, one function per kind.

ECS names are authoritative: a cluster is named by `spec.clusterName`, a service by `spec.serviceName`, a
task definition family by `spec.family` (each defaulting to the object's metadata.name), and ARNs, API
answers, the console and status show them as they are (`Prod_Cluster`, `web_api`). Kubernetes names are
derived from them deterministically: a name Kubernetes accepts as it is stays as it is; any other is
lowercased with `_` (and anything else outside `[a-z0-9-]`) turned into `-`, plus a digest of the ECS name
so that two ECS names that differ only there (`Web_App`, `web-app`) never share a Kubernetes name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

# --- Kubernetes name syntax (DNS-1123 labels and subdomains, label values, port names) ---------------

_INVALID = re.compile(r"[^a-z0-9-]+")
_INVALID_SUBDOMAIN = re.compile(r"[^a-z0-9.-]+")
_DASHES = re.compile(r"-{2,}")


def _shorten(name: str, limit: int, original: str) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(original.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-.')}-{digest}"


def dns_label(value: str, *, limit: int = 63, fallback: str = "x") -> str:
    """A DNS-1123 label: lowercase alphanumerics and '-', at most `limit` long (hash suffix when cut)."""
    name = _DASHES.sub("-", _INVALID.sub("-", value.lower())).strip("-")
    name = _shorten(name or fallback, limit, value)
    return name.strip("-") or fallback


def dns_subdomain(value: str, *, fallback: str = "x") -> str:
    """A DNS-1123 subdomain (the rule for most object names), at most 253 characters."""
    name = _DASHES.sub("-", _INVALID_SUBDOMAIN.sub("-", value.lower()))
    labels = [label.strip("-") for label in name.split(".")]
    name = ".".join(label for label in labels if label)
    return _shorten(name, 253, value) if name else fallback


def container_name(ecs_name: str) -> str:
    """The Kubernetes container name of an ECS container: unchanged when already valid, else sanitized."""
    return dns_label(ecs_name, fallback="container")


def label_value(value: str) -> str:
    """A valid label value (63 characters, alphanumerics, '-', '_', '.', alphanumeric at both ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)
    cleaned = _shorten(cleaned, 63, value)
    return cleaned.strip("-_.")


_PORT_NAME_INVALID = re.compile(r"[^a-z0-9-]+")


def port_name(value: str) -> str | None:
    """An IANA_SVC_NAME (<= 15 chars, a letter, no '--'), or None when `value` cannot become one."""
    name = _DASHES.sub("-", _PORT_NAME_INVALID.sub("-", value.lower())).strip("-")
    name = name[:15].strip("-")
    if not name or not re.search(r"[a-z]", name):
        return None
    return name


def dns1035_label(value: str, *, prefix: str = "svc-") -> str:
    """A DNS-1035 label (the rule for Service names): like a DNS-1123 label, but starting with a letter."""
    name = dns_label(value)
    if not name[0].isalpha():
        name = dns_label(prefix + name)
    return name


def unique(name: str, taken: set[str], *, limit: int = 63) -> str:
    """`name`, or `name-2`, `name-3`… when taken; records the result in `taken`."""
    candidate, number = name, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = name[: limit - len(suffix)].rstrip("-") + suffix
        number += 1
    taken.add(candidate)
    return candidate


# --- names derived per kind -----------------------------------------------------------------------

# ECS's name rule: clusters, services, families and containers (letters, digits, hyphens, underscores).
ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
DIGEST_LENGTH = 8
_NAME_LIMIT = 63  # a DNS-1123 label: what a Namespace's name, and any name derived here, must fit


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def object_name(ecs_name: str) -> str:
    """The Kubernetes name of an object an ECS name makes: the ECS name itself when it is a valid DNS-1123
    label, else a DNS label of it and a digest of the original (`Prod_Cluster` -> `prod-cluster-3f2a9c1b`)."""
    label = dns_label(ecs_name, limit=_NAME_LIMIT)
    if label == ecs_name:
        return label
    digest = hashlib.sha256(ecs_name.encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{dns_label(ecs_name, limit=_NAME_LIMIT - DIGEST_LENGTH - 1)}-{digest}"


def cluster_object_name(ecs_name: str) -> str:
    """The EcsCluster (and so its Namespace) an ECS cluster name makes."""
    return object_name(ecs_name)


def service_object_name(ecs_name: str) -> str:
    return object_name(ecs_name)


def task_definition_object_name(family: str) -> str:
    return object_name(family)


def task_object_name(family: str, token: str) -> str:
    """A new EcsTask of RunTask: the family and a token (8 hex digits), as a DNS label."""
    return f"{dns_label(family, limit=_NAME_LIMIT - 9)}-{token}"


def cluster_name(cluster: Mapping[str, Any]) -> str:
    """An EcsCluster's ECS name: `spec.clusterName`, else its metadata.name."""
    return str(_spec(cluster).get("clusterName") or _meta(cluster).get("name") or "")


def cluster_namespace(cluster: Mapping[str, Any]) -> str:
    """The Namespace an EcsCluster owns: `spec.namespace`, else its metadata.name when that is a valid
    namespace name, else one derived from it."""
    configured = _spec(cluster).get("namespace")
    if configured:
        return str(configured)
    name = str(_meta(cluster).get("name") or "")
    return name if dns_label(name) == name else object_name(name)


def service_name(service: Mapping[str, Any]) -> str:
    """An EcsService's ECS name: `spec.serviceName`, else its metadata.name."""
    return str(_spec(service).get("serviceName") or _meta(service).get("name") or "")


def family_name(task_definition: Mapping[str, Any]) -> str:
    """An EcsTaskDefinition's family: `spec.family`, else its metadata.name."""
    return str(_spec(task_definition).get("family") or _meta(task_definition).get("name") or "")


def is_ecs_name(value: str) -> bool:
    return bool(ECS_NAME.fullmatch(value))
