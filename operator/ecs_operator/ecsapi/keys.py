"""Access keys: Kubernetes Secrets in the API's namespace, each naming the Kubernetes user (and groups)
its requests act as.

A key is a Secret of type `ecs.operator.dev/access-key` labelled `ecs.operator.dev/access-key-id=<id>`,
with `data`: `accessKeyId`, `secretAccessKey`, `user` and `groups` (one per line). Delete the Secret to
revoke the key (the API forgets a key it knew within `KEY_CACHE_SECONDS`). Secret keys are never logged.
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ecs_operator import API_GROUP
from ecs_operator.kube import Kube

SECRET_TYPE = f"{API_GROUP}/access-key"
KEY_ID_LABEL = f"{API_GROUP}/access-key-id"
KEY_NAME_LABEL = f"{API_GROUP}/access-key-name"
DEFAULT_NAMESPACE = "ecs-operator-system"
KEY_CACHE_SECONDS = 30.0
UNKNOWN_KEY_CACHE_SECONDS = 5.0
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Key:
    access_key_id: str
    secret_access_key: str
    identity: Identity


def new_access_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode()


def secret_name(name: str) -> str:
    return f"ecs-api-key-{name}"


def key_secret(namespace: str, name: str, key: Key) -> dict[str, object]:
    def b64(value: str) -> str:
        return base64.b64encode(value.encode()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": secret_name(name),
            "namespace": namespace,
            "labels": {KEY_ID_LABEL: key.access_key_id, KEY_NAME_LABEL: name},
        },
        "data": {
            "accessKeyId": b64(key.access_key_id),
            "secretAccessKey": b64(key.secret_access_key),
            "user": b64(key.identity.user),
            "groups": b64("\n".join(key.identity.groups)),
        },
    }


def from_secret(obj: dict[str, object]) -> Key | None:
    data = obj.get("data")
    if obj.get("type") != SECRET_TYPE or not isinstance(data, dict):
        return None

    def text(field: str) -> str:
        return base64.b64decode(str(data.get(field) or "")).decode()

    try:
        key = Key(
            text("accessKeyId"),
            text("secretAccessKey"),
            Identity(text("user"), tuple(g for g in text("groups").splitlines() if g)),
        )
    except ValueError:
        return None
    return key if key.access_key_id and key.secret_access_key and key.identity.user else None


def create_key(kube: Kube, namespace: str, name: str, user: str, groups: tuple[str, ...]) -> Key:
    """A new key acting as `user` in `groups`, stored as a Secret (the namespace is created if missing)."""
    if kube.get("Namespace", namespace) is None:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    key = Key(new_access_key_id(), new_secret_access_key(), Identity(user, groups))
    kube.create(key_secret(namespace, name, key))
    return key


class KeyRing:
    """Keys by access key id, looked up by label in the API's namespace and remembered briefly."""

    def __init__(self, kube: Kube, namespace: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._kube = kube
        self._namespace = namespace
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float, Key | None]] = {}

    def lookup(self, access_key_id: str) -> Key | None:
        if not access_key_id or len(access_key_id) > 128:
            return None
        now = self._clock()
        with self._lock:
            cached = self._known.get(access_key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = None
        for obj in self._kube.list("Secret", self._namespace, {KEY_ID_LABEL: access_key_id}):
            key = from_secret(obj)
            if key is not None and key.access_key_id == access_key_id:
                found = key
        ttl = KEY_CACHE_SECONDS if found is not None else UNKNOWN_KEY_CACHE_SECONDS
        with self._lock:
            self._known[access_key_id] = (now + ttl, found)
            if len(self._known) > 10000:
                self._known = {k: v for k, v in self._known.items() if v[0] > now}
        return found
