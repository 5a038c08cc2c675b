"""Task-level sizes: ECS takes `cpu` as "1024" or "1 vCPU" and `memory` as "2048" or "2 GB"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import WithJsonSchema

_SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[A-Za-z]+)?\s*$")
UNITS_PER = 1024  # 1024 CPU units = 1 vCPU; 1024 MiB = 1 GB in ECS's sizes
# No real size is longer ("0.25 vCPU", "122880"); the bound keeps the CRD's admission rules cheap.
MAX_LENGTH = 32
CPU_UNIT = "vCPU"
MEMORY_UNIT = "GB"


class SizeError(ValueError):
    """A task size ECS does not read; the message says what it takes."""


def normalize_size(value: Any, unit: str) -> str:
    """Normalize a task size: "0.5 vCPU" -> "512", "2 GB" -> "2048", 1024 -> "1024"."""
    expected = f'an integer or a string like "1024" or "1 {unit}"'
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SizeError(f"must be {expected}")
    if isinstance(value, int):
        amount = Decimal(value)
    else:
        match = _SIZE.match(value) if len(value) <= MAX_LENGTH else None
        if match is None or (match["unit"] and match["unit"].lower() != unit.lower()):
            raise SizeError(f"{value!r} is not {expected}")
        try:
            amount = Decimal(match["number"]) * (UNITS_PER if match["unit"] else 1)
        except InvalidOperation as error:  # pragma: no cover - the pattern only admits decimals
            raise SizeError(f"must be {expected}") from error
    if amount <= 0 or amount != amount.to_integral_value():
        raise SizeError(f"{value!r} is not a positive whole number of units")
    return str(int(amount))


# What the spec models take for a size: anything, as the size rules (limits.py) read and normalize it;
# what the CRD publishes: an integer or a string.
TaskCpu = Annotated[
    Any,
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_LENGTH,
            "description": 'Task CPU units: 1024 = 1 vCPU; "1024", 1024, "1 vCPU" or "0.5 vcpu".',
        }
    ),
]
TaskMemory = Annotated[
    Any,
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_LENGTH,
            "description": 'Task memory in MiB: "2048", 2048 or "2 GB".',
        }
    ),
]
