"""EcsTaskDefinition (cluster-scoped, as task definitions are regional): spec = a RegisterTaskDefinition
request (describe-task-definition output applies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ecs_operator.resources.conditions import KindStatus
from ecs_operator.resources.parsing import SpecRules, check, parse
from ecs_operator.resources.rules import task_definition_errors
from ecs_operator.resources.spec_shapes import spec_model

TaskDefinitionSpec = spec_model(
    "TaskDefinitionSpec",
    "RegisterTaskDefinitionRequest",
    "A task definition family; every change to the spec registers a new revision.",
    __name__,
)
RULES = SpecRules("RegisterTaskDefinitionRequest", task_definition_errors)


class TaskDefinitionStatus(KindStatus):
    """The registered revisions of this family."""

    family: str | None = Field(None, description="The family name.")
    latest_revision: int | None = Field(
        None, alias="latestRevision", description="The newest revision number."
    )
    task_definition: str | None = Field(
        None, alias="taskDefinition", description="The newest revision as family:revision."
    )
    active_revisions: list[int] | None = Field(
        None, alias="activeRevisions", description="Revisions that are ACTIVE (usable by new tasks)."
    )
    inactive_revisions: list[int] | None = Field(
        None, alias="inactiveRevisions", description="Deregistered revisions (INACTIVE)."
    )
    delete_in_progress_revisions: list[int] | None = Field(
        None,
        alias="deleteInProgressRevisions",
        description="Deleted revisions still run by a service or task (DELETE_IN_PROGRESS).",
    )


def parse_task_definition(data: Mapping[str, Any]) -> dict[str, Any]:
    """An EcsTaskDefinition's spec as normalized ECS JSON (SpecError naming every broken rule)."""
    return parse(TaskDefinitionSpec, RULES, data)


def check_task_definition_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A RegisterTaskDefinition request the ECS API has checked the members of, through ECS's rules."""
    return check(RULES, request)
