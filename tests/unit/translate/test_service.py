"""A service → Deployment/DaemonSet, Services, ServiceAccount."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator.translate import translate_service

from tests.unit.translate.helpers import container, of_kind, paths, service, taskdef

SELECTOR = {"ecs.operator.dev/cluster": "demo", "ecs.operator.dev/service": "web"}
WEB = taskdef(
    container(
        "nginx",
        portMappings=[{"containerPort": 80, "name": "http", "appProtocol": "http"}, {"containerPort": 9090}],
    ),
    networkMode="awsvpc",
)


def test_replica_service_is_a_deployment_with_complete_metadata() -> None:
    (deployment,) = service(WEB).objects
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["kind"] == "Deployment"
    assert deployment["metadata"]["name"] == "web"
    assert deployment["metadata"]["namespace"] == "demo"
    labels = {
        **SELECTOR,
        "ecs.operator.dev/family": "web",
        "ecs.operator.dev/revision": "2",
        "app.kubernetes.io/managed-by": "ecs-operator",
    }
    assert deployment["metadata"]["labels"] == labels
    assert deployment["spec"]["template"]["metadata"]["labels"] == labels
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}
    assert deployment["spec"]["progressDeadlineSeconds"] == 600


def test_selector_is_stable_across_revisions() -> None:
    body = {"serviceName": "web", "taskDefinition": "web"}
    first = translate_service(body, WEB, revision=1, cluster="demo", namespace="demo", name="web")
    second = translate_service(body, WEB, revision=7, cluster="demo", namespace="demo", name="web")
    assert first.objects[-1]["spec"]["selector"] == second.objects[-1]["spec"]["selector"]


@pytest.mark.parametrize(
    ("configuration", "surge", "unavailable"),
    [
        ({}, "100%", "0%"),
        ({"maximumPercent": 150, "minimumHealthyPercent": 50}, "50%", "50%"),
        ({"maximumPercent": 200, "minimumHealthyPercent": 0}, "100%", "100%"),
        ({"maximumPercent": 125, "minimumHealthyPercent": 75}, "25%", "25%"),
    ],
)
def test_rolling_update_follows_deployment_configuration(
    configuration: dict[str, Any], surge: str, unavailable: str
) -> None:
    deployment = service(WEB, deploymentConfiguration=configuration).objects[-1]
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
    }


def test_a_rollout_that_cannot_progress_is_warned() -> None:
    translation = service(WEB, deploymentConfiguration={"maximumPercent": 100, "minimumHealthyPercent": 100})
    assert translation.objects[-1]["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "0%",
        "maxUnavailable": "1",
    }
    assert paths(translation) == ["deploymentConfiguration"]


def test_daemon_service_is_a_daemon_set_on_container_instances() -> None:
    td = taskdef(container(), requiresCompatibilities=["FARGATE", "EC2"])
    (daemon_set,) = service(td, schedulingStrategy="DAEMON").objects
    assert daemon_set["kind"] == "DaemonSet"
    assert "replicas" not in daemon_set["spec"]
    assert daemon_set["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "100%"},
    }
    assert daemon_set["spec"]["template"]["spec"]["nodeSelector"] == {"ecs.operator.dev/cluster": "demo"}


def test_load_balancer_becomes_a_load_balancer_service_on_the_named_port() -> None:
    balancers = [
        {
            "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1",
            "containerName": "nginx",
            "containerPort": 80,
        }
    ]
    translation = service(WEB, loadBalancers=balancers)
    (svc,) = of_kind(translation, "Service")
    assert svc["metadata"]["name"] == "web"
    assert svc["spec"] == {
        "selector": SELECTOR,
        "type": "LoadBalancer",
        "ports": [
            {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "appProtocol": "http"}
        ],
    }
    assert paths(translation) == ["loadBalancers[0].targetGroupArn"]


def test_service_registry_is_a_headless_service() -> None:
    registries = [
        {
            "registryArn": "arn:aws:servicediscovery:us-east-1:1:service/srv-1",
            "containerName": "nginx",
            "containerPort": 9090,
        }
    ]
    (svc,) = of_kind(service(WEB, serviceRegistries=registries), "Service")
    assert svc["spec"] == {
        "selector": SELECTOR,
        "clusterIP": "None",
        "ports": [{"name": "tcp-9090", "port": 9090, "targetPort": "tcp-9090", "protocol": "TCP"}],
    }


def test_service_connect_is_a_cluster_ip_service_per_discovery_name() -> None:
    connect = {
        "enabled": True,
        "namespace": "internal",
        "services": [
            {
                "portName": "http",
                "discoveryName": "api",
                "clientAliases": [{"port": 8080, "dnsName": "api.internal"}],
            }
        ],
    }
    (svc,) = of_kind(service(WEB, serviceConnectConfiguration=connect), "Service")
    assert svc["metadata"]["name"] == "api"
    assert svc["spec"] == {
        "selector": SELECTOR,
        "ports": [
            {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP", "appProtocol": "http"}
        ],
    }


def test_service_without_networking_members_has_no_service_object() -> None:
    assert of_kind(service(WEB), "Service") == []


def test_owner_reference_is_a_controller_reference() -> None:
    owner = {"apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService", "name": "web", "uid": "1234"}
    td = taskdef(container(portMappings=[{"containerPort": 80}]), taskRoleArn="arn:aws:iam::1:role/web")
    body = {
        "serviceName": "web",
        "taskDefinition": "web",
        "loadBalancers": [{"containerName": "app", "containerPort": 80}],
    }
    translation = translate_service(
        body, td, revision=1, cluster="demo", namespace="demo", name="web", owner=owner
    )
    assert [o["kind"] for o in translation.objects] == ["ServiceAccount", "Service", "Deployment"]
    for obj in translation.objects:
        assert obj["metadata"]["ownerReferences"] == [
            {**owner, "controller": True, "blockOwnerDeletion": True}
        ]


def test_no_argo_cd_tracking_or_foreign_labels_on_children() -> None:
    translation = service(
        WEB, tags=[{"key": "app.kubernetes.io/instance", "value": "argo-app"}], propagateTags="SERVICE"
    )
    for obj in translation.objects:
        assert "app.kubernetes.io/instance" not in obj["metadata"]["labels"]
        for metadata in (obj["metadata"], obj["spec"]["template"]["metadata"]):
            assert not any(key.startswith("argocd.argoproj.io") for key in metadata.get("annotations", {}))


def test_propagated_service_tags_annotate_the_pods() -> None:
    deployment = service(WEB, tags=[{"key": "team", "value": "web"}], propagateTags="SERVICE").objects[-1]
    assert deployment["metadata"]["annotations"] == {"ecs.operator.dev/tags": '{"team":"web"}'}
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {
        "ecs.operator.dev/tags": '{"team":"web"}',
        "ecs.operator.dev/task-definition": "web:2",
    }


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s-1"]}}}, "networkConfiguration"),
        ({"deploymentController": {"type": "CODE_DEPLOY"}}, "deploymentController.type"),
        ({"deploymentConfiguration": {"strategy": "BLUE_GREEN"}}, "deploymentConfiguration.strategy"),
        (
            {"deploymentConfiguration": {"alarms": {"alarmNames": ["a"], "enable": True, "rollback": True}}},
            "deploymentConfiguration.alarms",
        ),
        ({"availabilityZoneRebalancing": "ENABLED"}, "availabilityZoneRebalancing"),
        (
            {"vpcLatticeConfigurations": [{"roleArn": "r", "targetGroupArn": "t", "portName": "http"}]},
            "vpcLatticeConfigurations",
        ),
    ],
)
def test_service_members_without_equivalent_are_warned(fields: dict[str, Any], path: str) -> None:
    assert paths(service(WEB, **fields)) == [path]


@pytest.mark.parametrize(
    "fields",
    [
        {
            "clientToken": "abc",
            "platformVersion": "LATEST",
            "enableExecuteCommand": True,
            "enableECSManagedTags": True,
        },
        {"deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}},
        {"availabilityZoneRebalancing": "DISABLED", "deploymentController": {"type": "ECS"}},
    ],
)
def test_members_handled_without_warning(fields: dict[str, Any]) -> None:
    assert service(WEB, **fields).warnings == []


def test_translation_is_deterministic() -> None:
    fields = {
        "loadBalancers": [{"containerName": "nginx", "containerPort": 80}],
        "placementConstraints": [{"type": "distinctInstance"}],
    }
    assert service(WEB, **fields) == service(WEB, **fields)


def test_daemon_rollout_never_surges_and_unavailable_beats_surge() -> None:
    configuration = {"maximumPercent": 150, "minimumHealthyPercent": 50}
    translation = service(
        taskdef(container()), schedulingStrategy="DAEMON", deploymentConfiguration=configuration
    )
    assert translation.objects[-1]["spec"]["updateStrategy"]["rollingUpdate"] == {
        "maxSurge": "0%",
        "maxUnavailable": "50%",
    }
    assert paths(translation) == ["deploymentConfiguration.maximumPercent"]


def test_udp_load_balancer_targets_the_udp_port() -> None:
    td = taskdef(container("dns", portMappings=[{"containerPort": 53, "protocol": "udp", "name": "dns"}]))
    translation = service(td, loadBalancers=[{"containerName": "dns", "containerPort": 53}])
    (svc,) = of_kind(translation, "Service")
    assert svc["spec"]["ports"] == [{"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"}]
    assert translation.warnings == []
