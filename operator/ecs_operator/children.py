"""Pure helpers for the objects the operator owns: intent hashes and "does the live object already match".

The operator applies a child only when the live object differs from the intent in a field the intent sets
(a manual edit, i.e. drift) or when the intent itself changed (its hash annotation differs). Fields the
API server or other controllers add are ignored, so nothing is written at rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ecs_operator import API_GROUP

INTENT_ANNOTATION = f"{API_GROUP}/applied-intent"
TASK_DEFINITION_ANNOTATION = f"{API_GROUP}/task-definition"

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]i?|Ki|)$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def intent_hash(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def with_intent_hash(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `obj` carrying the hash of itself in an annotation."""
    result = json.loads(json.dumps(obj))
    metadata = result.setdefault("metadata", {})
    annotations = metadata.setdefault("annotations", {})
    annotations.pop(INTENT_ANNOTATION, None)
    annotations[INTENT_ANNOTATION] = intent_hash(result)
    return dict(result)


def quantity(value: str) -> Decimal | None:
    match = _QUANTITY.match(value)
    if not match:
        return None
    number, suffix = match.groups()
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number + suffix)
        return Decimal(number) * _SUFFIX[suffix]
    except (InvalidOperation, KeyError):
        return None


def _scalar_equal(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, str) and isinstance(have, str):
        a, b = quantity(want), quantity(have)
        return a is not None and a == b
    if (isinstance(want, int | float) and isinstance(have, str)) or (
        isinstance(have, int | float) and isinstance(want, str)
    ):
        a, b = quantity(str(want)), quantity(str(have))
        return a is not None and a == b
    return False


def matches(want: Any, have: Any) -> bool:
    """True when every field set in `want` has the same value in `have` (extra fields in `have` are fine)."""
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return not want and have is None
        return all(matches(value, have.get(key)) for key, value in want.items())
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return not want and not have
        return all(matches(a, b) for a, b in zip(want, have, strict=True))
    if want is None:
        return True
    return _scalar_equal(want, have)


def needs_apply(intent: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """Apply when the object is missing, the intent changed, or a field we set was edited (drift)."""
    if live is None:
        return True
    live_hash = (live.get("metadata", {}).get("annotations") or {}).get(INTENT_ANNOTATION)
    want_hash = (intent.get("metadata", {}).get("annotations") or {}).get(INTENT_ANNOTATION)
    if live_hash != want_hash:
        return True
    comparable = {k: v for k, v in intent.items() if k not in ("apiVersion", "kind", "status")}
    return not matches(comparable, live)


def operator_docker_labels(taskdef: Mapping[str, Any]) -> dict[str, str]:
    """Docker labels under our API group's prefix, which the operator puts on the Pods as annotations.

    Kubernetes has no container labels; these few are instructions to the platform (e.g. the local
    cluster's `ecs.operator.dev/kwok-fail-exit-code`), so they travel with the task definition revision.
    """
    found: dict[str, str] = {}
    for container in taskdef.get("containerDefinitions") or ():
        for key, value in (container.get("dockerLabels") or {}).items():
            if str(key).startswith(f"{API_GROUP}/"):
                found[str(key)] = str(value)
    return found


def annotate_pod_metadata(metadata: Mapping[str, Any], extra: Mapping[str, str]) -> dict[str, Any]:
    result = dict(metadata)
    if extra:
        result["annotations"] = {**(metadata.get("annotations") or {}), **extra}
    return result


def owner_reference(owner: Mapping[str, Any]) -> dict[str, str]:
    """The ownerReference identity the translate layer expects (apiVersion, kind, name, uid)."""
    return {
        "apiVersion": str(owner["apiVersion"]),
        "kind": str(owner["kind"]),
        "name": str(owner["metadata"]["name"]),
        "uid": str(owner["metadata"]["uid"]),
    }


def selector_string(match_labels: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))
