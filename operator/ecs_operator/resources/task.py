"""EcsTask: spec = a RunTask request (`taskDefinition` is `family`, `family:revision` or an ARN)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from ecs_operator.resources.conditions import KindStatus, StatusShape
from ecs_operator.resources.parsing import SpecRules, check, parse
from ecs_operator.resources.rules import task_errors
from ecs_operator.resources.spec_shapes import spec_model

TaskSpec = spec_model(
    "TaskSpec",
    "RunTaskRequest",
    "Run `count` copies of a task definition once (a standalone task).",
    __name__,
    desired_status=(
        Literal["RUNNING", "STOPPED"] | None,
        Field(
            None,
            alias="desiredStatus",
            description="Not ECS (its StopTask call): STOPPED stops the tasks, as `aws ecs stop-task` does; "
            "the EcsTask and its status stay (default RUNNING).",
        ),
    ),
)
RULES = SpecRules("RunTaskRequest", task_errors)


class TaskContainer(StatusShape):
    """A container of a task, as in ECS's `Task.containers[]`."""

    name: str | None = Field(None, description="The container name.")
    last_status: str | None = Field(None, alias="lastStatus", description="PENDING, RUNNING or STOPPED.")
    exit_code: int | None = Field(None, alias="exitCode", description="The exit code once stopped.")
    reason: str | None = Field(None, description="Why it stopped, if it did.")


class TaskEntry(StatusShape):
    """One running copy of the task, as in ECS's `Task`."""

    task_arn: str | None = Field(None, alias="taskArn", description="The task's ID.")
    pod_name: str | None = Field(None, alias="podName", description="The Pod running it.")
    last_status: str | None = Field(
        None, alias="lastStatus", description="PROVISIONING, PENDING, RUNNING, DEPROVISIONING or STOPPED."
    )
    desired_status: str | None = Field(None, alias="desiredStatus", description="RUNNING or STOPPED.")
    stop_code: str | None = Field(
        None, alias="stopCode", description="e.g. EssentialContainerExited, TaskFailedToStart."
    )
    stopped_reason: str | None = Field(None, alias="stoppedReason", description="Why the task stopped.")
    containers: list[TaskContainer] | None = Field(None, description="The task's containers.")
    created_at: str | None = Field(None, alias="createdAt", description="When it was created (RFC 3339).")
    started_at: str | None = Field(None, alias="startedAt", description="When it started (RFC 3339).")
    stopped_at: str | None = Field(None, alias="stoppedAt", description="When it stopped (RFC 3339).")


class TaskStatus(KindStatus):
    """The tasks started for this EcsTask."""

    task_definition: str | None = Field(None, alias="taskDefinition", description="family:revision run.")
    last_status: str | None = Field(None, alias="lastStatus", description="The tasks' overall last status.")
    desired_status: str | None = Field(None, alias="desiredStatus", description="RUNNING or STOPPED.")
    tasks: list[TaskEntry] | None = Field(None, description="One entry per task (count of them).")


def parse_task(data: Mapping[str, Any]) -> dict[str, Any]:
    """An EcsTask's spec as normalized ECS JSON (SpecError naming every broken rule)."""
    return parse(TaskSpec, RULES, data)


def check_task_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A RunTask (or StartTask) request the ECS API has checked the members of, through ECS's rules."""
    return check(RULES, request)
