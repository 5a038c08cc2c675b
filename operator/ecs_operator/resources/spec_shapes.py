"""The spec models: pydantic models of the ECS request shapes the custom resources' specs are, built from
botocore's ECS model (`awsmodel/ecs.py`) as this module is imported, so the shapes have one description.

A model checks a spec's members as botocore's model has them (types, required and unknown members, enums,
lengths), in the words of the resources' errors (`spec_errors.py`); the CRDs' schemas and `kubectl explain`
are generated from the models, with botocore's first sentence on each member. Where a spec is more than a
request, it says so here:
- the members of describe output are accepted and dropped (`<Request>OrDescription`), so describe output
  applies as it is;
- `serviceName` is optional (the EcsService's name is the default);
- an optional enum member set to "" is unset, as the AWS SDKs send it (exporters write "");
- a required list inside a structure the translation only reports reads as empty (deploy tools leave empty
  lists out of the files they write);
- task sizes and the limits ECS documents are read by `limits.py` (the models publish the limits);
- a few members say what this project makes of them.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import Field, StrictBool, StrictInt, StrictStr

from ecs_operator.awsmodel.ecs import DESCRIBED, DOCS, SHAPES
from ecs_operator.resources.base import EcsShape, OutputOnly
from ecs_operator.resources.limits import LIMITS, TASK_SIZES, Limit, json_schema
from ecs_operator.resources.quantities import CPU_UNIT, TaskCpu, TaskMemory
from ecs_operator.translate.coverage import SHAPES as MAPPED_STRUCTURES

# Required by ECS, optional here because the custom resource supplies it: an EcsService's name is
# `metadata.name` unless `serviceName` says otherwise.
NOT_REQUIRED_HERE = {("CreateServiceRequest", "serviceName")}
CLUSTER_IGNORED = (
    "Accepted for compatibility with ECS input files and otherwise ignored: the namespace decides the "
    "cluster (the EcsCluster that owns it)."
)
TASK_DEFINITION_REFERENCE = (
    "The task definition to run: family (its latest ACTIVE revision), family:revision, or a full task "
    "definition ARN; task definitions are regional: resolved against the EcsTaskDefinition of that family."
)
DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("CreateServiceRequest", "cluster"): CLUSTER_IGNORED,
    ("RunTaskRequest", "cluster"): CLUSTER_IGNORED,
    ("CreateServiceRequest", "serviceName"): (
        "The name of your service (default: the EcsService's metadata.name)."
    ),
    ("CreateServiceRequest", "taskDefinition"): TASK_DEFINITION_REFERENCE,
    ("RunTaskRequest", "taskDefinition"): TASK_DEFINITION_REFERENCE,
}
OUTPUT_ONLY_NOTE = "Output-only in ECS describe output; accepted and ignored. "
_MODELS: dict[str, type[EcsShape]] = {}


def snake_case(name: str) -> str:
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()
    return words + "_" if keyword.iskeyword(words) or words in {"model_config"} else words


def model(name: str) -> type[EcsShape]:
    """The model of an ECS structure (`ContainerDefinition`, `CreateServiceRequest`, …), built once."""
    found = _MODELS.get(name)
    if found is None:
        found = _MODELS[name] = _structure(name)
    return found


def request_model(request: str) -> type[EcsShape]:
    """The model of a request shape a spec is: with the members of its describe shape when it has one."""
    name = f"{request}OrDescription" if request in DESCRIBED else request
    found = _MODELS.get(name)
    if found is None:
        found = _MODELS[name] = _or_description(request) if request in DESCRIBED else model(request)
    return found


def spec_model(name: str, request: str, doc: str, module: str, **members: tuple[Any, Any]) -> type[EcsShape]:
    """A kind's spec model: the request's, its own docstring (the CRD's spec description), and members of
    this project's (`member=(annotation, Field(...))`)."""
    namespace: dict[str, Any] = {
        "__module__": module,
        "__qualname__": name,
        "__doc__": doc,
        "__annotations__": {member: annotation for member, (annotation, _) in members.items()},
        **{member: default for member, (_, default) in members.items()},
    }
    return cast(type[EcsShape], type(name, (request_model(request),), namespace))


def _read_as_empty(name: str, shape: str) -> bool:
    """A required list of a structure translate/coverage.py does not map (it reports it whole)."""
    return name not in MAPPED_STRUCTURES and SHAPES[shape][0] == "list"


def _structure(name: str) -> type[EcsShape]:
    _, members, required_members = SHAPES[name]
    required = {
        member
        for member in required_members
        if (name, member) not in NOT_REQUIRED_HERE and not _read_as_empty(name, members[member])
    }
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name, "__annotations__": annotations}
    if name in DOCS:
        namespace["__doc__"] = DOCS[name]
    blank_enums = [m for m, s in members.items() if m not in required and _is_enum(s)]
    if blank_enums:
        annotations["blank_means_unset"] = ClassVar[frozenset[str]]
        namespace["blank_means_unset"] = frozenset(blank_enums)
    for member, shape in members.items():
        unit = TASK_SIZES.get((name, member))
        if unit is not None:
            typed = TaskCpu if unit == CPU_UNIT else TaskMemory
        else:
            typed = _annotation(shape, LIMITS.get((name, member)))
        attribute = snake_case(member)
        description = DESCRIPTIONS.get((name, member)) or DOCS.get(f"{name}.{member}", "")
        annotations[attribute] = typed if member in required else typed | None
        default = ... if member in required else None
        namespace[attribute] = Field(default, alias=member, description=description)
    return cast(type[EcsShape], type(name, (EcsShape,), namespace))


