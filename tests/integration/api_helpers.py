"""Helpers of the ECS API integration tests: access keys and the real clients (awscli v1, boto3)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEYS_NAMESPACE = "ecs-operator-system"
REGION = "us-east-1"


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str
    user: str


def create_key(kubeconfig: str, user: str, groups: tuple[str, ...] = ()) -> AccessKey:
    """A key of `user` made by `ecs-operator api create-key` (which must print exactly its two lines)."""
    from ecs_operator import subprocesses

    name = f"{user}-{secrets.token_hex(3)}".replace(":", "-")
    key = subprocesses.create_key(kubeconfig, name, user, groups, KEYS_NAMESPACE)
    return AccessKey(key["AWS_ACCESS_KEY_ID"], key["AWS_SECRET_ACCESS_KEY"], user)


@dataclass
class Aws:
    """awscli v1 (`python -m awscli`) against the endpoint, with one access key."""

    endpoint: str
    key: AccessKey
    home: Path

    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ENDPOINT_URL_ECS": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.key.secret_access_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(self.home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "credentials"),
            "AWS_PAGER": "",
        }

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "awscli", "ecs", *args, "--output", "json"],
            capture_output=True, text=True, env=self.env(), check=False, timeout=timeout,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"aws ecs {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def __call__(self, *args: str) -> Any:
        out = self.run(*args).stdout
        return json.loads(out) if out.strip() else None


def boto3_client(endpoint: str, key: AccessKey) -> Any:
    import boto3

    return boto3.client(
        "ecs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
    )
