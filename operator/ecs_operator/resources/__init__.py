"""The custom resources: spec and status models of the ECS kinds, their CRDs, and the parsing of their specs.

A spec is the ECS request JSON (`EcsService.spec` is a CreateService request). `parse_*` take a spec
mapping and return it as normalized ECS JSON (what the translation layer consumes) or raise `SpecError`
naming every broken rule; `check_*_request` take a request whose members the ECS API has checked against
botocore's input shape and apply the rest of ECS's rules, giving the same JSON. The spec models are built
from botocore's ECS model (`awsmodel/ecs.py`, `spec_shapes.py`); ECS's limits are in `limits.py`, its
rules across members in `rules.py`. `check_service_against_task_definition(service, taskdef)` applies the
rules that need both (where a service meets its task definition: CreateService, UpdateService, `convert
--service`, the operator's service sync).
"""

from ecs_operator.resources.capacityprovider import check_capacity_provider_request, parse_capacity_provider
from ecs_operator.resources.cluster import ClusterSpec, ClusterStatus, check_cluster_request, parse_cluster
from ecs_operator.resources.conditions import Condition
from ecs_operator.resources.rules import check_service_against_task_definition
from ecs_operator.resources.service import ServiceSpec, ServiceStatus, check_service_request, parse_service
from ecs_operator.resources.spec_errors import FieldError, SpecError
from ecs_operator.resources.task import TaskSpec, TaskStatus, check_task_request, parse_task
from ecs_operator.resources.taskdefinition import (
    TaskDefinitionSpec,
    TaskDefinitionStatus,
    check_task_definition_request,
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
    "check_capacity_provider_request",
    "check_cluster_request",
    "check_service_against_task_definition",
    "check_service_request",
    "check_task_definition_request",
    "check_task_request",
    "parse_capacity_provider",
    "parse_cluster",
    "parse_service",
    "parse_task",
    "parse_task_definition",
]
