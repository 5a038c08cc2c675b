"""Write `ecs.py`, `sts.py` and `autoscaling.py`: what this project uses of botocore's models, as Python data.

Run `python -m ecs_operator.awsmodel.generate` after upgrading botocore; a unit test fails when a checked-in
module differs from what this writes. botocore is a development dependency only: the operator imports the
generated modules, never botocore.

Each module holds, for the operations the endpoint serves: the protocol's names, the input and output shape
of each operation, its error shapes, and every shape those reach in a compact form (`compact` below) that the
request checker (`check.py`), the wire protocols and `kubectl ecs` walk. ECS's module also holds what the
custom resources need of the request shapes their specs are (`SPECS`): botocore's documentation (the CRDs'
descriptions, `kubectl explain`) and the members of describe output a pasted spec may carry; and the
waiters, paginators and one TypedDict per request and response (the operations' signatures).
"""

from __future__ import annotations

import html
import json
import pprint
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
COMMAND = "python -m ecs_operator.awsmodel.generate"
# The request shapes the custom resources' specs are, with the describe shape whose other members are
# output-only (accepted in a spec, so describe output applies as is).
SPECS: dict[str, str | None] = {
    "RegisterTaskDefinitionRequest": "TaskDefinition",
    "CreateServiceRequest": "Service",
    "RunTaskRequest": None,
    "CreateClusterRequest": "Cluster",
    "CreateCapacityProviderRequest": "CapacityProvider",
}
PYTHON_TYPES = {
    "string": "str",
    "integer": "int",
    "long": "int",
    "boolean": "bool",
    "double": "float",
    "float": "float",
    "timestamp": "float",
    "list": "list[Any]",
    "map": "dict[str, Any]",
    "structure": "dict[str, Any]",
    "blob": "str",
}


@dataclass(frozen=True)
class Service:
    """One botocore service model and what this project uses of it."""

    name: str  # botocore's
    module: str  # the generated module, beside this file
    operations: tuple[str, ...]
    output_shapes: bool = True  # the protocol writes its answers by shape (XML), so they are walked too
    patterns: bool = True  # a string's pattern, where Python's `re` reads it (botocore's are Java's)
    waiters: tuple[str, ...] = ()
    typed: bool = False  # TypedDicts of the requests and responses, the specs' documentation
    specs: Mapping[str, str | None] = field(default_factory=dict)


ECS = Service(
    "ecs",
    "ecs.py",
    (
        "CreateCluster", "DescribeClusters", "ListClusters", "DeleteCluster", "UpdateCluster",
        "UpdateClusterSettings", "PutClusterCapacityProviders", "CreateCapacityProvider",
        "DescribeCapacityProviders", "UpdateCapacityProvider", "DeleteCapacityProvider", "PutAccountSetting",
        "PutAccountSettingDefault", "ListAccountSettings", "DeleteAccountSetting", "RegisterTaskDefinition",
        "DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies",
        "DeregisterTaskDefinition", "DeleteTaskDefinitions", "CreateService", "DescribeServices",
        "ListServices", "UpdateService", "DeleteService", "ListServiceDeployments",
        "DescribeServiceDeployments", "RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
        "ListContainerInstances", "DescribeContainerInstances", "UpdateContainerInstancesState",
        "TagResource", "UntagResource", "ListTagsForResource",
    ),
    output_shapes=False,
    patterns=False,  # ECS's only readable ones (instance types) are not checked by the spec models either
    waiters=("ServicesStable", "ServicesInactive", "TasksRunning", "TasksStopped"),
    typed=True,
    specs=SPECS,
)  # fmt: skip
STS = Service(
    "sts", "sts.py", ("GetCallerIdentity", "AssumeRole", "AssumeRoleWithWebIdentity", "GetSessionToken")
)
AUTOSCALING = Service(
    "application-autoscaling",
    "autoscaling.py",
    (
        "RegisterScalableTarget", "DeregisterScalableTarget", "DescribeScalableTargets", "PutScalingPolicy",
        "DeleteScalingPolicy", "DescribeScalingPolicies", "DescribeScalingActivities", "PutScheduledAction",
        "DescribeScheduledActions", "DeleteScheduledAction",
    ),
)  # fmt: skip
SERVICES = (ECS, STS, AUTOSCALING)


