"""The console's session key and its signed-out sessions, kept in one Secret that every replica reads.

`manifests/console/session-secret.yaml` ships the Secret empty; the first replica that finds no key writes a
random one, conditionally on the Secret's resourceVersion, so of two replicas starting at once one key wins
and both use it. Signing out adds the session's hash (`sessions.session_hash`) with its expiry to the
`revoked` entry the same way; expired entries are dropped as it is written. The console may only get and
patch this one Secret (its Role names it): it can read no other Secret, nor create one.

To end every session at once (a new key): `kubectl -n <namespace> patch secret <name> --type=json -p
'[{"op": "remove", "path": "/data"}]'`, then restart the console (`kubectl rollout restart`).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecs_operator.console.sessions import REVOCATION_SECONDS, session_hash
from ecs_operator.kube import Kube, KubeError

log = logging.getLogger(__name__)

DEFAULT_SECRET = "ecs-console-sessions"
KEY = "key"
REVOKED = "revoked"
WRITE_ATTEMPTS = 5


class SessionKeyError(Exception):
    """The Secret cannot be read or written: said in one line naming it."""


class SecretKeys:
    def __init__(
        self, client: Kube, namespace: str, name: str = DEFAULT_SECRET, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self.namespace = namespace
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._key = b""
        self._revoked: dict[str, float] = {}
        self._loaded = float("-inf")

    @property
    def where(self) -> str:
        return f"Secret {self.namespace}/{self.name}"

    # --- SessionKeys ---

    def key(self) -> bytes:
        if not self._key:
            self.reload()
        return self._key

    def revoked(self, session_id: str) -> bool:
        with self._lock:
            return session_hash(session_id) in self._revoked

    def stale(self, now: float) -> bool:
        return now - self._loaded >= REVOCATION_SECONDS

    def refresh(self) -> None:
        """`reload` for a request on its way: when the Secret cannot be read now, keep what was read last
        (and try again `REVOCATION_SECONDS` later) rather than fail the request."""
        try:
            self.reload()
        except SessionKeyError as error:
            log.warning("%s; the sessions signed out as of the last read stay in force", error)
            self._loaded = self._clock()

    def reload(self) -> None:
        secret = self._read()
        data = secret.get("data") or {}
        if KEY not in data:
            new = {KEY: _encode(AESGCM.generate_key(bit_length=256))}
            secret = self._write(lambda _: new, secret, done=lambda current: KEY in current)
            data = secret.get("data") or {}
            if data.get(KEY) == new[KEY]:
                log.info("a new session key was written to %s", self.where)
        self._take(data)

    def revoke(self, session_id: str, until: float) -> None:
        gone = session_hash(session_id)
        with self._lock:
            self._revoked[gone] = until

        def revoked(current: dict[str, Any]) -> dict[str, str]:
            now = self._clock()
            entries = {k: v for k, v in _revocations(current).items() if v > now}
            entries[gone] = until
            return {REVOKED: _encode(json.dumps(entries, sort_keys=True).encode())}

        self._take(self._write(revoked, self._read()).get("data") or {})

    # --- the Secret ---

    def _read(self) -> dict[str, Any]:
        try:
            secret = self._client.get("Secret", self.name, self.namespace)
        except KubeError as error:
            raise SessionKeyError(f"the console cannot read {self.where}: {error}") from None
        if secret is None:
            raise SessionKeyError(
                f"{self.where} is missing: the console keeps its session key there "
                "(manifests/console/session-secret.yaml creates it empty)"
            )
        return secret

    def _write(
        self,
        change: Callable[[dict[str, Any]], dict[str, str]],
        secret: dict[str, Any],
        done: Callable[[dict[str, Any]], bool] = lambda _: False,
    ) -> dict[str, Any]:
        """Merge `change(data)` into the Secret's data if it has not changed since it was read (else read it
        again and retry, unless it is `done` by then: another replica wrote it); the Secret as written."""
        for _ in range(WRITE_ATTEMPTS):
            data = secret.get("data") or {}
            if done(data):
                return secret
            patch = {
                "metadata": {"resourceVersion": secret["metadata"]["resourceVersion"]},
                "data": change(data),
            }
            try:
                written = self._client.merge_patch("Secret", self.name, self.namespace, patch)
            except KubeError as error:
                if error.status == 409:
                    secret = self._read()
                    continue
                raise SessionKeyError(f"the console cannot write {self.where}: {error}") from None
            if written is None:
                raise SessionKeyError(f"{self.where} was deleted")
            return written
        raise SessionKeyError(f"{self.where} kept changing while the console wrote it")

    def _take(self, data: dict[str, Any]) -> None:
        key = base64.b64decode(data[KEY]) if KEY in data else b""
        if len(key) != 32:
            raise SessionKeyError(f"{self.where}: data.{KEY} is not a 256-bit key")
        now = self._clock()
        with self._lock:
            self._key = key
            self._revoked = {k: v for k, v in _revocations(data).items() if v > now}
            self._loaded = now


def _encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _revocations(data: dict[str, Any]) -> dict[str, float]:
    if REVOKED not in data:
        return {}
    try:
        entries = json.loads(base64.b64decode(data[REVOKED]))
    except ValueError:
        return {}
    return {str(k): float(v) for k, v in entries.items()} if isinstance(entries, dict) else {}
