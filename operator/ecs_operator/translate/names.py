"""Deterministic Kubernetes names from ECS names and ARNs."""

from __future__ import annotations

import hashlib
import re

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
