"""CustomResourceDefinitions generated from the models: structural schemas, CEL rules, printer columns.

Schema hygiene for the API server: `$defs` inlined, no `title`/`default` (defaults would make the server
rewrite objects), no `additionalProperties: false` beside `properties`, nullable members as plain optional
ones (the server prunes nulls). Free-form maps stay maps of strings; only output-only members and statuses
keep unknown fields.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.resources.capacityprovider import CapacityProviderSpec, CapacityProviderStatus
from ecs_operator.resources.cluster import ClusterSpec, ClusterStatus
from ecs_operator.resources.iamrole import (
    IamOidcProviderSpec,
    IamOidcProviderStatus,
    IamRoleSpec,
    IamRoleStatus,
)
from ecs_operator.resources.limits import LIMITS
from ecs_operator.resources.rules import (
    ABOVE_TASK_MEMORY,
    BALANCER_MEMBER_MISSING,
    COMMAND_HEALTH_CHECKS,
    COMMAND_MISSING,
    CONTAINER_IMAGE_EMPTY,
    CONTAINER_NAME_EMPTY,
    CONTAINER_NAME_INVALID,
    CONTAINER_PORT_MISSING,
    FAMILY_INVALID,
    FARGATE_CPU_OFFER,
    FARGATE_SIZES,
    LINKS_WITH_AWSVPC,
    NAME_PATTERN,
    NAME_RULE,
    NO_CONTAINER_MEMORY,
    NO_FARGATE_CONFIGURATION,
    NOT_A_TASK_DEFINITION_REFERENCE,
    SELF_DEPENDENCY,
    TASK_DEFINITION_MISSING,
    TASK_DEFINITION_REFERENCE_PATTERN,
    fargate_offer,
)
from ecs_operator.resources.service import ServiceSpec, ServiceStatus
from ecs_operator.resources.task import TaskSpec, TaskStatus
from ecs_operator.resources.taskdefinition import TaskDefinitionSpec, TaskDefinitionStatus

Schema = dict[str, Any]
DROPPED_KEYS = {"title", "default"}
READY = '.status.conditions[?(@.type=="Ready")].status'


def rule(
    expression: str, message: str, field_path: str | None = None, message_expression: str | None = None
) -> dict[str, str]:
    validation = {"rule": expression, "message": message}
    if message_expression:
        validation["messageExpression"] = message_expression
    if field_path:
        validation["fieldPath"] = field_path
    return validation


def cel_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cel_message(template: str, **values: str) -> str:
    """A CEL expression giving `template.format(...)`, each field the value of a CEL string expression, so
    the API server words a refusal exactly as the operator's parser does."""
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(cel_string(literal))
        if name is not None:
            parts.append(values[name])
    return " + ".join(parts)


def templated(expression: str, field_path: str, template: str, **values: str) -> dict[str, str]:
    """A rule worded by one of the parser's message templates, each field filled in by a CEL expression;
    the template with `…` for each field is the message the API server falls back to."""
    fallback = template.format(**dict.fromkeys(values, "…"))
    return rule(expression, fallback, field_path, cel_message(template, **values))


def matches(expression: str, pattern: str) -> str:
    return f"{expression}.matches({cel_string(f'^{pattern}$')})"


def task_size(member: str, unit: str) -> tuple[str, str]:
    """(whether `self.<member>` reads as a task size, its value in units): CEL for what
    `quantities.normalize_size` accepts, `1024`, `"1024"`, `"1 vCPU"` (unit lowercased)."""
    text = f"string(self.{member}).trim().lowerAscii()"
    # fractions only with the unit: "0.5 vCPU" is 512 units, "0.5" none (the parser says so)
    readable = f"has(self.{member}) && {matches(text, f'(?:[0-9]+|[0-9]+([.][0-9]+)?[ ]*{unit})')}"
    value = (
        f"(type(self.{member}) == int ? self.{member} : {text}.endsWith({cel_string(unit)}) ? "
        f"int(double({text}.replace({cel_string(unit)}, '').trim()) * 1024.0) : int(double({text})))"
    )
    return readable, value


