"""STS's operations: GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken.

Each takes the request (botocore's input shape, validated) and returns the output shape; timestamps are
datetimes (the Query serializer writes them as ISO 8601). Credentials are sealed sessions
(`ecsapi/sessions.py`); who may assume a role is its IAM trust policy (`ecsapi/trust.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.ecsapi import roles, sessions, trust
from ecs_operator.ecsapi.callers import Caller
from ecs_operator.ecsapi.errors import (
    AccessDeniedException,
    EcsError,
    InvalidParameterException,
    MissingAuthenticationTokenException,
)
from ecs_operator.ecsapi.webidentity import Verifier
from ecs_operator.identifiers import Partition

CHAINED_MAX_SECONDS = 3600
SESSION_TOKEN_DEFAULT_SECONDS = 43200
# Members that would narrow a session (session policies, MFA, context assertions): ignoring them would
# give a session more than asked for, so they are refused.
NOT_SUPPORTED = ("Policy", "PolicyArns", "SerialNumber", "TokenCode", "ProvidedContexts")


class MalformedPolicyDocument(EcsError):
    @property
    def code(self) -> str:
        return "MalformedPolicyDocument"


@dataclass
class StsContext:
    """`caller` is None for an unsigned request (AssumeRoleWithWebIdentity needs none)."""

    caller: Caller | None
    sealing: sessions.SealingKeys
    directory: roles.Directory
    verifier: Verifier
    partition: Partition = field(default_factory=Partition.from_env)
    clock: Callable[[], float] = time.time


def _signed(ctx: StsContext) -> Caller:
    if ctx.caller is None:
        raise MissingAuthenticationTokenException("Request is missing Authentication Token")
    return ctx.caller


def _refuse_unsupported(request: Mapping[str, Any]) -> None:
    for member in NOT_SUPPORTED:
        if request.get(member) is not None:
            raise InvalidParameterException(
                f"{member}: not supported here (session policies, MFA and context assertions cannot be "
                "honoured; a session acts with its role's full Kubernetes rights)"
            )


def _credentials(ctx: StsContext, session: sessions.Session) -> dict[str, Any]:
    key_id, key = ctx.sealing.current()
    token, secret = sessions.seal(key_id, key, session)
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": secret,
        "SessionToken": token,
        "Expiration": session.expiration,
    }


def _role(ctx: StsContext, role_arn: str, denied: str) -> roles.Role:
    name = ctx.partition.role_name(role_arn)
    role = ctx.directory.role(name) if name else None
    if role is None:
        raise AccessDeniedException(denied)
    return role


def _check_trust(role: roles.Role, request: trust.Request, account: str, denied: str) -> None:
    try:
        allowed = trust.allows(role.trust, request, account)
    except trust.PolicyError as error:
        raise MalformedPolicyDocument(f"The trust policy of {role.arn} cannot be read: {error}") from None
    if not allowed:
        raise AccessDeniedException(denied)


def _role_session(
    ctx: StsContext, role: roles.Role, name: str, seconds: int, chained: bool, source_identity: str
) -> tuple[sessions.Session, dict[str, Any]]:
    now = int(ctx.clock())
    arn = ctx.partition.assumed_role(role.name, name)
    assumed_id = f"{role.role_id}:{name}"
    session = sessions.Session(
        access_key_id=sessions.new_session_key_id(),
        kind=sessions.ROLE,
        arn=arn,
        user_id=assumed_id,
        source=role.arn,
        issued=now,
        expires=now + seconds,
        chained=chained,
        source_identity=source_identity,
    )
    return session, {"Arn": arn, "AssumedRoleId": assumed_id}


def _duration(request: Mapping[str, Any], role: roles.Role, chained: bool = False) -> int:
    seconds = int(request.get("DurationSeconds") or 3600)
    if chained and seconds > CHAINED_MAX_SECONDS:
        raise InvalidParameterException(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
            "chaining."
        )
    if seconds > role.max_session:
        raise InvalidParameterException(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return seconds


def get_caller_identity(ctx: StsContext, request: Mapping[str, Any]) -> dict[str, Any]:
    caller = _signed(ctx)
    return {"UserId": caller.user_id, "Account": ctx.partition.account, "Arn": caller.arn}


def assume_role(ctx: StsContext, request: Mapping[str, Any]) -> dict[str, Any]:
    caller = _signed(ctx)
    _refuse_unsupported(request)
    denied = (
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {request['RoleArn']}"
    )
    role = _role(ctx, request["RoleArn"], denied)
    principals = [caller.arn]
    chained = caller.session is not None and caller.session.kind == sessions.ROLE
    if chained and caller.session is not None:
        principals.append(caller.session.source)
    context: dict[str, str] = {
        "aws:PrincipalArn": principals[-1],
        "sts:RoleSessionName": request["RoleSessionName"],
    }
    if request.get("ExternalId") is not None:
        context["sts:ExternalId"] = request["ExternalId"]
    if request.get("SourceIdentity") is not None:
        context["sts:SourceIdentity"] = request["SourceIdentity"]
    asked = trust.Request(trust.ASSUME_ROLE, "AWS", tuple(principals), context)
    _check_trust(role, asked, ctx.partition.account, denied)
    seconds = _duration(request, role, chained)
    source_identity = str(request.get("SourceIdentity") or "")
    session, user = _role_session(ctx, role, request["RoleSessionName"], seconds, chained, source_identity)
    answer: dict[str, Any] = {
        "Credentials": _credentials(ctx, session),
        "AssumedRoleUser": user,
        "PackedPolicySize": 0,
    }
    if source_identity:
        answer["SourceIdentity"] = source_identity
    return answer


def assume_role_with_web_identity(ctx: StsContext, request: Mapping[str, Any]) -> dict[str, Any]:
    _refuse_unsupported(request)
    identity = ctx.verifier.verify(request["WebIdentityToken"])
    denied = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    role = _role(ctx, request["RoleArn"], denied)
    provider = identity.provider
    context: dict[str, str | tuple[str, ...]] = {
        f"{provider}:sub": identity.subject,
        f"{provider}:aud": identity.audiences,
        "sts:RoleSessionName": request["RoleSessionName"],
    }
    principal = ctx.partition.oidc_provider(roles.provider_name(identity.issuer))
    asked = trust.Request(trust.ASSUME_ROLE_WITH_WEB_IDENTITY, "Federated", (principal,), context)
    _check_trust(role, asked, ctx.partition.account, denied)
    seconds = _duration(request, role)
    session, user = _role_session(ctx, role, request["RoleSessionName"], seconds, False, "")
    return {
        "Credentials": _credentials(ctx, session),
        "SubjectFromWebIdentityToken": identity.subject,
        "AssumedRoleUser": user,
        "PackedPolicySize": 0,
        "Provider": provider,
        "Audience": identity.audiences[0] if identity.audiences else "",
    }


def get_session_token(ctx: StsContext, request: Mapping[str, Any]) -> dict[str, Any]:
    caller = _signed(ctx)
    _refuse_unsupported(request)
    if caller.key is None:
        raise AccessDeniedException("Cannot call GetSessionToken with session credentials")
    now = int(ctx.clock())
    seconds = int(request.get("DurationSeconds") or SESSION_TOKEN_DEFAULT_SECONDS)
    session = sessions.Session(
        access_key_id=sessions.new_session_key_id(),
        kind=sessions.USER,
        arn=caller.arn,
        user_id=caller.user_id,
        source=caller.access_key_id,
        issued=now,
        expires=now + seconds,
    )
    return {"Credentials": _credentials(ctx, session)}


Operation = Callable[[StsContext, Mapping[str, Any]], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {
    "GetCallerIdentity": get_caller_identity,
    "AssumeRole": assume_role,
    "AssumeRoleWithWebIdentity": assume_role_with_web_identity,
    "GetSessionToken": get_session_token,
}
