"""ECS identifiers, derived and parsed in one place: ARNs, task and container instance ids, deployment ids
and task definition references. The API, the operator's status, the plans and the console all use these.

ARNs use ECS's long format, `arn:aws:ecs:<region>:<account>:<kind>/<rest>`: `cluster/<name>`,
`service/<cluster>/<name>`, `task/<cluster>/<id>`, `task-definition/<family>:<N>`,
`container-instance/<cluster>/<id>`, `service-deployment/<cluster>/<service>/<id>`,
`capacity-provider/<name>`. The short format of accounts that opted out (`service/<name>`, `task/<id>`,
`container-instance/<id>`) is parsed too. Region and account come from `ECS_OPERATOR_REGION` and
`ECS_OPERATOR_ACCOUNT` (defaults `us-east-1`, `000000000000`), read once per `Partition`.

Ids never change once shown: a task's id is its Pod's uid without dashes, a container instance's its
Node's, and a service deployment's id is chosen when the deployment starts (`deployment_id`) and travels
with the deployment's pod template.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecs_operator import labels

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
REGION_ENV = "ECS_OPERATOR_REGION"
ACCOUNT_ENV = "ECS_OPERATOR_ACCOUNT"

DEPLOYMENT_PREFIX = "ecs-svc/"
FAMILY_PREFIX = "family:"
SERVICE_GROUP_PREFIX = "service:"

_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<kind>[a-z-]+)/(?P<rest>.+)$"
)


@dataclass(frozen=True)
class Arn:
    """A parsed ARN: its service (`ecs`, `iam`), its resource kind and the slash-separated parts after it."""

    service: str
    region: str
    account: str
    kind: str
    parts: tuple[str, ...]

    @property
    def last(self) -> str:
        return self.parts[-1]


@dataclass(frozen=True)
class Partition:
    """The one account and region the ECS side answers as."""

    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    @classmethod
    def from_env(cls) -> Partition:
        return cls(
            os.environ.get(REGION_ENV) or DEFAULT_REGION, os.environ.get(ACCOUNT_ENV) or DEFAULT_ACCOUNT
        )

    def arn(self, kind: str, *parts: str) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:{kind}/{'/'.join(parts)}"

    def cluster(self, name: str) -> str:
        return self.arn("cluster", name)

    def service(self, cluster: str, name: str, long: bool = True) -> str:
        return self.arn("service", cluster, name) if long else self.arn("service", name)

    def task(self, cluster: str, task_id: str, long: bool = True) -> str:
        return self.arn("task", cluster, task_id) if long else self.arn("task", task_id)

    def task_definition(self, family: str, revision: int) -> str:
        return self.arn("task-definition", f"{family}:{revision}")

    def container_instance(self, cluster: str, instance_id: str, long: bool = True) -> str:
        if not long:
            return self.arn("container-instance", instance_id)
        return self.arn("container-instance", cluster, instance_id)

    def container(self, cluster: str, task_id: str, name: str) -> str:
        return self.arn("container", cluster, task_id, name)

    def service_deployment(self, cluster: str, service: str, deployment: str) -> str:
        return self.arn("service-deployment", cluster, service, deployment_number(deployment))

    def service_revision(self, cluster: str, service: str, deployment: str) -> str:
        return self.arn("service-revision", cluster, service, deployment_number(deployment))

    def capacity_provider(self, name: str) -> str:
        return self.arn("capacity-provider", name)

    def iam_user(self, name: str) -> str:
        """The principal ARN of a Kubernetes user (ECS account settings are per principal)."""
        return f"arn:aws:iam::{self.account}:user/{name}"

    def iam_role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    def assumed_role(self, role: str, session: str) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{role}/{session}"

    def oidc_provider(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:oidc-provider/{name}"

    def root(self) -> str:
        return f"arn:aws:iam::{self.account}:root"

    def role_name(self, arn: str) -> str | None:
        """The role name of this account's `arn:aws:iam::<account>:role/<path/><name>`, else None."""
        parsed = parse(arn)
        if parsed is None or (parsed.service, parsed.kind, parsed.account) != ("iam", "role", self.account):
            return None
        return parsed.last or None

    def principal(self, caller_arn: str) -> str:
        """The principal an ARN a caller authenticated as stands for: an assumed role's session is its role
        (ECS keeps account settings per user and per role)."""
        parsed = parse(caller_arn)
        if parsed is not None and (parsed.service, parsed.kind) == ("sts", "assumed-role") and parsed.parts:
            return self.iam_role(parsed.parts[0])
        return caller_arn


