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
from ecs_operator.resources.parsing import SpecRules, check, parse
from ecs_operator.resources.rules import NAME, NAME_RULE
from ecs_operator.resources.spec_errors import FieldError
from ecs_operator.resources.spec_shapes import spec_model

BUILT_IN = ("FARGATE", "FARGATE_SPOT")
RESERVED_PREFIX = re.compile(r"^(aws|ecs|fargate)", re.IGNORECASE)

CapacityProviderSpec = spec_model(
    "CapacityProviderSpec",
    "CreateCapacityProviderRequest",
    "A capacity provider: where tasks of a strategy naming it run.",
    __name__,
)


class CapacityProviderStatus(KindStatus):
    """Not written by the operator: the ECS API describes capacity providers from their spec."""

    status: str | None = Field(None, description="ACTIVE or INACTIVE.")


def capacity_provider_errors(spec: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    name = str(spec.get("name") or "")
    if not NAME.fullmatch(name):
        errors.append(FieldError("name", NAME_RULE))
    elif RESERVED_PREFIX.match(name):
        errors.append(FieldError("name", "The name cannot begin with aws, ecs or fargate."))
    if spec.get("autoScalingGroupProvider") is None and spec.get("managedInstancesProvider") is None:
        errors.append(
            FieldError(
                "autoScalingGroupProvider", "required member is missing (or give managedInstancesProvider)"
            )
        )
    return errors


RULES = SpecRules("CreateCapacityProviderRequest", capacity_provider_errors)


def parse_capacity_provider(data: Mapping[str, Any]) -> dict[str, Any]:
    """An EcsCapacityProvider's spec as normalized ECS JSON (SpecError naming every broken rule)."""
    return parse(CapacityProviderSpec, RULES, data)


def check_capacity_provider_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A CreateCapacityProvider request the ECS API has checked the members of, through ECS's rules."""
    return check(RULES, request)
