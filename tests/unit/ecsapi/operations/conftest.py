"""Fixtures of the in-process tests of the ECS operations: a world per test (tests/unit/ecsapi/operations/
world.py), with the account and region of the defaults whatever the environment says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.ecsapi.operations.world import World, build

ENVIRONMENT = (
    "ECS_OPERATOR_ACCOUNT",
    "ECS_OPERATOR_REGION",
    "ECS_OPERATOR_ACCOUNT_NAMESPACE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    found = build()
    yield found
    found.endpoint.close()
