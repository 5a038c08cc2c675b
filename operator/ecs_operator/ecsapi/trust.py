"""IAM trust policies (a role's `assumeRolePolicyDocument`), read and evaluated as IAM does for the two
actions served: `sts:AssumeRole` (principals `AWS`: account root, users, roles, assumed-role sessions) and
`sts:AssumeRoleWithWebIdentity` (principals `Federated`: OIDC providers).

Pure: no I/O. An explicit Deny wins over any Allow; nothing allowed is denied. Condition operators:
String(Not)Equals(IgnoreCase), String(Not)Like, Null, Bool, each with `IfExists` and the
`ForAnyValue:` / `ForAllValues:` set prefixes. Anything else (NotPrincipal, NotAction, other operators)
makes the policy invalid, with a message naming it: a rule that cannot be read never grants.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator.identifiers import Partition

ASSUME_ROLE = "sts:AssumeRole"
ASSUME_ROLE_WITH_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
# Accepted beside the actions served: they only allow what this endpoint does not do (tags, identities).
IGNORED_ACTIONS = ("sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext")
STRING_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
)
OPERATORS = (*STRING_OPERATORS, "Null", "Bool")
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "Action", "Condition"}

Context = Mapping[str, str | Sequence[str]]


class PolicyError(ValueError):
    """The document is not a trust policy this endpoint can evaluate; the message names the member."""


@dataclass(frozen=True)
class Request:
    """What is asked: the action, the principals the caller is (ARNs, or the provider ARN of a web
    identity), of which kind (`AWS` or `Federated`), and the condition keys with their values."""

    action: str
    principal_type: str
    principals: tuple[str, ...]
    context: Context


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise PolicyError(f"{where}: must be a string or a non-empty list of strings")


def check(document: Any) -> None:
    """Raise PolicyError naming the first member this module cannot read."""
    if not isinstance(document, Mapping):
        raise PolicyError("assumeRolePolicyDocument: must be an object")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(f"assumeRolePolicyDocument.{sorted(unknown)[0]}: not a member of a policy")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError("assumeRolePolicyDocument.Statement: must be a statement or a non-empty list")
    for index, statement in enumerate(statements):
        _check_statement(statement, f"assumeRolePolicyDocument.Statement[{index}]")


def _check_statement(statement: Any, where: str) -> None:
    if not isinstance(statement, Mapping):
        raise PolicyError(f"{where}: must be an object")
    unknown = set(statement) - STATEMENT_KEYS
    if unknown:
        name = sorted(unknown)[0]
        raise PolicyError(
            f"{where}.{name}: not supported in a trust policy here (Effect, Principal, Action, Condition)"
        )
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect: must be Allow or Deny")
    principal = statement.get("Principal")
    if principal != "*":
        if not isinstance(principal, Mapping) or not principal:
            raise PolicyError(f'{where}.Principal: must be "*" or an object of AWS, Federated or Service')
        for kind, value in principal.items():
            if kind not in ("AWS", "Federated", "Service"):
                raise PolicyError(f"{where}.Principal.{kind}: unknown principal type")
            _strings(value, f"{where}.Principal.{kind}")
    _strings(statement.get("Action"), f"{where}.Action")
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        raise PolicyError(f"{where}.Condition: must be an object")
    for operator, tests in condition.items():
        if _operator(operator) is None:
            raise PolicyError(f"{where}.Condition.{operator}: unsupported condition operator")
        if not isinstance(tests, Mapping) or not tests:
            raise PolicyError(f"{where}.Condition.{operator}: must be an object of condition keys")
        for key, value in tests.items():
            _strings(value, f"{where}.Condition.{operator}.{key}")


def _operator(name: str) -> tuple[str, str, bool] | None:
    """(set prefix, base operator, IfExists) of a condition operator, or None when unsupported."""
    prefix, _, rest = name.rpartition(":")
    if prefix not in ("", "ForAnyValue", "ForAllValues"):
        return None
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    return (prefix, base, if_exists) if base in OPERATORS else None


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document["Statement"]
    return [found] if isinstance(found, Mapping) else list(found)


def _action_matches(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _principal_matches(principal: Any, request: Request, account: str) -> bool:
    if principal == "*":
        return True
    allowed = principal.get(request.principal_type)
    if allowed is None:
        return False
    for name in _strings(allowed, "Principal"):
        if name == "*" or name in request.principals:
            return True
        # An account id or its root ARN trusts every principal of the account (IAM delegates to the
        # account's own policies; here there are none, so: every key and session of the account).
        if request.principal_type == "AWS" and name in (account, f"arn:aws:iam::{account}:root"):
            return True
    return False


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _matches_one(base: str, value: str, expected: list[str]) -> bool:
    if base in ("StringEquals", "StringNotEquals"):
        return value in expected
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return value.lower() in {e.lower() for e in expected}
    if base in ("StringLike", "StringNotLike"):
        return any(_like(e, value) for e in expected)
    if base == "Bool":
        return value.lower() in {e.lower() for e in expected}
    raise AssertionError(base)


def _condition_holds(operator: str, key: str, expected: list[str], context: Context) -> bool:
    parsed = _operator(operator)
    assert parsed is not None
    prefix, base, if_exists = parsed
    present = {k.lower(): v for k, v in context.items()}
    raw = present.get(key.lower())
    if base == "Null":
        return (raw is None) == (expected[0].lower() == "true")
    if raw is None:
        # A missing key: IfExists holds, ForAllValues holds vacuously, ForAnyValue has nothing to match, and
        # a negated single-valued operator holds.
        if if_exists or prefix == "ForAllValues":
            return True
        return prefix == "" and base.startswith("StringNot")
    values = [raw] if isinstance(raw, str) else list(raw)
    negated = base.startswith("StringNot")
    positive = [_matches_one(base, v, expected) for v in values]
    if prefix == "ForAllValues":
        found = all(positive)
    else:
        # A single-valued operator on a list (a token's `aud`) holds when any value does.
        found = any(positive)
    return not found if negated else found


def _conditions_hold(condition: Mapping[str, Any], context: Context) -> bool:
    return all(
        _condition_holds(operator, key, _strings(expected, key), context)
        for operator, tests in condition.items()
        for key, expected in tests.items()
    )


def allows(document: Mapping[str, Any], request: Request, account: str) -> bool:
    """Whether the trust policy lets `request` assume the role (raises PolicyError if unreadable)."""
    check(document)
    allowed = False
    for statement in _statements(document):
        if not _action_matches(_strings(statement["Action"], "Action"), request.action):
            continue
        if not _principal_matches(statement["Principal"], request, account):
            continue
        if not _conditions_hold(statement.get("Condition", {}), request.context):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def statement_for_principals(arns: Sequence[str]) -> dict[str, Any]:
    """An Allow of sts:AssumeRole to these principal ARNs (users, roles)."""
    return {"Effect": "Allow", "Principal": {"AWS": list(arns)}, "Action": ASSUME_ROLE}


def statement_for_web_identity(
    provider: str, partition: Partition, subjects: Sequence[str], audiences: Sequence[str]
) -> dict[str, Any]:
    """An Allow of sts:AssumeRoleWithWebIdentity to tokens of `provider` (an issuer without https://)
    whose `sub` is one of `subjects` (wildcards allowed) and `aud` one of `audiences`."""
    conditions: dict[str, Any] = {}
    if audiences:
        conditions.setdefault("StringEquals", {})[f"{provider}:aud"] = list(audiences)
    operator = "StringLike" if any("*" in s or "?" in s for s in subjects) else "StringEquals"
    if subjects:
        conditions.setdefault(operator, {})[f"{provider}:sub"] = list(subjects)
    return {
        "Effect": "Allow",
        "Principal": {"Federated": partition.oidc_provider(provider)},
        "Action": ASSUME_ROLE_WITH_WEB_IDENTITY,
        "Condition": conditions,
    }


def document(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}
