"""Quantities are read as the API server reads them: the same numbers as the Kubernetes client's parser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ecs_operator.plans.drift import quantity
from kubernetes.utils import parse_quantity

SAMPLES = ["0", "1", "250m", "1.5", "0.5", ".5", "1Gi", "512Mi", "1024Ki", "2k", "3M", "1e3", "1E-3", "5n",
           "7u", "100G", "2Ti", "1Pi", "1Ei", "4T", "1P", "1E", "+2", "-1", "12.25Mi"]  # fmt: skip


@pytest.mark.parametrize("text", SAMPLES)
def test_the_same_number_as_the_kubernetes_client(text: str) -> None:
    assert quantity(text) == Decimal(parse_quantity(text))


@pytest.mark.parametrize("text", ["", "abc", "1Gib", "1.2.3", "e3", "Mi", "1 Gi"])
def test_what_is_not_a_quantity_is_none(text: str) -> None:
    assert quantity(text) is None


def test_numbers_and_booleans() -> None:
    assert quantity(2) == Decimal(2) and quantity(0.25) == Decimal("0.25") and quantity(True) is None
