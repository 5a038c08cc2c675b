"""EcsCluster (cluster-scoped): spec = a CreateCluster request; the cluster owns a Namespace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from ecs_operator.api.conditions import KindStatus
from ecs_operator.api.parsing import parse
from ecs_operator.api.shapes import CreateClusterRequestOrDescription
from ecs_operator.api.validation import cluster_errors

NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ClusterSpec(CreateClusterRequestOrDescription):
    """An ECS cluster: its services and tasks live in the namespace it owns."""

    namespace: Annotated[str, Field(max_length=63, pattern=NAMESPACE_PATTERN)] | None = Field(
        None,
        description="Not ECS: the namespace the cluster owns and its services and tasks live in "
        "(default: the cluster's metadata.name).",
    )


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


def parse_cluster(data: Mapping[str, Any]) -> ClusterSpec:
    return parse(ClusterSpec, cluster_errors, data)
