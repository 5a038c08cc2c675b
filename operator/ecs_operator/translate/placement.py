"""Where pods run: the node pool (container instances or Fargate), ECS placement constraints and strategies.

Pool rule: `launchType` decides; else the `capacityProviderStrategy` (the provider with a `base`, else the
highest weight; `FARGATE`/`FARGATE_SPOT` mean the Fargate pool, any other provider the cluster's container
instances, and of those the Nodes labelled `ecs.operator.dev/capacity-provider=<provider>` when the provider
is one of the cluster's capacity providers); else the cluster's default strategy; else the task
definition's `requiresCompatibilities` (EC2 first, like ECS).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ecs_operator import labels
from ecs_operator.naming import label_value
from ecs_operator.translate.result import TranslationWarning

FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"

ATTRIBUTE_LABELS = {
    "ecs.instance-type": "node.kubernetes.io/instance-type",
    "ecs.availability-zone": ZONE,
    "ecs.os-type": "kubernetes.io/os",
    "ecs.cpu-architecture": "kubernetes.io/arch",
    "ecs.instance-id": HOSTNAME,
}
ARCHITECTURES = {"x86_64": "amd64", "arm64": "arm64", "amd64": "amd64"}
OS_FAMILIES = {"LINUX": "linux"}


def provider_pool(provider: str) -> str:
    """The pool of an EC2 capacity provider: the cluster's container instances that it provides."""
    return f"{labels.CAPACITY_EC2}:{provider}"


def node_pool(
    *,
    launch_type: str | None,
    strategy: Sequence[Mapping[str, Any]] | None,
    default_strategy: Sequence[Mapping[str, Any]] | None,
    compatibilities: Sequence[str],
    path: str,
    providers: Collection[str] = (),
) -> tuple[str, list[TranslationWarning]]:
    """The pool, and what cannot be honoured; `providers`: the cluster's capacity providers (a strategy
    naming one of them runs on its Nodes)."""
    if launch_type:
        return (labels.CAPACITY_FARGATE if launch_type == "FARGATE" else labels.CAPACITY_EC2), []
    chosen = strategy or default_strategy
    if chosen:
        return _pool_of_strategy(chosen, f"{path}capacityProviderStrategy" if strategy else None, providers)
    if "EC2" in compatibilities or not compatibilities or "FARGATE" not in compatibilities:
        return labels.CAPACITY_EC2, []
    return labels.CAPACITY_FARGATE, []


def _pool_of_strategy(
    strategy: Sequence[Mapping[str, Any]], path: str | None, providers: Collection[str]
) -> tuple[str, list[TranslationWarning]]:
    def pool(item: Mapping[str, Any]) -> str:
        provider = str(item.get("capacityProvider", ""))
        if provider in FARGATE_PROVIDERS:
            return labels.CAPACITY_FARGATE
        return provider_pool(provider) if provider in providers else labels.CAPACITY_EC2

    ranked = sorted(
        strategy, key=lambda item: (int(item.get("base") or 0), int(item.get("weight") or 0)), reverse=True
    )
    chosen = pool(ranked[0])
    used = {pool(item) for item in strategy if int(item.get("base") or 0) or int(item.get("weight") or 0)}
    warnings = []
    if len(used) > 1 and path is not None:
        shown = chosen.partition(":")[2] or chosen
        warnings.append(
            TranslationWarning(
                path,
                f"mixes capacity providers of different node pools; every task runs on the {shown} pool "
                "(Kubernetes cannot split one workload across node pools by weight)",
            )
        )
    return chosen, warnings


