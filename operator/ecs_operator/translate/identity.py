"""taskRoleArn → a ServiceAccount carrying the EKS IRSA annotation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.translate.metadata import new_object

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def service_account(
    name: str,
    role_arn: str,
    *,
    namespace: str,
    object_labels: Mapping[str, str],
    owner: Mapping[str, str] | None,
) -> dict[str, Any]:
    return new_object(
        "v1",
        "ServiceAccount",
        name,
        namespace=namespace,
        object_labels=object_labels,
        owner=owner,
        annotations={IRSA_ANNOTATION: role_arn},
    )
