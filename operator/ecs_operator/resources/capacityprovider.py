"""EcsCapacityProvider (cluster-scoped, as capacity providers belong to the account): spec = a
CreateCapacityProvider request (describe-capacity-providers output applies).

An EC2 capacity provider is a pool of Nodes: the Nodes labelled `ecs.operator.dev/capacity-provider=<name>`
(docs/mapping.md); `autoScalingGroupProvider` is kept as given. FARGATE and FARGATE_SPOT are built in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ecs_operator.resources.conditions import KindStatus
from ecs_operator.resources.parsing import parse
from ecs_operator.resources.rules import NAME, NAME_RULE
from ecs_operator.resources.shapes import (
    CreateCapacityProviderRequest,
    CreateCapacityProviderRequestOrDescription,
)
from ecs_operator.resources.spec_errors import FieldError

BUILT_IN = ("FARGATE", "FARGATE_SPOT")
RESERVED_PREFIX = re.compile(r"^(aws|ecs|fargate)", re.IGNORECASE)


class CapacityProviderSpec(CreateCapacityProviderRequestOrDescription):
    """A capacity provider: where tasks of a strategy naming it run."""


class CapacityProviderStatus(KindStatus):
    """Not written by the operator: the ECS API describes capacity providers from their spec."""

    status: str | None = Field(None, description="ACTIVE or INACTIVE.")


def capacity_provider_errors(spec: CreateCapacityProviderRequest) -> list[FieldError]:
    errors = []
    if not NAME.fullmatch(spec.name):
        errors.append(FieldError("name", NAME_RULE))
    elif RESERVED_PREFIX.match(spec.name):
        errors.append(FieldError("name", "The name cannot begin with aws, ecs or fargate."))
    if spec.auto_scaling_group_provider is None and spec.managed_instances_provider is None:
        errors.append(
            FieldError(
                "autoScalingGroupProvider", "required member is missing (or give managedInstancesProvider)"
            )
        )
    return errors


def parse_capacity_provider(data: Mapping[str, Any]) -> CapacityProviderSpec:
    return parse(CapacityProviderSpec, capacity_provider_errors, data)