def load(service: str, name: str) -> dict[str, Any]:
    from botocore.loaders import Loader

    model: dict[str, Any] = json.loads(json.dumps(Loader().load_service_model(service, name)))
    return model  # plain dicts (botocore's loader gives OrderedDicts)


def children(shape: Mapping[str, Any]) -> Iterator[str]:
    if shape["type"] == "structure":
        for member in shape["members"].values():
            yield member["shape"]
    elif shape["type"] == "list":
        yield shape["member"]["shape"]
    elif shape["type"] == "map":
        yield shape["key"]["shape"]
        yield shape["value"]["shape"]


def reachable(shapes: Mapping[str, Any], roots: list[str]) -> list[str]:
    """Every shape the roots use, structures or not, in name order."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending += children(shapes[name])
    return sorted(seen)


def python_pattern(pattern: str | None) -> str | None:
    if pattern is None:
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None  # Java's character classes (\p{L}, XML-character surrogate ranges)
    return pattern


def compact(shape: Mapping[str, Any], patterns: bool) -> tuple[Any, ...]:
    """(type, details...): structure (members name->shape in botocore's order, required), list (member,
    min, max), map (key, value), string (enum or None, min, max[, pattern]), number (min, max), other types
    alone."""
    kind = shape["type"]
    if kind == "structure":
        members = {name: m["shape"] for name, m in shape["members"].items()}
        return (kind, members, tuple(shape.get("required", ())))
    if kind == "list":
        return (kind, shape["member"]["shape"], shape.get("min"), shape.get("max"))
    if kind == "map":
        return (kind, shape["key"]["shape"], shape["value"]["shape"])
    if kind == "string":
        enum = tuple(shape["enum"]) if "enum" in shape else None
        pattern = python_pattern(shape.get("pattern")) if patterns else None
        details = (kind, enum, shape.get("min"), shape.get("max"))
        return (*details, pattern) if pattern else details
    if kind in ("integer", "long", "double", "float"):
        return (kind, shape.get("min"), shape.get("max"))
    return (kind,)


def summary(documentation: str, limit: int = 300) -> str:
    """The first sentence of botocore's HTML documentation, as plain text for `kubectl explain`."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", documentation))
    text = re.sub(r"\s+", " ", text).strip()
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def spec_documentation(shapes: Mapping[str, Any], specs: Mapping[str, str | None]) -> dict[str, str]:
    """ "Shape" and "Shape.member" -> botocore's first sentence, for every structure the specs reach and the
    output-only members of their describe shapes."""
    docs: dict[str, str] = {}
    for name in reachable(shapes, list(specs)):
        shape = shapes[name]
        if shape["type"] != "structure":
            continue
        docs[name] = summary(shape.get("documentation", ""))
        for member, spec in shape["members"].items():
            docs[f"{name}.{member}"] = summary(spec.get("documentation", ""))
    for request, described in specs.items():
        if described is None:
            continue
        for member in output_only(shapes, request, described):
            docs[f"{described}.{member}"] = summary(
                shapes[described]["members"][member].get("documentation", "")
            )
    return {key: text for key, text in docs.items() if text}


def output_only(shapes: Mapping[str, Any], request: str, described: str) -> list[str]:
    return [m for m in shapes[described]["members"] if m not in shapes[request]["members"]]


def typed_dict(name: str, shape: Mapping[str, Any], shapes: Mapping[str, Any]) -> str:
    required = set(shape.get("required", ()))
    lines = [f"class {name}(TypedDict, total=False):"]
    members = shape["members"]
    if not members:
        lines.append("    pass")
    for member, spec in members.items():
        python = PYTHON_TYPES[shapes[spec["shape"]]["type"]]
        lines.append(f"    {member}: {f'Required[{python}]' if member in required else python}")
    return "\n".join(lines)


def literal(value: Any) -> str:
    """Python source of JSON-like data; tuples stay tuples, dicts keep their order."""
    return pprint.pformat(value, width=110, sort_dicts=False)