def parse(value: str) -> Arn | None:
    """The parts of an ARN, or None when `value` is not one."""
    match = _ARN.match(value)
    if not match:
        return None
    return Arn(
        match["service"], match["region"], match["account"], match["kind"], tuple(match["rest"].split("/"))
    )


def name_in(reference: str, kind: str) -> str:
    """The name or id a request's reference gives: the last part of an ECS ARN of `kind`, or the reference
    itself (ECS accepts both a name and an ARN almost everywhere)."""
    parsed = parse(reference)
    if parsed is not None and parsed.service == "ecs" and parsed.kind == kind:
        return parsed.last
    return reference


def last_part(arn: object) -> str:
    """What a resource's ARN ends with (a name, an id, `family:N`), as the consoles show it."""
    return str(arn or "").rsplit("/", 1)[-1]


def cluster_in(reference: str, kind: str) -> str | None:
    """The cluster a long-format ARN of `kind` names (`service/<cluster>/<name>`), else None."""
    parsed = parse(reference)
    if parsed is not None and parsed.service == "ecs" and parsed.kind == kind and len(parsed.parts) > 1:
        return parsed.parts[0]
    return None


def long_format(obj: Mapping[str, Any]) -> bool:
    """Whether a service or task has the long ARN format: it has, unless it was created while its creator
    had opted out (the account setting serviceLongArnFormat or taskLongArnFormat `disabled`)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return annotations.get(labels.ARN_FORMAT) != labels.ARN_FORMAT_SHORT


def id_of_uid(uid: str) -> str:
    """A task's or container instance's id: its Pod's or Node's uid without dashes (32 hex digits, as ECS
    task ids are)."""
    return uid.replace("-", "")


# --- task definitions -------------------------------------------------------------------------------

_TASK_DEFINITION_ARN = re.compile(r"^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition/(?P<ref>.+)$")


def task_definition_reference(reference: str) -> tuple[str, int | None]:
    """`family`, `family:N` or a task definition ARN -> (family, N or None)."""
    match = _TASK_DEFINITION_ARN.match(reference)
    if match:
        reference = match.group("ref")
    family, sep, number = reference.rpartition(":")
    if sep and number.isdigit():
        return family, int(number)
    return reference, None


def revision_name(family: str, number: int) -> str:
    """`family:N`, the way ECS names a revision where it does not use the ARN."""
    return f"{family}:{number}"


def task_definition_arn_or_name(partition: Partition, reference: str) -> str:
    """The ARN of `family:N`; a bare family (no revision) is returned as it is."""
    family, number = task_definition_reference(reference)
    return partition.task_definition(family, number) if number is not None else reference


# --- service deployments ----------------------------------------------------------------------------


def deployment_id(*seed: str) -> str:
    """A service deployment's id, `ecs-svc/` and 19 digits as ECS's, derived from what starts the deployment
    (the service's uid and what it deploys), so whoever derives it from the same seed gets the same id."""
    digest = hashlib.sha256("\x1f".join(seed).encode()).hexdigest()
    return f"{DEPLOYMENT_PREFIX}{int(digest, 16) % 10**19:019d}"


def deployment_number(deployment: str) -> str:
    """The id part of `ecs-svc/<id>` (what service deployment ARNs end with)."""
    return deployment.removeprefix(DEPLOYMENT_PREFIX)


def is_deployment_id(value: str) -> bool:
    return value.startswith(DEPLOYMENT_PREFIX) and bool(deployment_number(value))


def service_group(service: str) -> str:
    """A service task's `group`."""
    return f"{SERVICE_GROUP_PREFIX}{service}"


def family_group(family: str) -> str:
    """A standalone task's default `group`."""
    return f"{FAMILY_PREFIX}{family}"
