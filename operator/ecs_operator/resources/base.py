"""The base every ECS shape model shares: ECS's own member names, strict types, unknown members refused."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, WithJsonSchema, model_validator

# Members that only describe output carries (ARNs, timestamps, counts): any JSON, kept out of `to_ecs()`.
OutputOnly = Annotated[Any, WithJsonSchema({"x-kubernetes-preserve-unknown-fields": True})]


class EcsShape(BaseModel):
    """A shape of the ECS API: camelCase aliases, no coercion ECS would not do, unknown members refused."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    output_only: ClassVar[frozenset[str]] = frozenset()
    # Optional enum members where "" means "not set", as the AWS SDKs send it (exporters write "").
    blank_means_unset: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_blank_enums(cls, data: Any) -> Any:
        if isinstance(data, dict) and cls.blank_means_unset:
            return {k: v for k, v in data.items() if not (v == "" and k in cls.blank_means_unset)}
        return data

    def to_ecs(self) -> dict[str, Any]:
        """The members as ECS JSON: camelCase names, no None values, output-only members removed (task
        sizes as given: `limits.py` reads and normalizes them)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for member in self.output_only:
            data.pop(member, None)
        return data
