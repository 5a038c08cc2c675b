"""Whether a child needs applying: intent hashes and "does the live object already match" (pure).

The operator applies a child only when the live object is missing, when the intent itself changed (its
hash annotation differs) or when a field the intent sets differs in the live object (a manual edit, i.e.
drift). Fields the API server or other controllers add are not drift, so nothing is written at rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

from ecs_operator import labels


def intent_hash(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def with_intent_hash(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `obj` carrying the hash of itself in an annotation."""
    result = orjson.loads(orjson.dumps(obj))  # a deep copy; the hash keeps json's encoding
    annotations = result.setdefault("metadata", {}).setdefault("annotations", {})
    annotations.pop(labels.INTENT_ANNOTATION, None)
    annotations[labels.INTENT_ANNOTATION] = intent_hash(result)
    return dict(result)


_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$"
)
_SUFFIXES = {
    **{
        suffix: Decimal(1024) ** power
        for power, suffix in enumerate(("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))
    },
    **{"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3")},
    **{suffix: Decimal(1000) ** power for power, suffix in enumerate(("", "k", "M", "G", "T", "P", "E"))},
}


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity ("500m", "1Gi", "2e3", 2) as a number; None when it is not one (the API
    server's grammar: a number, then a binary or decimal SI suffix or a decimal exponent)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    found = _QUANTITY.match(str(value))
    if found is None:
        return None
    number, suffix, exponent = found.groups()
    if exponent is not None:
        return Decimal(number) * Decimal(10) ** int(exponent)
    return Decimal(number) * _SUFFIXES[suffix or ""]


def _scalar_equal(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, str) or isinstance(have, str):
        a, b = quantity(want), quantity(have)
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
    live_hash = (live.get("metadata", {}).get("annotations") or {}).get(labels.INTENT_ANNOTATION)
    want_hash = (intent.get("metadata", {}).get("annotations") or {}).get(labels.INTENT_ANNOTATION)
    if live_hash != want_hash:
        return True
    comparable = {k: v for k, v in intent.items() if k not in ("apiVersion", "kind", "status")}
    return not matches(comparable, live)
