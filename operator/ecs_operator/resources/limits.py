"""ECS's rules on single members that botocore's model does not carry: the limits ECS documents and enforces
(at least 6 MiB for a container, at most 10 containers, names of up to 255 characters, health check
periods, …) and task sizes (`"1 vCPU"`, `"2 GB"`, `1024`, normalized to `"1024"`).

ECS checks them on the server once a request's members have their types, so the ECS API and the custom
resources both check them here, after botocore's member rules (`awsmodel/check.py` for a request, the spec
models for a resource) and before the rules across members (`rules.py`), in the words the spec models used
to say them in. The spec models publish the limits in the CRDs' schemas, so admission refuses them too
(and they bound the cost of the CRDs' CEL rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.awsmodel.check import join_path
from ecs_operator.awsmodel.ecs import SHAPES
from ecs_operator.resources.quantities import CPU_UNIT, MEMORY_UNIT, SizeError, normalize_size
from ecs_operator.resources.spec_errors import FieldError

Limit = Mapping[str, int]
Path = tuple[str | int, ...]
NAME_LIMIT = {"max_length": 255}
PORT_RANGE = {"ge": 0, "le": 65535}
LIMITS: dict[tuple[str, str], Limit] = {
    ("RegisterTaskDefinitionRequest", "family"): NAME_LIMIT,
    ("RegisterTaskDefinitionRequest", "containerDefinitions"): {"min_length": 1, "max_length": 10},
    ("RegisterTaskDefinitionRequest", "requiresCompatibilities"): {"max_length": 4},
    ("ContainerDefinition", "name"): NAME_LIMIT,
    ("ContainerDefinition", "dependsOn"): {"max_length": 10},
    ("ContainerDependency", "containerName"): NAME_LIMIT,
    ("ContainerDefinition", "cpu"): {"ge": 0},
    # ECS refuses a container with less than 6 MiB ("At least 6 MiB of memory is required").
    ("ContainerDefinition", "memory"): {"ge": 6},
    ("ContainerDefinition", "memoryReservation"): {"ge": 6},
    ("PortMapping", "containerPort"): PORT_RANGE,
    ("PortMapping", "hostPort"): PORT_RANGE,
    ("LoadBalancer", "containerPort"): PORT_RANGE,
    ("HealthCheck", "interval"): {"ge": 5, "le": 300},
    ("HealthCheck", "timeout"): {"ge": 2, "le": 60},
    ("HealthCheck", "retries"): {"ge": 1, "le": 10},
    ("HealthCheck", "startPeriod"): {"ge": 0, "le": 300},
    ("HealthCheck", "command"): {"min_length": 1},
    ("CreateServiceRequest", "serviceName"): NAME_LIMIT,
    ("CreateServiceRequest", "desiredCount"): {"ge": 0},
    ("CreateServiceRequest", "healthCheckGracePeriodSeconds"): {"ge": 0, "le": 2147483647},
    ("DeploymentConfiguration", "minimumHealthyPercent"): {"ge": 0, "le": 100},
    ("DeploymentConfiguration", "maximumPercent"): {"ge": 0},
    ("RunTaskRequest", "count"): {"ge": 1, "le": 10},
    ("CreateClusterRequest", "clusterName"): NAME_LIMIT,
    ("CreateCapacityProviderRequest", "name"): NAME_LIMIT,
}
# Members that are task sizes, with the unit their strings may carry.
TASK_SIZES: dict[tuple[str, str], str] = {
    ("RegisterTaskDefinitionRequest", "cpu"): CPU_UNIT,
    ("RegisterTaskDefinitionRequest", "memory"): MEMORY_UNIT,
    ("TaskOverride", "cpu"): CPU_UNIT,
    ("TaskOverride", "memory"): MEMORY_UNIT,
}
_SCHEMA_KEYS = {"ge": "minimum", "le": "maximum"}


def json_schema(limit: Limit, kind: str) -> dict[str, Any]:
    """The limit as the CRD's schema says it (`minimum`, `maxLength`, `minItems`, …)."""
    noun = "Items" if kind == "list" else "Length"
    names = {**_SCHEMA_KEYS, "min_length": f"min{noun}", "max_length": f"max{noun}"}
    return {names[key]: value for key, value in limit.items()}


def checked(shape_name: str, value: Any) -> tuple[Any, list[FieldError]]:
    """`value` (of the shape, its members' types already checked) without nulls and with its task sizes
    normalized, and every limit or size rule it breaks."""
    errors: list[FieldError] = []
    return _walk(shape_name, value, (), errors), errors


def _walk(shape_name: str | None, value: Any, path: Path, errors: list[FieldError]) -> Any:
    shape = SHAPES[shape_name] if shape_name is not None else ("unknown",)
    if isinstance(value, Mapping):
        if shape[0] == "structure":
            return _structure(str(shape_name), shape[1], value, path, errors)
        item_shape = shape[2] if shape[0] == "map" else None
        return {k: _walk(item_shape, v, (*path, str(k)), errors) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        item_shape = shape[1] if shape[0] == "list" else None
        return [_walk(item_shape, item, (*path, index), errors) for index, item in enumerate(value)]
    return value


def _structure(
    name: str, members: Mapping[str, str], value: Mapping[str, Any], path: Path, errors: list[FieldError]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    # In the shape's order, as the spec models give it, whatever order a request had.
    for member in [*(m for m in members if m in value), *(k for k in value if k not in members)]:
        item = value[member]
        if item is None:
            continue
        where = (*path, member)
        unit = TASK_SIZES.get((name, member))
        if unit is not None:
            try:
                result[member] = normalize_size(item, unit)
            except SizeError as error:
                errors.append(FieldError(join_path(*where), str(error)))
                result[member] = item
            continue
        result[member] = _walk(members.get(member), item, where, errors)
        limit = LIMITS.get((name, member))
        if limit is not None:
            errors += [FieldError(join_path(*where), message) for message in broken(limit, item)]
    return result


def broken(limit: Limit, value: Any) -> list[str]:
    """What `value` breaks of `limit`, as pydantic words it (the words the spec models used to say)."""
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = limit.get("ge"), limit.get("le")
        if low is not None and value < low:
            return [f"must be greater than or equal to {low}"]
        if high is not None and value > high:
            return [f"must be less than or equal to {high}"]
        return []
    if isinstance(value, str):
        noun, after = "character", ""
    elif isinstance(value, list):
        noun, after = "item", f" after validation, not {len(value)}"
    else:
        return []
    low, high = limit.get("min_length"), limit.get("max_length")
    if low is not None and len(value) < low:
        return [f"must have at least {low} {noun}{'' if low == 1 else 's'}{after}"]
    if high is not None and len(value) > high:
        return [f"must have at most {high} {noun}{'' if high == 1 else 's'}{after}"]
    return []
