"""ECS's long ARN format, built and parsed in one place (the API layer and the operator's status agree).

`arn:aws:ecs:<region>:<account>:<kind>/<rest>`: `cluster/<name>`, `service/<cluster>/<name>`,
`task/<cluster>/<id>`, `task-definition/<family>:<N>`, `container-instance/<cluster>/<id>` and
`service-deployment/<cluster>/<service>/<id>`. Region and account come from `ECS_OPERATOR_REGION` and
`ECS_OPERATOR_ACCOUNT` (defaults `us-east-1`, `000000000000`), read once per `Partition`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
REGION_ENV = "ECS_OPERATOR_REGION"
ACCOUNT_ENV = "ECS_OPERATOR_ACCOUNT"

_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):ecs:(?P<region>[^:]*):(?P<account>[^:]*):(?P<kind>[a-z-]+)/(?P<rest>.+)$"
)


@dataclass(frozen=True)
class Arn:
    """A parsed ECS ARN: its kind and the slash-separated parts after it."""

    region: str
    account: str
    kind: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Partition:
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

    def service(self, cluster: str, name: str) -> str:
        return self.arn("service", cluster, name)

    def task(self, cluster: str, task_id: str) -> str:
        return self.arn("task", cluster, task_id)

    def task_definition(self, family: str, revision: int) -> str:
        return self.arn("task-definition", f"{family}:{revision}")

    def container_instance(self, cluster: str, instance_id: str) -> str:
        return self.arn("container-instance", cluster, instance_id)

    def service_deployment(self, cluster: str, service: str, deployment_id: str) -> str:
        return self.arn("service-deployment", cluster, service, deployment_id)


def parse(value: str) -> Arn | None:
    """The parts of an ECS ARN, or None when `value` is not one."""
    match = _ARN.match(value)
    if not match:
        return None
    return Arn(match["region"], match["account"], match["kind"], tuple(match["rest"].split("/")))


def last_part(value: str, kind: str) -> str:
    """The name or id an ARN of `kind` ends with; any other value is returned as given (ECS accepts both)."""
    parsed = parse(value)
    if parsed is not None and parsed.kind == kind:
        return parsed.parts[-1]
    return value


def task_id_of_uid(uid: str) -> str:
    """A task's id: its Pod's uid without dashes (32 hex digits, as ECS task ids are)."""
    return uid.replace("-", "")
