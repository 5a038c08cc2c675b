"""Task definition volumes → pod volumes; mount points, volumesFrom, tmpfs and /dev/shm → volume mounts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.naming import dns_label, unique
from ecs_operator.translate.result import TranslationWarning

SHARED_VOLUME_ROOT = "/var/lib/ecs-operator/volumes"
_REGION = re.compile(r"\b(?:arn:aws[\w-]*:[a-z0-9-]+:)([a-z]{2}(?:-gov)?-[a-z]+-\d)\b")


def guess_region(taskdef: Mapping[str, Any]) -> str | None:
    """The AWS region the task definition talks about (awslogs-region, else any regional ARN)."""
    for container in taskdef.get("containerDefinitions") or ():
        options = (container.get("logConfiguration") or {}).get("options") or {}
        region = options.get("awslogs-region")
        if isinstance(region, str) and region:
            return region
    match = _REGION.search(repr(taskdef))
    return match.group(1) if match else None


class VolumeSet:
    """Pod volumes with their Kubernetes names, in the order they were added."""

    def __init__(self) -> None:
        self.volumes: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}
        self._taken: set[str] = set()

    def add(self, ecs_name: str, source: dict[str, Any]) -> str:
        name = unique(dns_label(ecs_name, fallback="volume"), self._taken)
        self.names[ecs_name] = name
        self.volumes.append({"name": name, **source})
        return name

    def add_generated(self, name: str, source: dict[str, Any]) -> str:
        """A volume no ECS volume names (tmpfs, /dev/shm)."""
        final = unique(dns_label(name, fallback="volume"), self._taken)
        self.volumes.append({"name": final, **source})
        return final


def task_volumes(
    taskdef: Mapping[str, Any],
    launch_volumes: Mapping[str, Mapping[str, Any]],
    launch_path: str,
) -> tuple[VolumeSet, list[TranslationWarning]]:
    """Pod volumes of `volumes[]`; `launch_volumes` are the service/task `volumeConfigurations` by name
    (`launch_path` names that member, or is empty when there is no service or task: a pod template)."""
    volume_set = VolumeSet()
    warnings: list[TranslationWarning] = []
    region = None
    for index, volume in enumerate(taskdef.get("volumes") or ()):
        path = f"volumes[{index}]"
        name = str(volume.get("name") or f"volume-{index}")
        source: dict[str, Any] = {"emptyDir": {}}
        host = volume.get("host")
        docker = volume.get("dockerVolumeConfiguration")
        efs = volume.get("efsVolumeConfiguration")
        if volume.get("configuredAtLaunch"):
            source, found = _launch_volume(launch_volumes.get(name), launch_path, name, warnings)
            if not found and launch_path:
                warnings.append(
                    TranslationWarning(
                        launch_path,
                        f"no entry names the configuredAtLaunch volume {name!r}; an emptyDir stands in",
                    )
                )
            elif not found:
                warnings.append(
                    TranslationWarning(
                        f"{path}.configuredAtLaunch",
                        "set by each service or task (volumeConfigurations); an emptyDir stands in here",
                    )
                )
        elif host and host.get("sourcePath"):
            source = {"hostPath": {"path": str(host["sourcePath"])}}
        elif docker:
            source = _docker_volume(name, docker, f"{path}.dockerVolumeConfiguration", warnings)
        elif efs:
            if region is None:
                region = guess_region(taskdef)
                if region is None:
                    warnings.append(
                        TranslationWarning(
                            f"{path}.efsVolumeConfiguration",
                            "no AWS region in the task definition; us-east-1 assumed for the EFS DNS name",
                        )
                    )
                    region = "us-east-1"
            source = _efs_volume(efs, region, f"{path}.efsVolumeConfiguration", warnings)
        volume_set.add(name, source)
    return volume_set, warnings


def _docker_volume(
    name: str, docker: Mapping[str, Any], path: str, warnings: list[TranslationWarning]
) -> dict[str, Any]:
    driver = str(docker.get("driver") or "local")
    if driver != "local":
        warnings.append(
            TranslationWarning(f"{path}.driver", f"Docker volume driver {driver!r} is not translated")
        )
    if docker.get("scope") == "shared":
        host_path: dict[str, Any] = {"path": f"{SHARED_VOLUME_ROOT}/{dns_label(name)}"}
        host_path["type"] = "DirectoryOrCreate" if docker.get("autoprovision") else "Directory"
        return {"hostPath": host_path}
    return {"emptyDir": {}}


def _efs_volume(
    efs: Mapping[str, Any], region: str, path: str, warnings: list[TranslationWarning]
) -> dict[str, Any]:
    if efs.get("transitEncryption") == "ENABLED":
        warnings.append(
            TranslationWarning(
                f"{path}.transitEncryption",
                "plain NFS mounts are not encrypted in transit; use the EFS CSI driver for TLS",
            )
        )
    server = f"{efs.get('fileSystemId')}.efs.{region}.amazonaws.com"
    return {"nfs": {"server": server, "path": str(efs.get("rootDirectory") or "/")}}


def _launch_volume(
    configuration: Mapping[str, Any] | None, path: str, name: str, warnings: list[TranslationWarning]
) -> tuple[dict[str, Any], bool]:
    if configuration is None:
        return {"emptyDir": {}}, False
    index = configuration.get("_index", 0)
    ebs = configuration.get("managedEBSVolume") or {}
    here = f"{path}[{index}].managedEBSVolume"
    size = ebs.get("sizeInGiB")
    if not size:
        warnings.append(TranslationWarning(here, "no sizeInGiB: an emptyDir stands in for the EBS volume"))
        return {"emptyDir": {}}, True
    filesystem = ebs.get("filesystemType")
    if filesystem and filesystem != "ext4":
        warnings.append(
            TranslationWarning(f"{here}.filesystemType", f"{filesystem} must come from the StorageClass")
        )
    termination = ebs.get("terminationPolicy") or {}
    if termination.get("deleteOnTermination") is False:
        warnings.append(
            TranslationWarning(
                f"{here}.terminationPolicy.deleteOnTermination",
                "ephemeral volumes are deleted with the pod; use a PersistentVolumeClaim to keep data",
            )
        )
    claim = {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{int(size)}Gi"}},
        }
    }
    return {"ephemeral": {"volumeClaimTemplate": claim}}, True


def launch_volumes_by_name(configurations: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(c.get("name")): {**c, "_index": i} for i, c in enumerate(configurations)}
