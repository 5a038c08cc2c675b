"""Who signed a request: a long-term access key (a Secret) or a session (a sealed token), verified with
SigV4, and the Kubernetes identity its calls act as.

A session's identity is looked up at each request (the role, or the key it was made with), so deleting an
IamRole or a key Secret cuts its sessions off (AccessDeniedException), as IAM evaluates a role's current
permissions; the session itself still reads back with GetCallerIdentity until it expires.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ecs_operator.ecsapi import roles, sessions, sigv4
from ecs_operator.ecsapi.errors import (
    AccessDeniedException,
    ExpiredTokenException,
    UnrecognizedClientException,
)
from ecs_operator.ecsapi.keys import Identity, Key, KeyRing
from ecs_operator.ecsapi.sessions import Session
from ecs_operator.identifiers import Partition

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    arn: str
    user_id: str
    identity: Identity | None
    key: Key | None = None
    session: Session | None = None
    service: str = ""  # the credential scope's service name

    def acting_as(self) -> Identity:
        if self.identity is None:
            raise AccessDeniedException(
                f"{self.arn} has no Kubernetes identity any more: its role or access key was deleted."
            )
        return self.identity


@dataclass
class Authenticator:
    keys: KeyRing
    sealing: sessions.SealingKeys
    directory: roles.Directory
    partition: Partition

    def authenticate(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, Sequence[str]],
        body: bytes,
        now: datetime.datetime,
    ) -> Caller:
        """The verified caller, or the exception AWS answers with."""
        token = next(iter(headers.get("x-amz-security-token", ())), None)
        found: list[Caller] = []

        def secret_of(key_id: str) -> str | None:
            if token is not None:
                secret, caller = self._session(key_id, token, now.timestamp())
                found.append(caller)
                return secret
            key = self.keys.lookup(key_id)
            if key is None:
                return None
            found.append(self.of_key(key))
            return key.secret_access_key

        auth = sigv4.verify(method, raw_path, headers, body, secret_of, now)
        caller = found[0]
        return Caller(**{**caller.__dict__, "service": auth.service})

    def of_key(self, key: Key) -> Caller:
        user = key.identity.user
        return Caller(
            key.access_key_id, self.partition.iam_user(user), roles.user_id(user), key.identity, key
        )

    def _session(self, key_id: str, token: str, now: float) -> tuple[str, Caller]:
        try:
            sealing_key = self.sealing.get(sessions.key_id_of(token))
            if sealing_key is None:
                raise sessions.InvalidToken("unknown sealing key")
            session = sessions.open_token(sealing_key, token, now)
        except sessions.InvalidToken:
            raise UnrecognizedClientException(INVALID_TOKEN) from None
        except sessions.ExpiredToken:
            raise ExpiredTokenException(EXPIRED_TOKEN) from None
        if session.access_key_id != key_id:
            raise UnrecognizedClientException(INVALID_TOKEN)
        caller = Caller(key_id, session.arn, session.user_id, self._identity(session), session=session)
        return sessions.secret_for(sealing_key, token), caller

    def _identity(self, session: Session) -> Identity | None:
        if session.kind == sessions.USER:
            key = self.keys.lookup(session.source)
            return key.identity if key is not None else None
        name = self.partition.role_name(session.source)
        role = self.directory.role(name) if name else None
        return role.identity if role is not None and role.arn == session.source else None
