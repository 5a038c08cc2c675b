"""Task-level sizes: ECS takes `cpu` as "1024" or "1 vCPU" and `memory` as "2048" or "2 GB"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

_SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[A-Za-z]+)?\s*$")
UNITS_PER = 1024  # 1024 CPU units = 1 vCPU; 1024 MiB = 1 GB in ECS's sizes
# No real size is longer ("0.25 vCPU", "122880"); the bound keeps the CRD's admission rules cheap.
MAX_LENGTH = 32


def normalize_size(value: Any, unit: str) -> str:
    """Normalize a task size: "0.5 vCPU" -> "512", "2 GB" -> "2048", 1024 -> "1024"."""
    expected = f'an integer or a string like "1024" or "1 {unit}"'
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("task_size", "must be {expected}", {"expected": expected})
    if isinstance(value, int):
        amount = Decimal(value)
    else:
        match = _SIZE.match(value) if len(value) <= MAX_LENGTH else None
        if match is None or (match["unit"] and match["unit"].lower() != unit.lower()):
            raise PydanticCustomError(
                "task_size", "{value!r} is not {expected}", {"value": value, "expected": expected}
            )
        try:
            amount = Decimal(match["number"]) * (UNITS_PER if match["unit"] else 1)
        except InvalidOperation as error:  # pragma: no cover - the pattern only admits decimals
            raise PydanticCustomError("task_size", "must be {expected}", {"expected": expected}) from error
    if amount <= 0 or amount != amount.to_integral_value():
        raise PydanticCustomError(
            "task_size", "{value!r} is not a positive whole number of units", {"value": value}
        )
    return str(int(amount))


def _normalize_cpu(value: Any) -> str:
    return normalize_size(value, "vCPU")


def _normalize_memory(value: Any) -> str:
    return normalize_size(value, "GB")


TaskCpu = Annotated[
    str,
    BeforeValidator(_normalize_cpu),
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_LENGTH,
            "description": 'Task CPU units: 1024 = 1 vCPU; "1024", 1024, "1 vCPU" or "0.5 vcpu".',
        }
    ),
]
TaskMemory = Annotated[
    str,
    BeforeValidator(_normalize_memory),
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_LENGTH,
            "description": 'Task memory in MiB: "2048", 2048 or "2 GB".',
        }
    ),
]
