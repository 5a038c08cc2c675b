"""Fixtures of the STS tests: roles created with `ecs-operator api create-role` (removed afterwards), the
cluster's ServiceAccount issuer, and ServiceAccount tokens from the TokenRequest API."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

pytest_plugins = ["tests.integration.api_fixtures"]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
KEYS_NAMESPACE = "ecs-operator-system"


@pytest.fixture
def create_role(kubeconfig: str, kubectl: Kubectl) -> Iterator[Callable[..., str]]:
    """`create_role(user, *flags)`: `ecs-operator api create-role` as an administrator runs it; its ARN."""
    made: list[str] = []

    def make(user: str, *flags: str) -> str:
        name = f"role-{secrets.token_hex(4)}"
        command = [
            sys.executable, "-m", "ecs_operator", "api", "create-role", "--name", name, "--user", user,
            *flags,
        ]  # fmt: skip
        env = {**os.environ, "KUBECONFIG": kubeconfig}
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=60)
        assert result.returncode == 0, result.stderr
        made.append(name)
        arn = result.stdout.strip()
        assert arn == f"arn:aws:iam::000000000000:role/{name}", arn
        return arn

    yield make
    for name in made:
        kubectl("delete", "iamrole", name, "--ignore-not-found", check=False)


@pytest.fixture
def service_account(kubectl: Kubectl, namespace: str) -> Callable[..., str]:
    """`service_account(name, audience="sts.amazonaws.com", duration="10m")`: a token of a fresh
    ServiceAccount of the test namespace (the TokenRequest API, as a projected volume gets one)."""

    def token(name: str, audience: str = "sts.amazonaws.com", duration: str = "10m") -> str:
        kubectl("create", "serviceaccount", name, "-n", namespace, check=False)
        return kubectl(
            "create", "token", name, "-n", namespace, f"--audience={audience}", f"--duration={duration}"
        ).stdout.strip()

    return token
