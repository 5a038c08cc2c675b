"""What every translate function returns: complete Kubernetes objects and the warnings met on the way."""

from __future__ import annotations

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
