"""What every operation is called with: where to read, how to write, who asks, and the ARN partition."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from ecs_operator.ecsapi.errors import (
    AccessDeniedException,
    ClientException,
    EcsError,
    InvalidParameterException,
    ServerException,
)
from ecs_operator.ecsapi.store import Store
from ecs_operator.identifiers import Partition
from ecs_operator.kube import Kube, KubeError

# How long a write waits until the watch caches show it, so the next request reads what it wrote.
READ_YOUR_WRITES_SECONDS = 10.0


class Authorizer(Protocol):
    def check(self, verb: str, kind: str, namespace: str = "", name: str = "") -> None:
        """Raise AccessDeniedException unless the caller may `verb` objects of `kind` there."""


class AllowAll:
    """For a store that reads with the caller's own credentials: the API server decides every read."""

    def check(self, verb: str, kind: str, namespace: str = "", name: str = "") -> None:
        return None


@dataclass
class Context:
    """`store` reads (watch caches), `kube` writes (as the caller), `authorizer` guards the reads.

    `registry` is the endpoint's own identity, used only to write the records derived from a write the
    caller was allowed to make (a task definition revision after its EcsTaskDefinition claimed the number),
    as the operator would a moment later; None where there is no such identity (`kubectl ecs`: the
    operator writes them)."""

    store: Store
    kube: Kube
    authorizer: Authorizer = field(default_factory=AllowAll)
    registry: Kube | None = None
    caller: Callable[[], str] = lambda: ""  # the Kubernetes user the request acts as
    caller_arn: str = (
        ""  # the ARN the request was signed as (an access key's user, an assumed role's session)
    )
    partition: Partition = field(default_factory=Partition.from_env)
    clock: Callable[[], float] = time.time
    wait_seconds: float = READ_YOUR_WRITES_SECONDS

    def principal(self) -> str:
        """The caller's principal ARN (ECS account settings are per principal: a user, or the role of an
        assumed role's session); the Kubernetes user's as an IAM user when the request was not signed
        (`kubectl ecs`), the root user's when neither is known."""
        if self.caller_arn:
            return self.partition.principal(self.caller_arn)
        user = self.caller()
        return self.partition.iam_user(user) if user else self.partition.root()


@contextmanager
def kube_errors(what: str) -> Iterator[None]:
    """API server refusals as ECS exceptions (`what` names the object for the message)."""
    try:
        yield
    except EcsError:
        raise
    except KubeError as error:
        if error.status in (401, 403):
            raise AccessDeniedException(f"{what}: {_message(error)}") from None
        if error.status in (400, 422):
            raise InvalidParameterException(f"{what}: {_message(error)}") from None
        if error.status == 409:
            raise ClientException(f"{what}: {_message(error)}") from None
        if error.status == 404:
            raise ClientException(f"{what}: {_message(error)}") from None
        raise ServerException(f"{what}: the Kubernetes API answered {error}") from None


def _message(error: KubeError) -> str:
    return str(error).split(": ", 1)[-1]
