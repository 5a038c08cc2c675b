"""EcsTaskDefinition (cluster-scoped, as task definitions are regional): spec = a RegisterTaskDefinition
request (describe-task-definition output applies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ecs_operator.resources.conditions import KindStatus
from ecs_operator.resources.parsing import parse
from ecs_operator.resources.rules import task_definition_errors
from ecs_operator.resources.shapes import RegisterTaskDefinitionRequestOrDescription


class TaskDefinitionSpec(RegisterTaskDefinitionRequestOrDescription):
    """A task definition family; every change to the spec registers a new revision."""


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


def parse_task_definition(data: Mapping[str, Any]) -> TaskDefinitionSpec:
    return parse(TaskDefinitionSpec, task_definition_errors, data)
