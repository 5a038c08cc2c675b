"""Node pools (launch type, capacity providers), placement constraints and strategies, runtime platform."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.translate.helpers import container, paths, pod_spec, service, taskdef

EC2 = {"ecs.operator.dev/cluster": "demo"}
FARGATE = {"ecs.operator.dev/capacity": "fargate"}
FARGATE_TOLERATION = [
    {"key": "ecs.operator.dev/capacity", "operator": "Equal", "value": "fargate", "effect": "NoSchedule"}
]


def service_pod(td: dict[str, Any], **fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = service(td, **fields).objects[-1]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize(
    ("compatibilities", "fields", "selector"),
    [
        ([], {}, EC2),
        (["EC2", "FARGATE"], {}, EC2),
        (["FARGATE"], {}, FARGATE),
        (["FARGATE"], {"launchType": "EC2"}, EC2),
        (["EC2"], {"launchType": "FARGATE"}, FARGATE),
        (["EXTERNAL"], {"launchType": "EXTERNAL"}, EC2),
        ([], {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}, FARGATE),
        ([], {"capacityProviderStrategy": [{"capacityProvider": "my-asg-provider", "weight": 1}]}, EC2),
        (
            [],
            {
                "capacityProviderStrategy": [
                    {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 4},
                ]
            },
            FARGATE,
        ),
    ],
)
def test_node_pool(compatibilities: list[str], fields: dict[str, Any], selector: dict[str, str]) -> None:
    td = (
        taskdef(container(), requiresCompatibilities=compatibilities)
        if compatibilities
        else taskdef(container())
    )
    spec = service_pod(td, **fields)
    assert spec["nodeSelector"] == selector
    assert spec.get("tolerations") == (FARGATE_TOLERATION if selector == FARGATE else None)


def test_mixed_pools_are_warned() -> None:
    strategy = [{"capacityProvider": "FARGATE", "weight": 1}, {"capacityProvider": "asg", "weight": 3}]
    translation = service(taskdef(container()), capacityProviderStrategy=strategy)
    assert translation.objects[-1]["spec"]["template"]["spec"]["nodeSelector"] == EC2
    assert paths(translation) == ["capacityProviderStrategy"]


def test_cluster_default_strategy_applies_when_the_service_gives_none() -> None:
    from ecs_operator.translate import translate_service

    body = {"serviceName": "web", "taskDefinition": "web"}
    translation = translate_service(
        body,
        taskdef(container()),
        revision=1,
        cluster="demo",
        namespace="demo",
        name="web",
        default_capacity_provider_strategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )
    assert translation.objects[-1]["spec"]["template"]["spec"]["nodeSelector"] == FARGATE


def test_runtime_platform_selects_os_and_architecture() -> None:
    platform = {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    spec = pod_spec(taskdef(container(), runtimePlatform=platform))
    assert spec["nodeSelector"] == {**EC2, "kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}


@pytest.mark.parametrize(
    ("expression", "terms"),
    [
        (
            "attribute:ecs.instance-type == t3.large",
            [[{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["t3.large"]}]],
        ),
        (
            "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
            [
                [
                    {
                        "key": "topology.kubernetes.io/zone",
                        "operator": "In",
                        "values": ["us-east-1a", "us-east-1b"],
                    }
                ]
            ],
        ),
        (
            "attribute:ecs.os-type != windows and attribute:ecs.cpu-architecture == x86_64",
            [
                [
                    {"key": "kubernetes.io/os", "operator": "NotIn", "values": ["windows"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                ]
            ],
        ),
        (
            "attribute:ecs.instance-type == m5.large or attribute:ecs.instance-type == c5.large",
            [
                [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.large"]}],
                [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["c5.large"]}],
            ],
        ),
        (
            "attribute:stack not in [prod]",
            [[{"key": "stack", "operator": "NotIn", "values": ["prod"]}]],
        ),
    ],
)
def test_member_of_becomes_node_affinity(expression: str, terms: list[list[dict[str, Any]]]) -> None:
    spec = service_pod(
        taskdef(container()), placementConstraints=[{"type": "memberOf", "expression": expression}]
    )
    affinity = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity == {"nodeSelectorTerms": [{"matchExpressions": term} for term in terms]}


@pytest.mark.parametrize(
    "expression",
    [
        "attribute:ecs.instance-type =~ t2.*",
        "task:group == web",
        "(attribute:a == b)",
        "attribute:ecs.ami-id == x",
    ],
)
def test_untranslatable_member_of_is_warned(expression: str) -> None:
    translation = service(
        taskdef(container()), placementConstraints=[{"type": "memberOf", "expression": expression}]
    )
    assert "affinity" not in translation.objects[-1]["spec"]["template"]["spec"]
    assert paths(translation) == ["placementConstraints[0].expression"]


def test_task_definition_and_service_constraints_are_both_required() -> None:
    td = taskdef(
        container(),
        placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
    )
    spec = service_pod(td, placementConstraints=[{"type": "memberOf", "expression": "attribute:tier == web"}])
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web"]},
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
            ]
        }
    ]


def test_distinct_instance_is_pod_anti_affinity_on_the_service() -> None:
    spec = service_pod(taskdef(container()), placementConstraints=[{"type": "distinctInstance"}])
    assert spec["affinity"] == {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {
                        "matchLabels": {"ecs.operator.dev/cluster": "demo", "ecs.operator.dev/service": "web"}
                    },
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("attribute:ecs.availability-zone", "topology.kubernetes.io/zone"),
        ("instanceId", "kubernetes.io/hostname"),
        ("host", "kubernetes.io/hostname"),
    ],
)
def test_spread_is_a_topology_spread_constraint(field: str, key: str) -> None:
    spec = service_pod(taskdef(container()), placementStrategy=[{"type": "spread", "field": field}])
    assert spec["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {
                "matchLabels": {"ecs.operator.dev/cluster": "demo", "ecs.operator.dev/service": "web"}
            },
        }
    ]


def test_binpack_is_warned_and_random_is_the_default() -> None:
    strategies = [{"type": "binpack", "field": "memory"}, {"type": "random"}]
    translation = service(taskdef(container()), placementStrategy=strategies)
    assert "topologySpreadConstraints" not in translation.objects[-1]["spec"]["template"]["spec"]
    assert paths(translation) == ["placementStrategy[0]"]