CPU_READABLE, CPU = task_size("cpu", "vcpu")
MEMORY_READABLE, MEMORY = task_size("memory", "gb")
FARGATE_PAIR = (
    f"!has(self.requiresCompatibilities) || !('FARGATE' in self.requiresCompatibilities) || "
    f"!({CPU_READABLE}) || !({MEMORY_READABLE}) || "
)
SIZES = {"cpu": f"string({CPU})", "memory": f"string({MEMORY})"}
FARGATE_MEMORY = "{" + ", ".join(f"{cpu}: {list(sizes)}" for cpu, sizes in FARGATE_SIZES.items()) + "}"
FARGATE_OFFER = "{" + ", ".join(f"{cpu}: {cel_string(fargate_offer(cpu))}" for cpu in FARGATE_SIZES) + "}"
MAX_CONTAINERS = LIMITS[("RegisterTaskDefinitionRequest", "containerDefinitions")]["max_length"]


def first_container_name(condition: Callable[[str], str]) -> str:
    """The name of the first container meeting `condition` (a CEL condition on the container expression
    given): unrolled over the indexes, because the API server cannot bound the size of a filtered list's
    elements, and a message built from one would exceed its cost budget."""
    found = "''"
    for index in reversed(range(MAX_CONTAINERS)):
        container = f"self.containerDefinitions[{index}]"
        found = (
            f"(size(self.containerDefinitions) > {index} && {condition(container)} ? {container}.name : "
            f"{found})"
        )
    return found


def without_memory(container: str) -> str:
    return f"!has({container}.memory) && !has({container}.memoryReservation)"


def above_task_memory(member: str) -> dict[str, str]:
    def above(container: str) -> str:
        return f"has({container}.{member}) && {container}.{member} > {MEMORY}"

    return templated(
        f"!({MEMORY_READABLE}) || !self.containerDefinitions.exists(c, {above('c')})",
        ".containerDefinitions",
        ABOVE_TASK_MEMORY.format(member=member, container="{container}"),
        container=first_container_name(above),
    )


def task_definition_reference() -> dict[str, str]:
    return templated(
        f"!has(self.taskDefinition) || {matches('self.taskDefinition', TASK_DEFINITION_REFERENCE_PATTERN)}",
        ".taskDefinition",
        NOT_A_TASK_DEFINITION_REFERENCE,
        reference="self.taskDefinition",
    )


LAUNCH_TYPE_OR_STRATEGY = rule(
    "!has(self.launchType) || !has(self.capacityProviderStrategy) || "
    "size(self.capacityProviderStrategy) == 0",
    "capacityProviderStrategy: cannot be combined with launchType; set one of them",
    ".capacityProviderStrategy",
)

