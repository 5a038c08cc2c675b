"""`ecs-operator convert`: ECS JSON (task definition, optional service) → Kubernetes YAML on standard output.

Inputs it recognises: a RegisterTaskDefinition request, describe-task-definition output with or without the
`{"taskDefinition": …}` wrapper, a bare list of container definitions (the family is the file name), an
EcsTaskDefinition custom resource; for `--service`, a CreateService request, create-service output
(`{"service": …}`) or describe-services output (`{"services": [one]}`). `-` reads standard input.
Exit codes: 0 converted (warnings on standard error), 1 invalid or unreadable input (nothing on standard
output), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ecs_operator import API_GROUP, API_VERSION

DEFAULT_CLUSTER = "default"
STDIN = "-"


class InputError(Exception):
    """Input that cannot be converted: each line is printed as `error: <line>`."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Document:
    data: dict[str, Any]
    revision: int


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "convert",
        help="translate ECS task definition/service JSON into Kubernetes YAML",
        description=(
            "Translate an ECS task definition (and optionally a service) into Kubernetes objects. "
            "YAML goes to standard output, `warning: <path>: <message>` lines to standard error."
        ),
    )
    parser.add_argument(
        "taskdef",
        metavar="TASKDEF",
        help="task definition JSON/YAML: RegisterTaskDefinition input, describe-task-definition output "
        "or a list of container definitions ('-' for standard input)",
    )
    parser.add_argument(
        "--service",
        metavar="SERVICE",
        help="service JSON/YAML: CreateService input or describe-services output",
    )
    parser.add_argument(
        "--cluster",
        default=DEFAULT_CLUSTER,
        type=cluster_name,
        help=f"ECS cluster name (default: {DEFAULT_CLUSTER})",
    )
    parser.add_argument(
        "--namespace", type=namespace_name, help="Kubernetes namespace (default: the cluster name)"
    )
    parser.add_argument(
        "--output",
        choices=("k8s", "crs"),
        default="k8s",
        help="k8s: plain Kubernetes objects (default); crs: EcsTaskDefinition/EcsService custom resources",
    )
    parser.set_defaults(handler=run, convert_parser=parser)


def cluster_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value):
        raise argparse.ArgumentTypeError(f"{value!r}: up to 255 letters, digits, hyphens and underscores")
    return value


def namespace_name(value: str) -> str:
    if not (re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value) and len(value) <= 63):
        raise argparse.ArgumentTypeError(f"{value!r} is not a namespace name (a DNS-1123 label)")
    return value


def run(args: argparse.Namespace) -> int:
    if args.taskdef == STDIN and args.service == STDIN:
        args.convert_parser.error("only one of TASKDEF and --service can be '-' (standard input)")
    if args.namespace is None and namespace_name_or_none(args.cluster) is None:
        args.convert_parser.error(f"cluster {args.cluster!r} is not a namespace name: give --namespace")
    try:
        text = convert(args.taskdef, args.service, args.cluster, args.namespace or args.cluster, args.output)
    except InputError as error:
        for line in error.lines:
            print(f"error: {line}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


def namespace_name_or_none(value: str) -> str | None:
    try:
        return namespace_name(value)
    except argparse.ArgumentTypeError:
        return None


def convert(taskdef_file: str, service_file: str | None, cluster: str, namespace: str, output: str) -> str:
    """The YAML to print; warnings are written to standard error. Raises InputError."""
    from ecs_operator.api import (
        SpecError,
        check_service_against_task_definition,
        parse_service,
        parse_task_definition,
    )
    from ecs_operator.translate import translate_service, translate_task_definition

    taskdef_document = task_definition_document(load(taskdef_file), taskdef_file)
    service_document = service_document_of(load(service_file)) if service_file else None
    errors: list[str] = []
    taskdef: dict[str, Any] = {}
    service: dict[str, Any] = {}
    try:
        taskdef = parse_task_definition(taskdef_document.data).to_ecs()
    except SpecError as error:
        errors += [str(e) for e in error.errors]
    if service_document is not None:
        if not service_document.get("taskDefinition") and isinstance(
            taskdef_document.data.get("family"), str
        ):
            # the task definition given on the command line is the one the service runs
            service_document = {**service_document, "taskDefinition": taskdef_document.data["family"]}
        try:
            service = parse_service(service_document).to_ecs()
            if not errors:
                check_service_against_task_definition(service, taskdef)
        except SpecError as error:
            errors += [f"--service: {e}" for e in error.errors]
    if errors:
        raise InputError(errors)

    family = str(taskdef["family"])
    revision = taskdef_document.revision
    taskdef_translation = translate_task_definition(
        taskdef,
        revision=revision,
        cluster=cluster,
        namespace=namespace,
        launch_type=str(service.get("launchType") or "") or None,
        capacity_provider_strategy=service.get("capacityProviderStrategy") or None,
    )
    warnings = list(taskdef_translation.warnings)
    objects = taskdef_translation.objects
    if service_document is not None:
        service_name = str(service.get("serviceName") or family)
        translation = translate_service(
            service,
            taskdef,
            revision=revision,
            cluster=cluster,
            namespace=namespace,
            name=resource_name(service_name),
        )
        warnings += translation.warnings
        objects = translation.objects
    for warning in warnings:
        print(f"warning: {warning.path}: {warning.message}", file=sys.stderr)
    if output == "crs":
        return dump(custom_resources(taskdef, service if service_document is not None else None, namespace))
    return dump(objects)


def load(path: str) -> Any:
    name = "standard input" if path == STDIN else path
    try:
        text = sys.stdin.read() if path == STDIN else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InputError([f"cannot read {name}: {reason}"]) from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InputError([_not_json(name, json_error)]) from json_error
        if not isinstance(data, dict | list):
            raise InputError([_not_json(name, json_error)]) from json_error
        return data


def _not_json(name: str, error: json.JSONDecodeError) -> str:
    return f"{name}: not valid JSON or YAML: {error.msg} (line {error.lineno}, column {error.colno})"


def family_from_file_name(path: str) -> str:
    stem = "stdin" if path == STDIN else Path(path).name
    stem = re.sub(r"(\.(json|ya?ml|tpl|tmpl|j2))+$", "", stem, flags=re.IGNORECASE)
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:255] or "task"