def _is_enum(shape: str) -> bool:
    return SHAPES[shape][0] == "string" and SHAPES[shape][1] is not None


def _or_description(request: str) -> type[EcsShape]:
    described, members = DESCRIBED[request]
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": f"{request}OrDescription",
        "__doc__": f"`{request}` that also accepts the output-only members of `{described}`.",
        "__annotations__": {"output_only": ClassVar[frozenset[str]]},
        "output_only": frozenset(members),
    }
    for member in members:
        namespace["__annotations__"][snake_case(member)] = OutputOnly
        description = OUTPUT_ONLY_NOTE + DOCS.get(f"{described}.{member}", "")
        namespace[snake_case(member)] = Field(None, alias=member, description=description)
    return cast(type[EcsShape], type(f"{request}OrDescription", (model(request),), namespace))


def _annotation(name: str, limit: Limit | None = None) -> Any:
    """The type of a member of shape `name`: botocore's rules as pydantic checks them, ECS's documented
    limit (`limits.py` checks it) only in the schema."""
    shape = SHAPES[name]
    kind = shape[0]
    checks: dict[str, int] = {}
    base: Any
    if kind == "string" and shape[1] is not None:
        base = Literal[shape[1]]
    elif kind == "string":
        base = StrictStr
        checks = {"min_length": shape[2], "max_length": shape[3]}
        checks = {k: v for k, v in checks.items() if v}
    elif kind in ("integer", "long", "double", "float"):
        base = StrictInt if kind in ("integer", "long") else float
        checks = {k: v for k, v in (("ge", shape[1]), ("le", shape[2])) if v is not None}
    elif kind == "list":
        base = list[_annotation(shape[1])]  # type: ignore[misc]
        checks = {k: v for k, v in (("min_length", shape[2]), ("max_length", shape[3])) if v is not None}
    elif kind == "map":
        base = dict[_annotation(shape[1]), _annotation(shape[2])]  # type: ignore[misc]
    else:
        base = _PLAIN.get(kind) or model(name)
    if checks:
        base = Annotated[base, Field(**checks)]  # type: ignore[call-overload]
    if limit:
        base = Annotated[base, Field(json_schema_extra=json_schema(limit, kind))]
    return base


_PLAIN: Mapping[str, Any] = {"boolean": StrictBool, "timestamp": OutputOnly}
