"""Helpers of the STS and Application Auto Scaling tests: the AWS CLI for any service, with any
environment (static keys, session credentials, profiles, the web-identity variables), unmodified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.api_helpers import REGION, AccessKey


def aws_env(endpoint: str, home: Path, **extra: str) -> dict[str, str]:
    """A clean environment pointing every service at `endpoint`, plus `extra` (AWS_* variables)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def key_env(endpoint: str, home: Path, key: AccessKey) -> dict[str, str]:
    return aws_env(
        endpoint, home, AWS_ACCESS_KEY_ID=key.access_key_id, AWS_SECRET_ACCESS_KEY=key.secret_access_key
    )


def session_env(endpoint: str, home: Path, credentials: dict[str, Any]) -> dict[str, str]:
    return aws_env(
        endpoint,
        home,
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_SESSION_TOKEN=credentials["SessionToken"],
    )


def aws(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`aws ARGS… --output json` (awscli v1, as installed) in `env`."""
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def aws_json(env: dict[str, str], *args: str) -> Any:
    out = aws(env, *args).stdout
    return json.loads(out) if out.strip() else None
