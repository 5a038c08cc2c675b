"""Task definition volumes and mounts."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator.translate import translate_service

from tests.unit.translate.helpers import container, paths, pod_spec, taskdef, template


@pytest.mark.parametrize(
    ("volume", "source"),
    [
        ({"name": "logs", "host": {"sourcePath": "/var/log"}}, {"hostPath": {"path": "/var/log"}}),
        ({"name": "scratch"}, {"emptyDir": {}}),
        ({"name": "scratch", "host": {}}, {"emptyDir": {}}),
        (
            {"name": "cache", "dockerVolumeConfiguration": {"scope": "task", "driver": "local"}},
            {"emptyDir": {}},
        ),
        (
            {"name": "cache", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True}},
            {"hostPath": {"path": "/var/lib/ecs-operator/volumes/cache", "type": "DirectoryOrCreate"}},
        ),
    ],
)
def test_volume_sources(volume: dict[str, Any], source: dict[str, Any]) -> None:
    spec = pod_spec(taskdef(container(), volumes=[volume]))
    assert spec["volumes"] == [{"name": volume["name"], **source}]


def test_efs_becomes_nfs_with_root_directory_in_the_log_region() -> None:
    log = {"logDriver": "awslogs", "options": {"awslogs-region": "eu-central-1"}}
    efs = {
        "name": "data",
        "efsVolumeConfiguration": {"fileSystemId": "fs-12345678", "rootDirectory": "/exports"},
    }
    spec = pod_spec(taskdef(container(logConfiguration=log), volumes=[efs]))
    assert spec["volumes"] == [
        {"name": "data", "nfs": {"server": "fs-12345678.efs.eu-central-1.amazonaws.com", "path": "/exports"}}
    ]


def test_efs_encryption_and_access_points_are_warned() -> None:
    efs = {
        "fileSystemId": "fs-1",
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-1"},
    }
    secret = "arn:aws:secretsmanager:us-west-2:1:secret:x-AbCdEf"
    td = taskdef(
        container(secrets=[{"name": "X", "valueFrom": secret}]),
        volumes=[{"name": "d", "efsVolumeConfiguration": efs}],
    )
    assert pod_spec(td)["volumes"][0]["nfs"]["server"] == "fs-1.efs.us-west-2.amazonaws.com"
    assert sorted(paths(template(td))) == [
        "volumes[0].efsVolumeConfiguration.authorizationConfig",
        "volumes[0].efsVolumeConfiguration.transitEncryption",
    ]


def test_fsx_volume_is_an_empty_dir_with_a_warning() -> None:
    fsx = {
        "fileSystemId": "fs-1",
        "rootDirectory": "share",
        "authorizationConfig": {"credentialsParameter": "p", "domain": "d"},
    }
    td = taskdef(
        container(mountPoints=[{"sourceVolume": "win", "containerPath": "C:/data"}]),
        volumes=[{"name": "win", "fsxWindowsFileServerVolumeConfiguration": fsx}],
    )
    assert pod_spec(td)["volumes"] == [{"name": "win", "emptyDir": {}}]
    assert paths(template(td)) == ["volumes[0].fsxWindowsFileServerVolumeConfiguration"]


def test_mount_points_and_volumes_from() -> None:
    td = taskdef(
        container(
            "app", mountPoints=[{"sourceVolume": "Data_1", "containerPath": "/data", "readOnly": False}]
        ),
        container("reader", volumesFrom=[{"sourceContainer": "app", "readOnly": True}]),
        volumes=[{"name": "Data_1"}],
    )
    spec = pod_spec(td)
    assert spec["volumes"] == [{"name": "data-1", "emptyDir": {}}]
    assert spec["containers"][0]["volumeMounts"] == [{"name": "data-1", "mountPath": "/data"}]
    assert spec["containers"][1]["volumeMounts"] == [
        {"name": "data-1", "mountPath": "/data", "readOnly": True}
    ]


def test_configured_at_launch_volume_takes_the_service_ebs_size() -> None:
    td = taskdef(
        container(mountPoints=[{"sourceVolume": "ebs", "containerPath": "/data"}]),
        volumes=[{"name": "ebs", "configuredAtLaunch": True}],
    )
    ebs = {"sizeInGiB": 20, "volumeType": "gp3", "roleArn": "arn:aws:iam::1:role/ebs"}
    body = {
        "serviceName": "web",
        "taskDefinition": "web",
        "volumeConfigurations": [{"name": "ebs", "managedEBSVolume": ebs}],
    }
    translation = translate_service(body, td, revision=1, cluster="demo", namespace="demo", name="web")
    volumes = translation.objects[-1]["spec"]["template"]["spec"]["volumes"]
    claim = {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}
    assert volumes == [{"name": "ebs", "ephemeral": {"volumeClaimTemplate": claim}}]
    assert paths(translation) == ["volumeConfigurations[0].managedEBSVolume.volumeType"]


def test_configured_at_launch_volume_without_configuration_is_an_empty_dir() -> None:
    td = taskdef(container(), volumes=[{"name": "ebs", "configuredAtLaunch": True}])
    assert pod_spec(td)["volumes"] == [{"name": "ebs", "emptyDir": {}}]
    assert paths(template(td)) == ["volumes[0].configuredAtLaunch"]


def test_service_without_the_launch_volume_configuration_is_warned() -> None:
    td = taskdef(container(), volumes=[{"name": "ebs", "configuredAtLaunch": True}])
    body = {"serviceName": "web", "taskDefinition": "web"}
    translation = translate_service(body, td, revision=1, cluster="demo", namespace="demo", name="web")
    assert translation.objects[-1]["spec"]["template"]["spec"]["volumes"] == [{"name": "ebs", "emptyDir": {}}]
    assert paths(translation) == ["volumeConfigurations"]