# Rules the API server checks at admission, keyed by the model (definition) they sit on. The models check
# the same rules (validation.py), so the operator reports them too when admission was bypassed.
CEL_RULES: dict[str, list[dict[str, str]]] = {
    "TaskDefinitionSpec": [
        rule(
            "self.containerDefinitions.all(c, !has(c.name) || "
            "self.containerDefinitions.filter(x, has(x.name) && x.name == c.name).size() == 1)",
            "containerDefinitions: container names must be unique",
            ".containerDefinitions",
        ),
        rule(
            "self.containerDefinitions.exists(c, !has(c.essential) || c.essential)",
            "containerDefinitions: at least one container must be essential",
            ".containerDefinitions",
        ),
        rule(
            "self.containerDefinitions.all(c, !has(c.dependsOn) || c.dependsOn.all(d, "
            "self.containerDefinitions.exists(x, has(x.name) && x.name == d.containerName)))",
            "containerDefinitions[].dependsOn[].containerName: must name a container in containerDefinitions",
            ".containerDefinitions",
        ),
        rule(
            "!has(self.requiresCompatibilities) || !('FARGATE' in self.requiresCompatibilities) || "
            "(has(self.networkMode) && self.networkMode == 'awsvpc' && has(self.cpu) && has(self.memory))",
            "requiresCompatibilities: FARGATE needs networkMode awsvpc and task-level cpu and memory",
            ".requiresCompatibilities",
        ),
        rule(f"!has(self.family) || {matches('self.family', NAME_PATTERN)}", FAMILY_INVALID, ".family"),
        templated(
            f"{FARGATE_PAIR}{CPU} in {list(FARGATE_SIZES)}",
            ".cpu",
            NO_FARGATE_CONFIGURATION,
            **SIZES,
            offer=cel_string(FARGATE_CPU_OFFER),
        ),
        templated(
            f"{FARGATE_PAIR}!({CPU} in {list(FARGATE_SIZES)}) || {MEMORY} in {FARGATE_MEMORY}[{CPU}]",
            ".memory",
            NO_FARGATE_CONFIGURATION,
            **SIZES,
            offer=f"{FARGATE_OFFER}[{CPU}]",
        ),
        templated(
            f"has(self.memory) || !self.containerDefinitions.exists(c, {without_memory('c')})",
            ".containerDefinitions",
            NO_CONTAINER_MEMORY,
            container=first_container_name(without_memory),
        ),
        above_task_memory("memory"),
        above_task_memory("memoryReservation"),
        rule(
            "!has(self.networkMode) || self.networkMode != 'awsvpc' || "
            "self.containerDefinitions.all(c, !has(c.links) || size(c.links) == 0)",
            LINKS_WITH_AWSVPC,
            ".containerDefinitions",
        ),
    ],
    "ContainerDefinition": [
        rule(
            "!has(self.memory) || !has(self.memoryReservation) || self.memoryReservation <= self.memory",
            "memoryReservation: must not exceed the container memory",
            ".memoryReservation",
        ),
        rule("has(self.name) && self.name != ''", CONTAINER_NAME_EMPTY, ".name"),
        rule(
            f"!has(self.name) || self.name == '' || {matches('self.name', NAME_PATTERN)}",
            CONTAINER_NAME_INVALID,
            ".name",
        ),
        rule("has(self.image) && self.image != ''", CONTAINER_IMAGE_EMPTY, ".image"),
        templated(
            "!has(self.name) || !has(self.dependsOn) || self.dependsOn.all(d, d.containerName != self.name)",
            ".dependsOn",
            SELF_DEPENDENCY,
            container="self.name",
        ),
    ],
    "HealthCheck": [
        templated(
            f"size(self.command) == 0 || !(self.command[0] in {list(COMMAND_HEALTH_CHECKS)}) || "
            "size(self.command) > 1",
            ".command",
            COMMAND_MISSING,
            kind="self.command[0]",
        ),
    ],
    "PortMapping": [
        rule(
            "has(self.containerPort) || has(self.containerPortRange)",
            CONTAINER_PORT_MISSING,
            ".containerPort",
        ),
    ],
    "ServiceSpec": [
        LAUNCH_TYPE_OR_STRATEGY,
        rule(
            "!has(self.schedulingStrategy) || self.schedulingStrategy != 'DAEMON' || "
            "!has(self.launchType) || self.launchType != 'FARGATE'",
            "schedulingStrategy: DAEMON services cannot use the FARGATE launch type",
            ".schedulingStrategy",
        ),
        rule(
            f"!has(self.serviceName) || {matches('self.serviceName', NAME_PATTERN)}",
            NAME_RULE,
            ".serviceName",
        ),
        rule(
            "has(self.taskDefinition) || (has(self.deploymentController) && "
            "has(self.deploymentController.type) && self.deploymentController.type == 'EXTERNAL')",
            TASK_DEFINITION_MISSING,
            ".taskDefinition",
        ),
        task_definition_reference(),
    ],
    "LoadBalancer": [
        rule("has(self.containerName)", BALANCER_MEMBER_MISSING, ".containerName"),
        rule("has(self.containerPort)", BALANCER_MEMBER_MISSING, ".containerPort"),
    ],
    "DeploymentConfiguration": [
        rule(
            "!has(self.maximumPercent) || !has(self.minimumHealthyPercent) || "
            "self.maximumPercent >= self.minimumHealthyPercent",
            "maximumPercent: must not be below minimumHealthyPercent",
            ".maximumPercent",
        ),
    ],
    "TaskSpec": [LAUNCH_TYPE_OR_STRATEGY, task_definition_reference()],
    "ClusterSpec": [
        rule(
            f"!has(self.clusterName) || {matches('self.clusterName', NAME_PATTERN)}",
            NAME_RULE,
            ".clusterName",
        )
    ],
}


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short_names: list[str]
    scope: str
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: list[dict[str, Any]]
    scale: bool = False
    spec_required: bool = True
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] = ("ecs",)

    @property
    def singular(self) -> str:
        return self.kind.lower()


