"""IAM roles and OIDC providers as the endpoint reads them (IamRole, IamOidcProvider: cluster-scoped
custom resources, listed and remembered briefly), and the ARNs and ids of IAM's principals.

A role's ARN is `arn:aws:iam::<account>:role/<roleName>`; its id (`AROA…`) and a user's (`AIDA…`) are
derived from the object's uid and the user name, so they never change while the object lives.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ecs_operator.ecsapi.keys import Identity
from ecs_operator.identifiers import Partition
from ecs_operator.kube import Kube
from ecs_operator.resources.iamrole import IamOidcProviderSpec, IamRoleSpec

CACHE_SECONDS = 10.0
# A name not found is looked up again at most this often (a role just created is found at once).
MISS_SECONDS = 1.0
DEFAULT_MAX_SESSION = 3600


def _stable_id(prefix: str, seed: str) -> str:
    digest = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode()
    return prefix + digest[:17]


def user_id(user: str) -> str:
    return _stable_id("AIDA", f"user:{user}")


def provider_name(issuer: str) -> str:
    """IAM's name of an issuer: its URL without the scheme (and without a trailing slash)."""
    return issuer.removeprefix("https://").removeprefix("http://").rstrip("/")


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    role_id: str
    identity: Identity
    trust: Mapping[str, Any]
    max_session: int


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    audiences: tuple[str, ...]
    discovery_url: str
    certificate_authority: str | None


def role_from(obj: Mapping[str, Any], partition: Partition) -> Role | None:
    try:
        spec = IamRoleSpec.model_validate(obj.get("spec") or {})
    except ValidationError:
        return None
    metadata = obj.get("metadata") or {}
    name = spec.role_name or str(metadata.get("name", ""))
    return Role(
        name=name,
        arn=partition.iam_role(name),
        role_id=_stable_id("AROA", f"role:{metadata.get('uid', name)}"),
        identity=Identity(spec.kubernetes.user, tuple(spec.kubernetes.groups or ())),
        trust=spec.assume_role_policy_document,
        max_session=spec.max_session_duration or DEFAULT_MAX_SESSION,
    )


def provider_from(obj: Mapping[str, Any]) -> OidcProvider | None:
    try:
        spec = IamOidcProviderSpec.model_validate(obj.get("spec") or {})
    except ValidationError:
        return None
    issuer = spec.url.rstrip("/")
    return OidcProvider(
        issuer=issuer,
        audiences=tuple(spec.client_id_list),
        discovery_url=spec.discovery_url or f"{issuer}/.well-known/openid-configuration",
        certificate_authority=spec.certificate_authority,
    )


class _Listing:
    """Every object of one cluster-scoped kind, listed at most every CACHE_SECONDS (or, when `missing`,
    every MISS_SECONDS)."""

    def __init__(self, kube: Kube, kind: str, clock: Callable[[], float]) -> None:
        self._kube = kube
        self._kind = kind
        self._clock = clock
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        self._listed = -1e18

    def items(self, missing: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            now = self._clock()
            if now - self._listed >= (MISS_SECONDS if missing else CACHE_SECONDS):
                self._items = self._kube.list(self._kind)
                self._listed = now
            return self._items


class Directory:
    """Roles by name and OIDC providers by issuer, as the cluster has them (at most CACHE_SECONDS old)."""

    def __init__(self, kube: Kube, partition: Partition, clock: Callable[[], float] = time.monotonic) -> None:
        self._partition = partition
        self._roles = _Listing(kube, "IamRole", clock)
        self._providers = _Listing(kube, "IamOidcProvider", clock)

    def role(self, name: str) -> Role | None:
        for missing in (False, True):
            for obj in self._roles.items(missing):
                role = role_from(obj, self._partition)
                # IAM role names are unique regardless of case.
                if role is not None and role.name.lower() == name.lower():
                    return role
        return None

    def provider(self, issuer: str) -> OidcProvider | None:
        for obj in self._providers.items():
            provider = provider_from(obj)
            if provider is not None and provider_name(provider.issuer) == provider_name(issuer):
                return provider
        return None
