"""The naming convention from AWS references (Secrets Manager, SSM, S3) to Kubernetes Secrets and ConfigMaps.

Values are never copied: a reference becomes a `secretKeyRef`/`configMapRef` to an object the user creates.

- Secrets Manager `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf[:JSON_KEY:STAGE:VERSION_ID]`
  → Secret `dns(NAME)` (the six-character random suffix removed, `/` → `-`), key JSON_KEY or `value`.
- SSM `arn:aws:ssm:REGION:ACCOUNT:parameter/PATH/NAME`, `/PATH/NAME` or `NAME`
  → Secret `dns(PATH-NAME)`, key `value`.
- S3 environment file `arn:aws:s3:::BUCKET/PATH/FILE.env` → ConfigMap `dns(PATH-FILE)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecs_operator.naming import dns_subdomain

DEFAULT_KEY = "value"

_SECRETS_MANAGER = re.compile(r"^arn:aws[\w-]*:secretsmanager:[^:]*:[^:]*:secret:(?P<rest>.+)$")
_SSM = re.compile(r"^arn:aws[\w-]*:ssm:[^:]*:[^:]*:parameter(?P<path>/.*)$")
_S3 = re.compile(r"^arn:aws[\w-]*:s3:::(?P<bucket>[^/]+)/(?P<key>.+)$")
_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
_INVALID_KEY = re.compile(r"[^-._a-zA-Z0-9]+")


@dataclass(frozen=True)
class SecretReference:
    name: str
    key: str
    problem: str | None = None


def secret_reference(value_from: str) -> SecretReference:
    manager = _SECRETS_MANAGER.match(value_from)
    if manager:
        parts = manager.group("rest").split(":")
        secret = _RANDOM_SUFFIX.sub("", parts[0]) or parts[0]
        json_key = parts[1] if len(parts) > 1 else ""
        pinned = [p for p in parts[2:4] if p]
        problem = None
        if pinned:
            problem = (
                f"version {':'.join(pinned)} cannot be pinned: a Kubernetes Secret holds one version; "
                "put that version's value in the Secret"
            )
        key = _INVALID_KEY.sub("-", json_key).strip("-") if json_key else DEFAULT_KEY
        return SecretReference(dns_subdomain(secret), key or DEFAULT_KEY, problem)
    ssm = _SSM.match(value_from)
    path = ssm.group("path") if ssm else value_from
    return SecretReference(dns_subdomain(path.strip("/").replace("/", "-")), DEFAULT_KEY)


def pull_secret_name(credentials_parameter: str) -> str:
    return secret_reference(credentials_parameter).name


def config_map_name(environment_file: str) -> str:
    match = _S3.match(environment_file)
    key = match.group("key") if match else environment_file.rsplit(":", 1)[-1]
    stem = re.sub(r"\.env$", "", key)
    return dns_subdomain(stem.strip("/").replace("/", "-"))