def column(name: str, json_path: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "type": kind, "jsonPath": json_path}
    if priority:
        entry["priority"] = priority
    return entry


AGE = column("Age", ".metadata.creationTimestamp", "date")

KINDS = [
    Kind(
        kind="EcsCluster",
        plural="ecsclusters",
        short_names=["ecscl"],
        scope="Cluster",
        spec=ClusterSpec,
        status=ClusterStatus,
        spec_required=False,  # CreateCluster needs no member: `kind: EcsCluster` with a name is a cluster
        description="An ECS cluster (CreateCluster): owns a namespace; labelled Nodes are its instances.",
        columns=[
            column("Status", ".status.status"),
            column("Instances", ".status.registeredContainerInstancesCount", "integer"),
            column("Services", ".status.activeServicesCount", "integer"),
            column("Running", ".status.runningTasksCount", "integer"),
            column("Pending", ".status.pendingTasksCount", "integer"),
            column("Ready", READY, priority=1),
            AGE,
        ],
    ),
    Kind(
        kind="EcsTaskDefinition",
        plural="ecstaskdefinitions",
        short_names=["ecstd"],
        scope="Cluster",
        spec=TaskDefinitionSpec,
        status=TaskDefinitionStatus,
        description="An ECS task definition family (RegisterTaskDefinition), regional: each spec change is a "
        "revision, usable from every cluster.",
        columns=[
            column("Task Definition", ".status.taskDefinition"),
            column("Revision", ".status.latestRevision", "integer"),
            column("Network Mode", ".spec.networkMode"),
            column("CPU", ".spec.cpu", priority=1),
            column("Memory", ".spec.memory", priority=1),
            column("Ready", READY),
            AGE,
        ],
    ),
    Kind(
        kind="EcsService",
        plural="ecsservices",
        short_names=["ecssvc"],
        scope="Namespaced",
        spec=ServiceSpec,
        status=ServiceStatus,
        scale=True,
        description="An ECS service (CreateService): keeps desiredCount tasks running and rolls them.",
        columns=[
            column("Status", ".status.status"),
            column("Desired", ".spec.desiredCount", "integer"),
            column("Running", ".status.runningCount", "integer"),
            column("Pending", ".status.pendingCount", "integer"),
            column("Task Definition", ".status.taskDefinition"),
            column("Launch Type", ".spec.launchType", priority=1),
            column("Ready", READY, priority=1),
            AGE,
        ],
    ),
    Kind(
        kind="EcsCapacityProvider",
        plural="ecscapacityproviders",
        short_names=["ecscp"],
        scope="Cluster",
        spec=CapacityProviderSpec,
        status=CapacityProviderStatus,
        description="An ECS capacity provider (CreateCapacityProvider): a pool of labelled Nodes.",
        columns=[
            column("Name", ".spec.name"),
            column("Auto Scaling Group", ".spec.autoScalingGroupProvider.autoScalingGroupArn", priority=1),
            AGE,
        ],
    ),
    Kind(
        kind="EcsTask",
        plural="ecstasks",
        short_names=["ecstask"],
        scope="Namespaced",
        spec=TaskSpec,
        status=TaskStatus,
        description="A standalone ECS task (RunTask): count copies of a task definition, run once.",
        columns=[
            column("Task Definition", ".status.taskDefinition"),
            column("Last Status", ".status.tasks[0].lastStatus"),
            column("Desired Status", ".status.tasks[0].desiredStatus"),
            column("Launch Type", ".spec.launchType", priority=1),
            column("Ready", READY, priority=1),
            AGE,
        ],
    ),
]

# STS's kinds (ecsapi/roles.py reads them): IAM's, not ECS's, so in a category of their own.
IAM_KINDS = [
    Kind(
        kind="IamRole",
        plural="iamroles",
        short_names=["iamrole"],
        scope="Cluster",
        spec=IamRoleSpec,
        status=IamRoleStatus,
        description="An IAM role for STS (AssumeRole, AssumeRoleWithWebIdentity): who may assume it, and "
        "the Kubernetes identity its sessions act as.",
        columns=[
            column("Role Name", ".spec.roleName"),
            column("User", ".spec.kubernetes.user"),
            column("Groups", ".spec.kubernetes.groups", priority=1),
            AGE,
        ],
        categories=("iam",),
    ),
    Kind(
        kind="IamOidcProvider",
        plural="iamoidcproviders",
        short_names=["iamoidc"],
        scope="Cluster",
        spec=IamOidcProviderSpec,
        status=IamOidcProviderStatus,
        description="An external OpenID Connect issuer whose tokens AssumeRoleWithWebIdentity accepts.",
        columns=[column("URL", ".spec.url"), column("Audiences", ".spec.clientIDList"), AGE],
        categories=("iam",),
    ),
]


