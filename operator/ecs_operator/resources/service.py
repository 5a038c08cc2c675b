"""EcsService: spec = a CreateService request (describe-services output applies).

`cluster` is accepted for compatibility but the namespace decides the cluster; `serviceName` defaults to
`metadata.name`; `taskDefinition` is `family`, `family:revision` or a task definition ARN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from ecs_operator.resources.conditions import KindStatus, StatusShape
from ecs_operator.resources.parsing import SpecRules, check, members, parse
from ecs_operator.resources.rules import service_errors
from ecs_operator.resources.spec_shapes import spec_model
from ecs_operator.resources.task import TaskEntry

ServiceSpec = spec_model(
    "ServiceSpec",
    "CreateServiceRequest",
    "Keep desiredCount tasks of a task definition running, rolling them when it changes.",
    __name__,
)
RULES = SpecRules("CreateServiceRequest", service_errors)


class ServiceDeployment(StatusShape):
    """One deployment of the service, as in ECS's `Service.deployments[]`."""

    id: str | None = Field(None, description="The deployment's ID.")
    status: Literal["PRIMARY", "ACTIVE", "INACTIVE"] | None = Field(
        None, description="PRIMARY (newest), ACTIVE (being replaced) or INACTIVE."
    )
    task_definition: str | None = Field(None, alias="taskDefinition", description="family:revision.")
    desired_count: int | None = Field(None, alias="desiredCount", description="Tasks this deployment wants.")
    pending_count: int | None = Field(None, alias="pendingCount", description="Tasks in PENDING.")
    running_count: int | None = Field(None, alias="runningCount", description="Tasks in RUNNING.")
    failed_tasks: int | None = Field(None, alias="failedTasks", description="Tasks that failed to start.")
    rollout_state: Literal["IN_PROGRESS", "COMPLETED", "FAILED"] | None = Field(
        None, alias="rolloutState", description="IN_PROGRESS, COMPLETED or FAILED."
    )
    rollout_state_reason: str | None = Field(None, alias="rolloutStateReason", description="Why.")
    created_at: str | None = Field(None, alias="createdAt", description="When it started (RFC 3339).")
    updated_at: str | None = Field(None, alias="updatedAt", description="When it last changed (RFC 3339).")
    template_key: str | None = Field(
        None,
        alias="templateKey",
        description="Not ECS: the digest of the deployment's pod template (a new one is a new deployment).",
    )


class StoppedServiceTask(TaskEntry):
    """A task of the service whose Pod is gone, as DescribeTasks answers it for an hour."""

    task_definition: str | None = Field(None, alias="taskDefinition", description="family:revision it ran.")
    started_by: str | None = Field(None, alias="startedBy", description="The deployment that started it.")
    node: str | None = Field(None, description="Not ECS: the Node it ran on.")


class ServiceEvent(StatusShape):
    """An ECS service event, e.g. `(service web) has reached a steady state.`"""

    id: str | None = Field(None, description="The event's ID.")
    created_at: str | None = Field(None, alias="createdAt", description="When it happened (RFC 3339).")
    message: str | None = Field(None, description="The event text.")


class ServiceStatus(KindStatus):
    """The service as ECS's describe-services reports it, plus conditions."""

    status: str | None = Field(None, description="ACTIVE, DRAINING or INACTIVE.")
    desired_count: int | None = Field(None, alias="desiredCount", description="Tasks wanted.")
    running_count: int | None = Field(None, alias="runningCount", description="Tasks in RUNNING.")
    pending_count: int | None = Field(None, alias="pendingCount", description="Tasks in PENDING.")
    task_definition: str | None = Field(
        None, alias="taskDefinition", description="The PRIMARY deployment's family:revision."
    )
    selector: str | None = Field(None, description="Label selector of the tasks (for the scale subresource).")
    deployments: list[ServiceDeployment] | None = Field(None, description="Deployments, newest first.")
    events: list[ServiceEvent] | None = Field(None, description="Recent service events, newest first.")
    task_names: list[str] | None = Field(
        None,
        alias="taskNames",
        description="Not ECS: the tasks PENDING or RUNNING when the status was written (the service's "
        "started/stopped events follow them, across operator restarts).",
    )
    stopped_tasks: list[StoppedServiceTask] | None = Field(
        None,
        alias="stoppedTasks",
        description="Tasks stopped in the last hour (at most 100), newest first: what DescribeTasks and "
        "ListTasks --desired-status STOPPED answer once their Pods are gone.",
    )


def parse_service(data: Mapping[str, Any]) -> dict[str, Any]:
    """An EcsService's spec as normalized ECS JSON (SpecError naming every broken rule)."""
    return parse(ServiceSpec, RULES, data)


def parse_service_members(data: Mapping[str, Any]) -> dict[str, Any]:
    """Members of an EcsService's spec as ECS JSON, checked by the spec model only: what UpdateService
    keeps of the stored spec, before ECS's rules check the service it makes (`check_service_request`)."""
    return members(ServiceSpec, data)


def check_service_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A service as CreateService or UpdateService makes it, its members checked, through ECS's rules."""
    return check(RULES, request)
