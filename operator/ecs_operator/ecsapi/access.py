"""Reads come from the shared watch caches, so each read is authorized for the caller first: a
SelfSubjectAccessReview created while impersonating the caller (every authenticated user may create one),
remembered for `REVIEW_SECONDS` per (identity, verb, resource, namespace, name)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ecs_operator.ecsapi.errors import AccessDeniedException, ServerException
from ecs_operator.ecsapi.keys import Identity
from ecs_operator.kube import Kube, KubeError, resource_for

REVIEW_SECONDS = 10.0

ReviewKey = tuple[Identity, str, str, str, str, str]


class ReviewCache:
    """Answers of the API server, shared by every caller's authorizer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[ReviewKey, tuple[float, bool]] = {}

    def get(self, key: ReviewKey) -> bool | None:
        with self._lock:
            found = self._answers.get(key)
        return found[1] if found is not None and found[0] > self._clock() else None

    def put(self, key: ReviewKey, allowed: bool) -> None:
        now = self._clock()
        with self._lock:
            self._answers[key] = (now + REVIEW_SECONDS, allowed)
            if len(self._answers) > 50000:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}


class ReviewAuthorizer:
    """`check` asks the API server whether `identity` may do it (through `kube`, which impersonates it)."""

    def __init__(self, kube: Kube, identity: Identity, cache: ReviewCache) -> None:
        self._kube = kube
        self._identity = identity
        self._cache = cache

    def check(self, verb: str, kind: str, namespace: str = "", name: str = "") -> None:
        resource = resource_for(kind)
        group = resource.api_version.rpartition("/")[0]
        key = (self._identity, verb, group, resource.plural, namespace, name)
        allowed = self._cache.get(key)
        if allowed is None:
            allowed = self._review(verb, group, resource.plural, namespace, name)
            self._cache.put(key, allowed)
        if not allowed:
            where = f" in namespace {namespace!r}" if namespace else ""
            what = f"{resource.plural}.{group}" if group else resource.plural
            target = f" {name!r}" if name else ""
            raise AccessDeniedException(
                f"User {self._identity.user!r} cannot {verb} {what}{target}{where} "
                "(Kubernetes RBAC decides what an access key may do)"
            )

    def _review(self, verb: str, group: str, plural: str, namespace: str, name: str) -> bool:
        attributes = {"verb": verb, "group": group, "resource": plural}
        if namespace:
            attributes["namespace"] = namespace
        if name:
            attributes["name"] = name
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        try:
            answer = self._kube.create(review)
        except KubeError as error:
            raise ServerException(f"could not review access: {error}") from None
        return bool((answer.get("status") or {}).get("allowed"))
