"""Temporary credentials without session state: the session token carries what the endpoint needs (who
the session is, until when), sealed with an HMAC key kept in a Secret of the API's namespace; the secret
access key is derived from the token with that key. So any replica verifies any token, a restart forgets
nothing, and no session is stored anywhere.

Token: `<prefix><key id>.<base64url JSON claims>.<base64url HMAC-SHA256>`. The claims are readable by
whoever holds the token (role ARN, session name, expiry: what `GetCallerIdentity` tells them anyway) but
cannot be changed; the secret derived from a token is never in it. The sealing Secret holds one or more
keys (`key-<yyyymmddHHMMSS>`); new tokens use the newest, every listed key verifies, so keys rotate by
adding one and removing old ones after the longest session (36 h).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ecs_operator import API_GROUP
from ecs_operator.kube import Kube, KubeError

SEALING_SECRET = "ecs-api-sts-sealing-keys"
SEALING_LABEL = f"{API_GROUP}/sts-sealing-keys"
SECRET_TYPE = f"{API_GROUP}/sts-sealing-keys"
TOKEN_PREFIX = "EOS1"
KEY_PREFIX = "key-"
KEYS_CACHE_SECONDS = 60.0
MISS_REFRESH_SECONDS = 5.0
_ID_ALPHABET = string.ascii_uppercase + "234567"


class InvalidToken(Exception):
    """Malformed, tampered, or sealed with a key this endpoint does not have."""


class ExpiredToken(Exception):
    pass


ROLE = "role"
USER = "user"


@dataclass(frozen=True)
class Session:
    """What a session token says: its access key id; `arn` and `user_id` as GetCallerIdentity answers
    them; kind ROLE (AssumeRole*): `source` is the role's ARN; kind USER (GetSessionToken): `source` is the
    access key id the session was made with. `chained`: assumed by a role session (IAM's role chaining)."""

    access_key_id: str
    kind: str
    arn: str
    user_id: str
    source: str
    issued: int
    expires: int
    chained: bool = False
    source_identity: str = ""

    @property
    def expiration(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.expires, datetime.UTC)


def new_session_key_id() -> str:
    return "ASIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, purpose, hashlib.sha256).digest()


def seal(key_id: str, key: bytes, session: Session) -> tuple[str, str]:
    """(session token, secret access key) of `session`."""
    claims = _b64(json.dumps(asdict(session), separators=(",", ":"), sort_keys=True).encode())
    body = f"{key_id}.{claims}"
    mac = hmac.new(_derive(key, b"session token"), body.encode(), hashlib.sha256).digest()
    token = f"{TOKEN_PREFIX}{body}.{_b64(mac)}"
    return token, secret_for(key, token)


def secret_for(key: bytes, token: str) -> str:
    digest = hmac.new(_derive(key, b"secret access key"), token.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()[:40]


def key_id_of(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX) or token.count(".") != 2 or len(token) > 4096:
        raise InvalidToken("not a session token of this endpoint")
    return token[len(TOKEN_PREFIX) :].split(".", 1)[0]


def open_token(key: bytes, token: str, now: float) -> Session:
    """The session a token seals (InvalidToken unless `key` sealed it unchanged; ExpiredToken after)."""
    body, _, mac = token[len(TOKEN_PREFIX) :].rpartition(".")
    expected = hmac.new(_derive(key, b"session token"), body.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
    except ValueError:
        raise InvalidToken("malformed") from None
    if not hmac.compare_digest(expected, given):
        raise InvalidToken("the seal does not match")
    try:
        session = Session(**json.loads(_unb64(body.split(".", 1)[1])))
    except (ValueError, TypeError):
        raise InvalidToken("malformed claims") from None
    if session.expires <= now:
        raise ExpiredToken()
    return session


class SealingKeys:
    """The sealing keys, read from their Secret (created with one key when missing) and re-read now and
    then, and at once (at most every few seconds) when a token names a key not seen yet."""

    def __init__(self, kube: Kube, namespace: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._kube = kube
        self._namespace = namespace
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}
        self._read_at = -1e18

    def _read(self) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for obj in self._kube.list("Secret", self._namespace, {SEALING_LABEL: "true"}):
            for name, value in (obj.get("data") or {}).items():
                if name.startswith(KEY_PREFIX):
                    found[name] = base64.b64decode(value)
        return found

    def _create(self) -> None:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": SECRET_TYPE,
            "metadata": {
                "name": SEALING_SECRET,
                "namespace": self._namespace,
                "labels": {SEALING_LABEL: "true"},
            },
            "data": {f"{KEY_PREFIX}{now}": base64.b64encode(secrets.token_bytes(32)).decode()},
        }
        try:
            self._kube.create(secret)
        except KubeError as error:
            if error.status != 409:  # another replica made it first: read theirs
                raise

    def _refresh(self, force: bool) -> dict[str, bytes]:
        now = self._clock()
        with self._lock:
            age = now - self._read_at
            if self._keys and age < (MISS_REFRESH_SECONDS if force else KEYS_CACHE_SECONDS):
                return self._keys
            keys = self._read()
            if not keys:
                self._create()
                keys = self._read()
            self._keys, self._read_at = keys, now
            return keys

    def current(self) -> tuple[str, bytes]:
        keys = self._refresh(False)
        if not keys:
            raise KubeError(500, f"the Secret {SEALING_SECRET} holds no key")
        name = max(keys)
        return name, keys[name]

    def get(self, key_id: str) -> bytes | None:
        keys = self._refresh(False)
        if key_id not in keys:
            keys = self._refresh(True)
        return keys.get(key_id)