def errors(model: Mapping[str, Any], operations: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    names = sorted({e["shape"] for op in operations.values() for e in op.get("errors", ())})
    found = {}
    for name in names:
        error = model["shapes"][name].get("error", {})
        found[name] = (str(error.get("code", name)), int(error.get("httpStatusCode", 400)))
    return found


def protocol_part(service: Service, model: Mapping[str, Any]) -> list[str]:
    """The wire names, the operations with their input and output shapes and errors, and the shapes."""
    metadata = model["metadata"]
    shapes = model["shapes"]
    operations = {name: model["operations"][name] for name in service.operations}
    inputs = {name: op["input"]["shape"] for name, op in operations.items()}
    outputs = {name: op["output"]["shape"] for name, op in operations.items()}
    roots = [*inputs.values(), *(outputs.values() if service.output_shapes else ())]
    compact_shapes = {name: compact(shapes[name], service.patterns) for name in reachable(shapes, roots)}
    parts = [
        f"PROTOCOL = {metadata['protocol']!r}",
        f"TARGET_PREFIX = {metadata.get('targetPrefix', '')!r}",
        f"SIGNING_NAME = {metadata.get('signingName', metadata['endpointPrefix'])!r}",
        f"API_VERSION = {metadata['apiVersion']!r}",
        f"OPERATIONS: tuple[str, ...] = {literal(service.operations)}",
        f"INPUTS: dict[str, str] = {literal(inputs)}",
        f"OUTPUTS: dict[str, str] = {literal(outputs)}",
    ]
    if metadata["protocol"] == "query":
        wrappers = {name: op["output"].get("resultWrapper") for name, op in operations.items()}
        parts += [
            f"XML_NAMESPACE = {metadata.get('xmlNamespace', '')!r}",
            f"RESULT_WRAPPERS: dict[str, str | None] = {literal(wrappers)}",
        ]
    return [
        *parts,
        "# Error shape -> (the code on the wire, HTTP status).",
        f"ERRORS: dict[str, tuple[str, int]] = {literal(errors(model, operations))}",
        "# The shapes of the inputs (and outputs): (type, ...) as `generate.compact` documents.",
        f"SHAPES: dict[str, tuple[Any, ...]] = {literal(compact_shapes)}",
    ]


def typed_part(service: Service, model: Mapping[str, Any]) -> list[str]:
    """The specs' documentation and describe members, waiters, paginators and TypedDicts."""
    shapes = model["shapes"]
    operations = [model["operations"][name] for name in service.operations]
    waiters = load(service.name, "waiters-2")["waiters"]
    paginators = load(service.name, "paginators-1")["pagination"]
    described = {
        request: (shape, tuple(output_only(shapes, request, shape)))
        for request, shape in service.specs.items()
        if shape is not None
    }
    classes = [typed_dict(op["input"]["shape"], shapes[op["input"]["shape"]], shapes) for op in operations]
    classes += [typed_dict(op["output"]["shape"], shapes[op["output"]["shape"]], shapes) for op in operations]
    return [
        f"# The request shapes the custom resources' specs are -> the describe shape whose other members a\n"
        f"# spec may carry (output-only).\n"
        f"DESCRIBED: dict[str, tuple[str, tuple[str, ...]]] = {literal(described)}",
        "# botocore's first sentence on each structure the specs reach, and on its members (`Shape.member`).",
        f"DOCS: dict[str, str] = {literal(spec_documentation(shapes, service.specs))}",
        f"WAITERS: dict[str, Any] = {literal({name: waiters[name] for name in service.waiters})}",
        f"PAGINATORS: dict[str, Any] = "
        f"{literal({k: v for k, v in paginators.items() if k in service.operations})}",
        *classes,
    ]


def render(service: Service) -> str:
    model = load(service.name, "service-2")
    metadata = model["metadata"]
    imports = "from typing import Any, Required, TypedDict" if service.typed else "from typing import Any"
    parts = [
        f'"""What this project uses of botocore\'s {metadata["serviceFullName"]} model (API version '
        f'{metadata["apiVersion"]}).\nGENERATED by `{COMMAND}`; do not edit by hand.\n"""',
        *(["# ruff: noqa: E501  (botocore's sentences, kept whole)"] if service.typed else []),
        f"from __future__ import annotations\n\n{imports}",
        *protocol_part(service, model),
        *(typed_part(service, model) if service.typed else ()),
    ]
    return formatted("\n\n".join(parts) + "\n", HERE / service.module)


def formatted(source: str, path: Path) -> str:
    """The source as `ruff format` leaves it, so the checked-in file passes the format check unchanged."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(path), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def main() -> int:
    for service in SERVICES:
        path = HERE / service.module
        path.write_text(render(service))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
