"""The operations layer's table: every supported ECS operation, by its name, to its function.

Each function takes a `Context` and the request (botocore's input shape, as a dict) and returns the
response (the output shape), or raises an `EcsError`. The endpoint, `kubectl ecs` and the console call
these; they only parse and format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ecs_operator.awsmodel.ecs import OPERATIONS as MODELLED
from ecs_operator.ecsapi import (
    accountsettings,
    capacityproviders,
    clusters,
    instances,
    services,
    tags,
    taskdefinitions,
    tasks,
)
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.errors import UnknownOperationException
from ecs_operator.ecsapi.validate import check_request

Operation = Callable[[Context, Any], Any]

OPERATIONS: dict[str, Operation] = {
    "CreateCluster": clusters.create_cluster,
    "DescribeClusters": clusters.describe_clusters,
    "ListClusters": clusters.list_clusters,
    "DeleteCluster": clusters.delete_cluster,
    "UpdateCluster": clusters.update_cluster,
    "UpdateClusterSettings": clusters.update_cluster_settings,
    "PutClusterCapacityProviders": clusters.put_cluster_capacity_providers,
    "CreateCapacityProvider": capacityproviders.create_capacity_provider,
    "DescribeCapacityProviders": capacityproviders.describe_capacity_providers,
    "UpdateCapacityProvider": capacityproviders.update_capacity_provider,
    "DeleteCapacityProvider": capacityproviders.delete_capacity_provider,
    "PutAccountSetting": accountsettings.put_account_setting,
    "PutAccountSettingDefault": accountsettings.put_account_setting_default,
    "ListAccountSettings": accountsettings.list_account_settings,
    "DeleteAccountSetting": accountsettings.delete_account_setting,
    "RegisterTaskDefinition": taskdefinitions.register_task_definition,
    "DescribeTaskDefinition": taskdefinitions.describe_task_definition,
    "ListTaskDefinitions": taskdefinitions.list_task_definitions,
    "ListTaskDefinitionFamilies": taskdefinitions.list_task_definition_families,
    "DeregisterTaskDefinition": taskdefinitions.deregister_task_definition,
    "DeleteTaskDefinitions": taskdefinitions.delete_task_definitions,
    "CreateService": services.create_service,
    "DescribeServices": services.describe_services,
    "ListServices": services.list_services,
    "UpdateService": services.update_service,
    "DeleteService": services.delete_service,
    "ListServiceDeployments": services.list_service_deployments,
    "DescribeServiceDeployments": services.describe_service_deployments,
    "RunTask": tasks.run_task,
    "StartTask": tasks.start_task,
    "StopTask": tasks.stop_task,
    "DescribeTasks": tasks.describe_tasks,
    "ListTasks": tasks.list_tasks,
    "ListContainerInstances": instances.list_container_instances,
    "DescribeContainerInstances": instances.describe_container_instances,
    "UpdateContainerInstancesState": instances.update_container_instances_state,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsForResource": tags.list_tags_for_resource,
}
assert tuple(OPERATIONS) == MODELLED, "model.py and this table list the same operations"


def call(ctx: Context, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `request` against the operation's input shape, then run it (the untyped entry point the
    endpoint and `kubectl ecs` share)."""
    function = OPERATIONS.get(operation)
    if function is None:
        raise UnknownOperationException(f"Unknown operation {operation!r}.")
    check_request(operation, request)
    result: dict[str, Any] = function(ctx, dict(request))
    return result
