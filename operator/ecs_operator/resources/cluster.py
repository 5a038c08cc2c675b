"""EcsCluster (cluster-scoped): spec = a CreateCluster request; the cluster owns a Namespace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from ecs_operator.resources.conditions import KindStatus, StatusShape
from ecs_operator.resources.parsing import SpecRules, check, parse
from ecs_operator.resources.rules import cluster_errors
from ecs_operator.resources.service import ServiceEvent, StoppedServiceTask
from ecs_operator.resources.spec_shapes import spec_model

NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

ClusterSpec = spec_model(
    "ClusterSpec",
    "CreateClusterRequest",
    "An ECS cluster: its services and tasks live in the namespace it owns.",
    __name__,
    namespace=(
        Annotated[str, Field(max_length=63, pattern=NAMESPACE_PATTERN)] | None,
        Field(
            None,
            description="Not ECS: the namespace the cluster owns and its services and tasks live in "
            "(default: the cluster's metadata.name).",
        ),
    ),
)
RULES = SpecRules("CreateClusterRequest", cluster_errors)


class InactiveServiceMetadata(StatusShape):
    name: str | None = Field(None, description="The EcsService's metadata.name.")
    uid: str | None = Field(None, description="The EcsService's uid.")
    creation_timestamp: str | None = Field(
        None, alias="creationTimestamp", description="When the service was created (RFC 3339)."
    )


class InactiveServiceStatus(StatusShape):
    task_definition: str | None = Field(
        None, alias="taskDefinition", description="family:revision it ran last."
    )
    events: list[ServiceEvent] | None = Field(None, description="Its last service events, newest first.")
    stopped_tasks: list[StoppedServiceTask] | None = Field(
        None, alias="stoppedTasks", description="Its last stopped tasks, newest first."
    )


class InactiveService(StatusShape):
    """A deleted service, as DescribeServices answers it (INACTIVE) for an hour."""

    metadata: InactiveServiceMetadata | None = Field(None, description="Who it was.")
    spec: dict[str, Any] | None = Field(
        None,
        description="Its last spec (a CreateService request).",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )
    status: InactiveServiceStatus | None = Field(None, description="The end of its status.")
    deleted_at: str | None = Field(None, alias="deletedAt", description="When it was deleted (RFC 3339).")


class ClusterStatus(KindStatus):
    """The cluster as ECS's describe-clusters reports it, plus conditions."""

    status: str | None = Field(None, description="PROVISIONING, ACTIVE, DEPROVISIONING or INACTIVE.")
    namespace: str | None = Field(None, description="The namespace the cluster owns.")
    registered_container_instances_count: int | None = Field(
        None,
        alias="registeredContainerInstancesCount",
        description="Nodes labelled as its container instances.",
    )
    running_tasks_count: int | None = Field(None, alias="runningTasksCount", description="Tasks in RUNNING.")
    pending_tasks_count: int | None = Field(None, alias="pendingTasksCount", description="Tasks in PENDING.")
    active_services_count: int | None = Field(
        None, alias="activeServicesCount", description="ACTIVE services."
    )
    inactive_services: list[InactiveService] | None = Field(
        None,
        alias="inactiveServices",
        description="Services deleted in the last hour (at most 20), newest first.",
    )


def parse_cluster(data: Mapping[str, Any]) -> dict[str, Any]:
    """An EcsCluster's spec as normalized ECS JSON (SpecError naming every broken rule)."""
    return parse(ClusterSpec, RULES, data)


def check_cluster_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A cluster as CreateCluster or an update makes it, its members checked, through ECS's rules."""
    return check(RULES, request)
