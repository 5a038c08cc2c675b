"""What every translate function returns: complete Kubernetes objects and the warnings met on the way."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TranslationWarning:
    """A member of the ECS input that Kubernetes cannot honour (fully); `path` is relative to the spec."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Translation:
    objects: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[TranslationWarning] = field(default_factory=list)


def in_path_order(warnings: Iterable[TranslationWarning]) -> list[TranslationWarning]:
    """Warnings sorted by path, indexes numerically (`[2]` before `[10]`); stable for equal paths."""

    def key(warning: TranslationWarning) -> list[tuple[int, int | str]]:
        return [(1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"(\d+)", warning.path)]

    return sorted(warnings, key=key)
