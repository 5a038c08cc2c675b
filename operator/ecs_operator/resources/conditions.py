"""Status pieces every kind shares: Kubernetes conditions and the permissive base for status models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ecs_operator.status.conditions import ConditionType

ConditionStatus = Literal["True", "False", "Unknown"]


class StatusShape(BaseModel):
    """Status the operator writes: known members typed, others kept, so a status write is never refused."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )


class Condition(StatusShape):
    """A Kubernetes condition, keyed by `type`."""

    type: ConditionType = Field(description="Ready, Progressing or Degraded.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str | None = Field(None, description="Why, in PascalCase (e.g. SteadyState, InvalidSpec).")
    message: str | None = Field(None, description="What happened, for humans.")
    last_transition_time: str | None = Field(
        None, alias="lastTransitionTime", description="When the status last changed (RFC 3339)."
    )
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The metadata.generation this condition is about."
    )


class KindStatus(StatusShape):
    """Members every kind's status has."""

    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The metadata.generation the operator last acted on."
    )
    conditions: list[Condition] | None = Field(None, description="Ready, Progressing and Degraded.")
    not_mapped: list[str] | None = Field(
        None,
        alias="notMapped",
        description="Members of the spec Kubernetes cannot honour, as `<json path>: <message>`.",
    )