def task_definition_document(data: Any, path: str) -> Document:
    if isinstance(data, list):
        return Document({"family": family_from_file_name(path), "containerDefinitions": data}, 1)
    if not isinstance(data, dict):
        raise InputError([f"{path}: expected a task definition object or a list of container definitions"])
    if data.get("kind") == "EcsTaskDefinition" and isinstance(data.get("spec"), dict):
        data = dict(data["spec"])
    elif isinstance(data.get("taskDefinition"), dict):
        wrapper = data
        data = dict(wrapper["taskDefinition"])
        if wrapper.get("tags") and not data.get("tags"):
            data["tags"] = wrapper["tags"]
    revision = data.get("revision")
    return Document(data, revision if isinstance(revision, int) and revision > 0 else 1)


def service_document_of(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and data.get("kind") == "EcsService" and isinstance(data.get("spec"), dict):
        return dict(data["spec"])
    if isinstance(data, dict) and isinstance(data.get("service"), dict):
        return dict(data["service"])
    if isinstance(data, dict) and isinstance(data.get("services"), list):
        services = data["services"]
        if len(services) != 1 or not isinstance(services[0], dict):
            raise InputError([f"services: --service needs exactly one service, found {len(services)}"])
        return dict(services[0])
    if not isinstance(data, dict):
        raise InputError(["--service: expected a service object"])
    return data


def resource_name(name: str) -> str:
    from ecs_operator.naming import dns_subdomain

    return dns_subdomain(name)


def custom_resources(
    taskdef: Mapping[str, Any], service: Mapping[str, Any] | None, namespace: str
) -> list[dict[str, Any]]:
    api_version = f"{API_GROUP}/{API_VERSION}"
    family = str(taskdef["family"])
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": api_version,
            "kind": "EcsTaskDefinition",  # cluster-scoped: task definitions are regional
            "metadata": {"name": resource_name(family)},
            "spec": dict(taskdef),
        }
    ]
    if service is not None:
        # the family's revision numbers are the account's, so the service follows the family's latest
        spec = {**service, "taskDefinition": family}
        objects.append(
            {
                "apiVersion": api_version,
                "kind": "EcsService",
                "metadata": {
                    "name": resource_name(str(service.get("serviceName") or family)),
                    "namespace": namespace,
                },
                "spec": spec,
            }
        )
    return objects


class _KubernetesDumper(yaml.SafeDumper):
    """Quotes the strings YAML 1.1 readers (kubectl's go-yaml) take for booleans or numbers: `y`, `1e3`…"""


_YAML11_BOOLEANS = frozenset("y yes n no on off true false".split())


# What a YAML 1.1 reader might take for a number (`1e3`, `0x1F`, `1:20`, `.inf`); over-quoting is harmless.
_NUMBER_LIKE = re.compile(r"[-+]?(\.?\d[\w.:+-]*|\.?(inf|nan))", re.IGNORECASE)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if value.lower() in _YAML11_BOOLEANS or _NUMBER_LIKE.fullmatch(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_KubernetesDumper.add_representer(str, _represent_str)


def dump(objects: list[dict[str, Any]]) -> str:
    """Multi-document YAML that kubectl reads back as written."""
    return yaml.dump_all(
        objects, Dumper=_KubernetesDumper, sort_keys=False, explicit_start=True, default_flow_style=False
    )
