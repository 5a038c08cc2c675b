"""Who a session acts as, and what they may do: the API server's answer to an access review.

Pages read the shared watch caches, so every read is reviewed for the signed-in user before it is shown,
and buttons are offered only when the review allows the write they make. In-cluster the console asks with
a SubjectAccessReview naming the user as the TokenReview described them (the console's ServiceAccount may
create those); locally, with the user's own kubeconfig, a SelfSubjectAccessReview. Answers are remembered
for `REVIEW_SECONDS` per user and question, so any number of open pages of one user cost one review.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ecs_operator.console import kubecalls
from ecs_operator.ecsapi.errors import AccessDeniedException, ServerException
from ecs_operator.kube import KubeError, resource_for

REVIEW_SECONDS = 10.0
CACHE_LIMIT = 50000

# The operations the console's buttons call, and the writes each makes (as the user): a button is offered
# only when the user may make them, and ecs-operator:console-edit grants exactly these (a unit test).
WRITES: dict[str, tuple[tuple[str, str], ...]] = {
    "UpdateService": (("patch", "EcsService"),),
    "DeleteService": (("delete", "EcsService"),),
    "StopTask": (("patch", "EcsService"), ("patch", "EcsTask")),  # the task's owner's
    "RunTask": (("create", "EcsTask"),),
    "RegisterTaskDefinition": (("create", "EcsTaskDefinition"), ("patch", "EcsTaskDefinition")),
    "DeregisterTaskDefinition": (("patch", "EcsTaskDefinition"),),
    "UpdateContainerInstancesState": (("patch", "Node"),),
}
# What the pages read beyond the watch caches, with the user's own rights: a task's Pod and its logs.
USER_READS = (("get", "Pod", ""), ("get", "Pod", "log"))


@dataclass(frozen=True)
class User:
    """A Kubernetes identity as the API server authenticated it."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_user_info(cls, info: Mapping[str, Any]) -> User:
        extra = info.get("extra") or {}
        return cls(
            name=str(info.get("username") or ""),
            uid=str(info.get("uid") or ""),
            groups=tuple(str(g) for g in info.get("groups") or ()),
            extra=tuple(sorted((str(k), tuple(str(v) for v in values)) for k, values in extra.items())),
        )


Question = tuple[str, str, str, str, str, str]  # verb, group, resource, subresource, namespace, name


class AccessReviewer:
    """`check` raises `AccessDeniedException` unless the user may do it; `may` answers True or False.

    `api_client` and `user`: a SubjectAccessReview about `user` made with `api_client` (the console's
    client); `user` None: a SelfSubjectAccessReview made with `api_client` (the user's own client).
    """

    def __init__(
        self, api_client: Any, user: User | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = api_client
        self._user = user
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[Question, tuple[float, bool]] = {}

    def check(self, verb: str, kind: str, namespace: str = "", name: str = "", subresource: str = "") -> None:
        if not self.may(verb, kind, namespace, name, subresource):
            resource = resource_for(kind)
            group = resource.api_version.rpartition("/")[0]
            what = f"{resource.plural}.{group}" if group else resource.plural
            if subresource:
                what += f"/{subresource}"
            target = f" {name!r}" if name else ""
            where = f" in namespace {namespace!r}" if namespace else ""
            who = repr(self._user.name) if self._user else "Your kubeconfig's user"
            raise AccessDeniedException(
                f"{who} may not {verb} {what}{target}{where} (Kubernetes RBAC decides what you see and do)"
            )

    def may(self, verb: str, kind: str, namespace: str = "", name: str = "", subresource: str = "") -> bool:
        resource = resource_for(kind)
        group = resource.api_version.rpartition("/")[0]
        question = (verb, group, resource.plural, subresource, namespace, name)
        now = self._clock()
        with self._lock:
            found = self._answers.get(question)
        if found is not None and found[0] > now:
            return found[1]
        allowed = self._review(question)
        with self._lock:
            if len(self._answers) > CACHE_LIMIT:
                self._answers = {q: a for q, a in self._answers.items() if a[0] > now}
            self._answers[question] = (now + REVIEW_SECONDS, allowed)
        return allowed

    def _review(self, question: Question) -> bool:
        verb, group, plural, subresource, namespace, name = question
        attributes = {"verb": verb, "group": group, "resource": plural}
        for key, value in (("subresource", subresource), ("namespace", namespace), ("name", name)):
            if value:
                attributes[key] = value
        spec: dict[str, Any] = {"resourceAttributes": attributes}
        kind = "SelfSubjectAccessReview"
        if self._user is not None:
            kind = "SubjectAccessReview"
            spec.update(user=self._user.name, groups=list(self._user.groups))
            if self._user.uid:
                spec["uid"] = self._user.uid
            if self._user.extra:
                spec["extra"] = {k: list(v) for k, v in self._user.extra}
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec}
        try:
            answer = kubecalls.review(self._client, kind, body)
        except KubeError as error:
            raise ServerException(f"could not review access: {error}") from None
        return bool((answer.get("status") or {}).get("allowed"))