def pool_placement(pool: str, cluster: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(nodeSelector, tolerations) of a pool."""
    if pool == labels.CAPACITY_FARGATE:
        toleration = {
            "key": labels.FARGATE_TAINT_KEY,
            "operator": "Equal",
            "value": labels.FARGATE_TAINT_VALUE,
            "effect": labels.FARGATE_TAINT_EFFECT,
        }
        return {labels.CAPACITY: labels.CAPACITY_FARGATE}, [toleration]
    provider = pool.partition(":")[2]
    if provider:
        return {labels.CLUSTER: label_value(cluster), labels.CAPACITY_PROVIDER: label_value(provider)}, []
    return {labels.CLUSTER: label_value(cluster)}, []


def runtime_platform_selector(
    platform: Mapping[str, Any], path: str
) -> tuple[dict[str, str], list[TranslationWarning]]:
    selector: dict[str, str] = {}
    warnings: list[TranslationWarning] = []
    architecture = str(platform.get("cpuArchitecture") or "")
    if architecture:
        selector["kubernetes.io/arch"] = ARCHITECTURES.get(architecture.lower(), architecture.lower())
    family = str(platform.get("operatingSystemFamily") or "")
    if family:
        selector["kubernetes.io/os"] = "windows" if family.startswith("WINDOWS") else "linux"
        if family.startswith("WINDOWS"):
            warnings.append(
                TranslationWarning(
                    f"{path}.operatingSystemFamily",
                    f"{family} runs on any Windows node; the Windows Server version is not selected",
                )
            )
    return selector, warnings


_TOKEN = re.compile(r"\s*(\[[^\]]*\]|==|!=|=~|!~|\(|\)|&&|\|\||[^\s()\[\]=!]+)")


def _tokens(expression: str) -> list[str] | None:
    tokens, position = [], 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            if expression[position:].strip() == "":
                break
            return None
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _requirement(attribute: str, operator: str, values: list[str]) -> dict[str, Any] | str:
    if not attribute.startswith("attribute:"):
        return f"{attribute} is not a node attribute Kubernetes knows"
    name = attribute.removeprefix("attribute:")
    key = ATTRIBUTE_LABELS.get(name)
    if key is None:
        if name.startswith("ecs."):
            return f"attribute {name} has no Kubernetes node label"
        key = name  # a custom attribute: nodes carry it as a label of the same name
    if any("*" in value for value in values):
        return "wildcards cannot be matched by node affinity"
    if key == "kubernetes.io/arch":
        values = [ARCHITECTURES.get(value.lower(), value.lower()) for value in values]
    return {"key": key, "operator": operator, "values": values}


def member_of_terms(expression: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Node selector terms (ORed) of a cluster-query-language expression, or (None, why not)."""
    tokens = _tokens(expression)
    if not tokens:
        return None, "cannot parse the expression"
    if "(" in tokens or ")" in tokens:
        return None, "parenthesised expressions are not translated"
    terms: list[dict[str, Any]] = []
    for disjunct in _split(tokens, {"or", "||"}):
        expressions: list[dict[str, Any]] = []
        for comparison in _split(disjunct, {"and", "&&"}):
            requirement = _comparison(comparison)
            if isinstance(requirement, str):
                return None, requirement
            expressions.append(requirement)
        terms.append({"matchExpressions": expressions})
    return terms, None


def _split(tokens: list[str], separators: set[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token.lower() in separators:
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _comparison(tokens: list[str]) -> dict[str, Any] | str:
    if len(tokens) == 3 and tokens[1] in ("==", "!="):
        operator = "In" if tokens[1] == "==" else "NotIn"
        return _requirement(tokens[0], operator, [tokens[2]])
    if len(tokens) == 3 and tokens[1].lower() == "in" and tokens[2].startswith("["):
        return _requirement(tokens[0], "In", _list(tokens[2]))
    if len(tokens) == 4 and [t.lower() for t in tokens[1:3]] == ["not", "in"] and tokens[3].startswith("["):
        return _requirement(tokens[0], "NotIn", _list(tokens[3]))
    if len(tokens) == 2 and tokens[1].lower() in ("exists", "!exists"):
        requirement = _requirement(tokens[0], "Exists", [])
        if isinstance(requirement, dict):
            requirement.pop("values")
            if tokens[1].startswith("!"):
                requirement["operator"] = "DoesNotExist"
        return requirement
    if len(tokens) == 3 and tokens[1] in ("=~", "!~"):
        return "regular-expression matches are not translated"
    return f"cannot translate {' '.join(tokens)!r}"


def _list(token: str) -> list[str]:
    return [value.strip() for value in token.strip("[]").split(",") if value.strip()]


def placement(
    constraints: Sequence[Mapping[str, Any]],
    strategies: Sequence[Mapping[str, Any]],
    *,
    selector: Mapping[str, str],
    constraints_path: str,
    strategies_path: str,
    constraint_offset: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[TranslationWarning]]:
    """(affinity, topologySpreadConstraints, warnings) of ECS placement constraints and strategies."""
    warnings: list[TranslationWarning] = []
    terms: list[dict[str, Any]] = []
    anti_affinity: list[dict[str, Any]] = []
    for index, constraint in enumerate(constraints):
        here = f"{constraints_path}[{index + constraint_offset}]"
        kind = constraint.get("type")
        if kind == "distinctInstance":
            anti_affinity.append({"labelSelector": {"matchLabels": dict(selector)}, "topologyKey": HOSTNAME})
        elif kind == "memberOf":
            expression = str(constraint.get("expression") or "")
            found, problem = member_of_terms(expression)
            if found is None:
                warnings.append(TranslationWarning(f"{here}.expression", f"{problem}; constraint ignored"))
            else:
                terms = and_terms(terms, found)
    affinity: dict[str, Any] = {}
    if terms:
        affinity["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
        }
    if anti_affinity:
        affinity["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": anti_affinity}
    spread: list[dict[str, Any]] = []
    for index, strategy in enumerate(strategies):
        here = f"{strategies_path}[{index}]"
        kind = strategy.get("type")
        if kind == "binpack":
            warnings.append(
                TranslationWarning(
                    here,
                    "binpack is a scheduler-wide choice on Kubernetes (NodeResourcesFit MostAllocated); "
                    "the default scheduler spreads instead",
                )
            )
        elif kind == "spread":
            field = str(strategy.get("field") or "")
            key = _spread_key(field)
            if key is None:
                warnings.append(TranslationWarning(f"{here}.field", f"cannot spread over {field!r}; ignored"))
            elif all(item["topologyKey"] != key for item in spread):
                spread.append(
                    {
                        "maxSkew": 1,
                        "topologyKey": key,
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": dict(selector)},
                    }
                )
    return affinity, spread, warnings


def _spread_key(field: str) -> str | None:
    if field in ("instanceId", "host"):
        return HOSTNAME
    name = field.removeprefix("attribute:")
    if name in ATTRIBUTE_LABELS:
        return ATTRIBUTE_LABELS[name]
    if field.startswith("attribute:") and not name.startswith("ecs."):
        return name
    return None


def and_terms(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two ORs of terms ANDed: the cross product of their terms."""
    if not left:
        return right
    return [{"matchExpressions": a["matchExpressions"] + b["matchExpressions"]} for a in left for b in right]