def model_schema(model: type[BaseModel]) -> Schema:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    return _clean(raw, definitions, model.__name__)


def _clean(node: Schema, definitions: Mapping[str, Schema], name: str | None = None) -> Schema:
    node = dict(node)
    reference = node.pop("$ref", None)
    if reference is not None:
        target = reference.rsplit("/", 1)[-1]
        return _clean({**definitions[target], **node}, definitions, target)
    branches = node.pop("anyOf", None)
    if branches is not None:
        kept = [branch for branch in branches if branch != {"type": "null"}]
        if len(kept) != 1:
            raise ValueError(f"{name}: unions other than X | None have no structural schema: {branches}")
        return _clean({**kept[0], **node}, definitions, name)
    result: Schema = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key == "properties":
            result[key] = {member: _clean(schema, definitions) for member, schema in value.items()}
        elif key == "items":
            result[key] = _clean(value, definitions)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                result[key] = _clean(value, definitions)
        elif key == "const":
            result["enum"] = [value]
        else:
            result[key] = copy.deepcopy(value)
    if "enum" in result:
        result.setdefault("type", "string")
        # Bounded strings keep CEL's cost estimate low wherever a rule compares them.
        result["maxLength"] = max(len(str(value)) for value in result["enum"])
    if "properties" in result:
        result["type"] = "object"
    if name in CEL_RULES:
        result["x-kubernetes-validations"] = copy.deepcopy(CEL_RULES[name])
    return result


def crd(kind: Kind) -> dict[str, Any]:
    spec = model_schema(kind.spec)
    status = model_schema(kind.status)
    spec["description"] = kind.spec.__doc__ or spec.get("description", "")
    subresources: dict[str, Any] = {"status": {}}
    if kind.scale:
        subresources["scale"] = {
            "specReplicasPath": ".spec.desiredCount",
            "statusReplicasPath": ".status.runningCount",
            "labelSelectorPath": ".status.selector",
        }
    schema: dict[str, Any] = {
        "type": "object",
        "description": kind.description,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    if kind.spec_required:
        schema["required"] = ["spec"]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{kind.plural}.{API_GROUP}",
            "labels": {"app.kubernetes.io/name": "ecs-operator", "app.kubernetes.io/part-of": "ecs-operator"},
        },
        "spec": {
            "group": API_GROUP,
            "scope": kind.scope,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": kind.short_names,
                "categories": list(kind.categories),
            },
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": subresources,
                    "additionalPrinterColumns": kind.columns,
                }
            ],
        },
    }


def file_name(kind: Kind) -> str:
    return f"{API_GROUP}_{kind.plural}.yaml"


def render(kind: Kind) -> str:
    header = "# Generated by `ecs-operator crds` from operator/ecs_operator/resources; do not edit by hand.\n"
    return header + yaml.safe_dump(crd(kind), sort_keys=False, width=120, allow_unicode=True)


KUSTOMIZATION_FILE = "Kustomization"


def kustomization(crd_files: list[str]) -> str:
    # Named `Kustomization` (not kustomization.yaml) so `kubectl apply -f crds/` still sees only the CRDs;
    # manifests/default needs it because kustomize loads no file outside a kustomization's own folder.
    body = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(crd_files),
    }
    return "# Generated by `ecs-operator crds`; do not edit by hand.\n" + yaml.safe_dump(
        body, sort_keys=False
    )


def rendered() -> dict[str, str]:
    """File name -> text: one CRD per kind, and the kustomization listing them."""
    files = {file_name(kind): render(kind) for kind in (*KINDS, *IAM_KINDS)}
    files[KUSTOMIZATION_FILE] = kustomization(list(files))
    return files
