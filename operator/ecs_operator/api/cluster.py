"""EcsCluster (cluster-scoped): spec = a CreateCluster request; the cluster owns a Namespace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ecs_operator.api.conditions import KindStatus
from ecs_operator.api.parsing import parse
from ecs_operator.api.shapes import CreateClusterRequestOrDescription
from ecs_operator.api.validation import cluster_errors


class ClusterSpec(CreateClusterRequestOrDescription):
    """An ECS cluster: its services and tasks live in the namespace it owns."""


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
