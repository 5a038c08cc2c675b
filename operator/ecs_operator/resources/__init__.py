"""The ECS API shapes this project speaks: spec and status models of the four kinds, and their validation.

`parse_*` take a spec mapping (the ECS request JSON) and return the model or raise `SpecError` naming every
broken rule; `spec.to_ecs()` gives the normalized ECS JSON the translation layer consumes.
`check_service_against_task_definition(service, taskdef)` applies the rules that need both (where a service
meets its task definition: CreateService, UpdateService, `convert --service`, the operator's service sync).
"""

from ecs_operator.resources.cluster import ClusterSpec, ClusterStatus, parse_cluster
from ecs_operator.resources.conditions import Condition
from ecs_operator.resources.rules import check_service_against_task_definition
from ecs_operator.resources.service import ServiceSpec, ServiceStatus, parse_service
from ecs_operator.resources.spec_errors import FieldError, SpecError
from ecs_operator.resources.task import TaskSpec, TaskStatus, parse_task
from ecs_operator.resources.taskdefinition import (
    TaskDefinitionSpec,
    TaskDefinitionStatus,
    parse_task_definition,
)

__all__ = [
    "ClusterSpec",
    "ClusterStatus",
    "Condition",
    "FieldError",
    "ServiceSpec",
    "ServiceStatus",
    "SpecError",
    "TaskDefinitionSpec",
    "TaskDefinitionStatus",
    "TaskSpec",
    "TaskStatus",
    "check_service_against_task_definition",
    "parse_cluster",
    "parse_service",
    "parse_task",
    "parse_task_definition",
]
