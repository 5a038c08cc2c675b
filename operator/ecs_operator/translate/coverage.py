"""Every member of the ECS request shapes, classified once: mapped, not needed, or warned.

This table is the single source of truth for three things: the generic walker below (every *warned* member
that is present produces a warning, so nothing is dropped silently), the member reference in
docs/mapping.md (rendered by `render_reference`, kept in step by a test) and the botocore completeness test.
Shapes are named as in botocore's ECS model; nested structures are listed only where the parent member is
mapped, because a warned member is reported as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ecs_operator.translate.result import TranslationWarning


class Handling(Enum):
    MAPPED = "mapped"
    NOT_NEEDED = "not needed"
    WARNED = "warning"


@dataclass(frozen=True)
class Member:
    handling: Handling
    note: str
    shape: str | None = None


def mapped(note: str, shape: str | None = None) -> Member:
    return Member(Handling.MAPPED, note, shape)


def not_needed(note: str) -> Member:
    return Member(Handling.NOT_NEEDED, note)


def warned(note: str) -> Member:
    return Member(Handling.WARNED, note)


TAGS = "annotation `ecs.operator.dev/tags` (JSON) on the generated objects"

# Services and RunTask configure managed EBS volumes with the same members, but for a few of their own.
MANAGED_EBS_VOLUME: dict[str, Member] = {
    "encrypted": warned("encryption is a property of the StorageClass; ignored"),
    "kmsKeyId": warned("encryption keys are a property of the StorageClass; ignored"),
    "volumeType": warned("the volume type is a property of the StorageClass; the default class is used"),
    "sizeInGiB": mapped("`resources.requests.storage` (Gi)"),
    "snapshotId": warned("restoring EBS snapshots needs a VolumeSnapshot; ignored"),
    "volumeInitializationRate": warned("volume initialization rate is not translated; ignored"),
    "iops": warned("IOPS are a property of the StorageClass; ignored"),
    "throughput": warned("throughput is a property of the StorageClass; ignored"),
    "tagSpecifications": warned("EBS volume tags are not translated; ignored"),
    "roleArn": not_needed("the CSI driver provisions volumes with its own identity"),
}

SHAPES: dict[str, dict[str, Member]] = {
    "RegisterTaskDefinitionRequest": {
        "family": mapped("label `ecs.operator.dev/family`; PodTemplate name"),
        "taskRoleArn": mapped(
            "ServiceAccount with annotation `eks.amazonaws.com/role-arn` (IRSA); pods use it"
        ),
        "executionRoleArn": not_needed(
            "the kubelet pulls images with imagePullSecrets and reads Kubernetes Secrets itself"
        ),
        "networkMode": mapped(
            "`host` → `hostNetwork: true`; `bridge`/`awsvpc` → the pod network (hostPort kept only for "
            "`host`/`bridge`); `none` → warning"
        ),
        "containerDefinitions": mapped(
            "pod containers, init containers and native sidecars", "ContainerDefinition"
        ),
        "volumes": mapped("pod volumes", "Volume"),
        "placementConstraints": mapped(
            "node affinity (see placement rules)", "TaskDefinitionPlacementConstraint"
        ),
        "requiresCompatibilities": mapped(
            "default node pool when neither launch type nor capacity provider is given (EC2 first)"
        ),
        "cpu": mapped("pod-level `resources` (requests = limits), 1024 units = 1 CPU"),
        "memory": mapped("pod-level `resources` memory (requests = limits), MiB"),
        "tags": mapped(TAGS, "Tag"),
        "pidMode": mapped("`host` → `hostPID: true`; `task` → `shareProcessNamespace: true`"),
        "ipcMode": mapped(
            "`host` → `hostIPC: true`; `task` → the pod's shared IPC namespace; `none` → warning"
        ),
        "proxyConfiguration": warned("App Mesh proxy configuration has no Kubernetes equivalent; ignored"),
        "inferenceAccelerators": warned("Elastic Inference accelerators do not exist on Kubernetes; ignored"),
        "ephemeralStorage": warned(
            "Kubernetes has no pod-wide ephemeral storage size; set `ephemeral-storage` limits on containers"
        ),
        "runtimePlatform": mapped(
            "node selector `kubernetes.io/os` / `kubernetes.io/arch`", "RuntimePlatform"
        ),
        "enableFaultInjection": warned("ECS fault injection endpoints do not exist on Kubernetes; ignored"),
        "trustedExecutionConfiguration": warned(
            "trusted execution isolation has no Kubernetes equivalent (consider a RuntimeClass); ignored"
        ),
    },
    "ContainerDefinition": {
        "name": mapped("container name (lowercased, invalid characters → `-` only when needed)"),
        "image": mapped("container `image`"),
        "repositoryCredentials": mapped("pod `imagePullSecrets`", "RepositoryCredentials"),
        "cpu": mapped("`resources.requests.cpu` (1024 units = 1000m); no CPU limit, like ECS CPU shares"),
        "memory": mapped("`resources.limits.memory` (MiB, hard limit)"),
        "memoryReservation": mapped("`resources.requests.memory` (MiB, soft limit)"),
        "links": mapped("`hostAliases` to 127.0.0.1 (containers of a pod share localhost)"),
        "portMappings": mapped("container `ports`", "PortMapping"),
        "essential": mapped(
            "the operator stops a task when an essential container exits; non-essential containers other "
            "containers wait for become init containers"
        ),
        "restartPolicy": mapped(
            "services restart containers in place (pod `restartPolicy: Always`); for tasks → warning",
            "ContainerRestartPolicy",
        ),
        "entryPoint": mapped("container `command` (Docker ENTRYPOINT)"),
        "command": mapped("container `args` (Docker CMD)"),
        "environment": mapped("container `env`", "KeyValuePair"),
        "environmentFiles": mapped("`envFrom` a ConfigMap named after the S3 object", "EnvironmentFile"),
        "mountPoints": mapped("`volumeMounts`", "MountPoint"),
        "volumesFrom": mapped("the source container's `volumeMounts` (readOnly when asked)", "VolumeFrom"),
        "linuxParameters": mapped("security context, memory-backed volumes, pod settings", "LinuxParameters"),
        "secrets": mapped("`env[].valueFrom.secretKeyRef` (Secret named after the ARN)", "Secret"),
        "dependsOn": mapped(
            "`COMPLETE`/`SUCCESS` → init containers; `START`/`HEALTHY` → native sidecars "
            "(init containers with `restartPolicy: Always`; a startup probe for `HEALTHY`)",
            "ContainerDependency",
        ),
        "startTimeout": warned("Kubernetes has no per-container start timeout for dependencies; ignored"),
        "stopTimeout": mapped("pod `terminationGracePeriodSeconds` (the maximum over containers)"),
        "versionConsistency": not_needed(
            "images are resolved by the kubelet; pin a digest in `image` to fix one"
        ),
        "hostname": mapped("pod `hostname` (one per pod)"),
        "user": mapped(
            "`securityContext.runAsUser`/`runAsGroup` (numeric `uid[:gid]`, `root`); names → warning"
        ),
        "workingDirectory": mapped("container `workingDir`"),
        "disableNetworking": warned("a Kubernetes container cannot be cut off from the pod network; ignored"),
        "privileged": mapped("`securityContext.privileged`"),
        "readonlyRootFilesystem": mapped("`securityContext.readOnlyRootFilesystem`"),
        "dnsServers": mapped("pod `dnsConfig.nameservers` with `dnsPolicy: None`"),
        "dnsSearchDomains": mapped("pod `dnsConfig.searches`"),
        "extraHosts": mapped("pod `hostAliases`", "HostEntry"),
        "dockerSecurityOptions": warned(
            "Docker security options (SELinux/AppArmor) are not translated; set securityContext by hand"
        ),
        "interactive": warned("`stdin` is not kept open for ECS-style interactive containers; ignored"),
        "pseudoTerminal": warned("no TTY is allocated; ignored"),
        "dockerLabels": mapped("pod annotation `ecs.operator.dev/docker-labels` (JSON by container)"),
        "ulimits": warned("Kubernetes has no per-container ulimits (set them on the node runtime); ignored"),
        "logConfiguration": warned(
            "Kubernetes collects stdout/stderr; the log driver is kept in pod annotation "
            "`ecs.operator.dev/log-configuration` for a log agent to read"
        ),
        "healthCheck": mapped(
            "exec readiness and liveness probes (+ startup probe for `startPeriod`)", "HealthCheck"
        ),
        "systemControls": mapped(
            "pod `securityContext.sysctls` (safe sysctls only; others → warning)", "SystemControl"
        ),
        "resourceRequirements": mapped(
            "`GPU` → `nvidia.com/gpu` limit; `NeuronDevice` → `aws.amazon.com/neurondevice` limit; "
            "`InferenceAccelerator` → warning",
            "ResourceRequirement",
        ),
        "firelensConfiguration": warned(
            "FireLens log routing has no Kubernetes equivalent (run a log agent); kept in annotation "
            "`ecs.operator.dev/log-configuration`"
        ),
        "credentialSpecs": warned("gMSA credential specs need Windows nodes and manual setup; ignored"),
    },
    "RepositoryCredentials": {
        "credentialsParameter": mapped(
            "`imagePullSecrets` name from the secret ARN (Secret naming convention)"
        ),
    },
    "PortMapping": {
        "containerPort": mapped("`ports[].containerPort`"),
        "hostPort": mapped("`ports[].hostPort` for `host`/`bridge` network modes only (0 = dynamic = none)"),
        "protocol": mapped("`ports[].protocol` (TCP/UDP)"),
        "name": mapped("`ports[].name` (IANA service name; generated as `<protocol>-<port>` when absent)"),
        "appProtocol": mapped("`appProtocol` of the matching Service port"),
        "containerPortRange": warned("Kubernetes container ports have no ranges; ignored"),
    },
    "ContainerRestartPolicy": {
        "enabled": mapped(
            "true in a service: Kubernetes restarts the container in place; in a task → warning"
        ),
        "ignoredExitCodes": warned("Kubernetes restarts containers regardless of exit code; ignored"),
        "restartAttemptPeriod": warned("Kubernetes uses exponential back-off instead; ignored"),
    },
    "KeyValuePair": {
        "name": mapped("`env[].name`"),
        "value": mapped("`env[].value`"),
    },
    "EnvironmentFile": {
        "value": mapped("ConfigMap name from the S3 object key (see secrets and files convention)"),
        "type": mapped("only `s3` exists"),
    },
    "MountPoint": {
        "sourceVolume": mapped("`volumeMounts[].name`"),
        "containerPath": mapped("`volumeMounts[].mountPath`"),
        "readOnly": mapped("`volumeMounts[].readOnly`"),
    },
    "VolumeFrom": {
        "sourceContainer": mapped("copies that container's mounts"),
        "readOnly": mapped("makes the copied mounts read-only"),
    },
    "LinuxParameters": {
        "capabilities": mapped("`securityContext.capabilities`", "KernelCapabilities"),
        "devices": warned("host devices cannot be mapped into a container without a device plugin; ignored"),
        "initProcessEnabled": mapped(
            "`shareProcessNamespace: true`: the pod's pause process becomes PID 1 and reaps zombies "
            "(signals are not forwarded like tini does)"
        ),
        "sharedMemorySize": mapped(
            "an `emptyDir` with `medium: Memory` and `sizeLimit` mounted at `/dev/shm`"
        ),
        "tmpfs": mapped("`emptyDir` with `medium: Memory` and `sizeLimit`", "Tmpfs"),
        "maxSwap": warned("swap is configured per node in Kubernetes; ignored"),
        "swappiness": warned("swap is configured per node in Kubernetes; ignored"),
    },
    "KernelCapabilities": {
        "add": mapped("`securityContext.capabilities.add`"),
        "drop": mapped("`securityContext.capabilities.drop`"),
    },
    "Tmpfs": {
        "containerPath": mapped("`volumeMounts[].mountPath`"),
        "size": mapped("`emptyDir.sizeLimit` (MiB)"),
        "mountOptions": warned("tmpfs mount options cannot be set on an emptyDir; ignored"),
    },
    "Secret": {
        "name": mapped("`env[].name`"),
        "valueFrom": mapped("`secretKeyRef` name and key from the ARN (Secret naming convention)"),
    },
    "ContainerDependency": {
        "containerName": mapped("the container started first (init container or native sidecar)"),
        "condition": mapped(
            "`START`/`HEALTHY` → native sidecar; `COMPLETE`/`SUCCESS` → init container; `HEALTHY` on a "
            "container whose health check is not run → warning"
        ),
    },
    "HostEntry": {
        "hostname": mapped("`hostAliases[].hostnames`"),
        "ipAddress": mapped("`hostAliases[].ip`"),
    },
    "HealthCheck": {
        "command": mapped(
            "exec probe: `CMD` → the command, `CMD-SHELL` → `/bin/sh -c`, `NONE` → no probe; any other "
            "first element → no probe + warning (Docker ignores the check)"
        ),
        "interval": mapped("`periodSeconds` (default 30)"),
        "timeout": mapped("`timeoutSeconds` (default 5)"),
        "retries": mapped("`failureThreshold` (default 3)"),
        "startPeriod": mapped("a startup probe that allows `startPeriod` seconds of failures"),
    },
    "SystemControl": {
        "namespace": mapped("`sysctls[].name`"),
        "value": mapped("`sysctls[].value`"),
    },
    "ResourceRequirement": {
        "value": mapped("the number of devices"),
        "type": mapped("the extended resource name"),
        "sharingStrategy": warned(
            "GPU sharing (NVIDIA MPS) must be configured in the device plugin; ignored"
        ),
    },
    "Volume": {
        "name": mapped("`volumes[].name` (DNS label)"),
        "host": mapped("`hostPath`", "HostVolumeProperties"),
        "dockerVolumeConfiguration": mapped(
            "`task` scope → `emptyDir`; `shared` scope → `hostPath` under `/var/lib/ecs-operator/volumes`",
            "DockerVolumeConfiguration",
        ),
        "efsVolumeConfiguration": mapped(
            "`nfs` volume on the EFS DNS name with `rootDirectory`", "EFSVolumeConfiguration"
        ),
        "s3filesVolumeConfiguration": warned("S3 Files volumes are not translated; an emptyDir stands in"),
        "fsxWindowsFileServerVolumeConfiguration": warned(
            "FSx for Windows volumes are not translated (use an SMB CSI driver); an emptyDir stands in"
        ),
        "configuredAtLaunch": mapped(
            "the service's or task's `volumeConfigurations` (EBS) → a generic ephemeral volume; "
            "else an emptyDir"
        ),
    },
    "HostVolumeProperties": {
        "sourcePath": mapped("`hostPath.path` (no path → an emptyDir, like ECS's task-scoped bind mount)"),
    },
    "DockerVolumeConfiguration": {
        "scope": mapped("`task` → emptyDir, `shared` → hostPath"),
        "autoprovision": mapped("`hostPath.type: DirectoryOrCreate` when true"),
        "driver": mapped("`local` is what Kubernetes does; other drivers → warning"),
        "driverOpts": warned("Docker volume driver options are not translated; ignored"),
        "labels": warned("Docker volume labels are not translated; ignored"),
    },
    "EFSVolumeConfiguration": {
        "fileSystemId": mapped("NFS server `<fileSystemId>.efs.<region>.amazonaws.com`"),
        "rootDirectory": mapped("NFS `path` (default `/`)"),
        "transitEncryption": mapped("`DISABLED` is plain NFS; `ENABLED` → warning (use the EFS CSI driver)"),
        "transitEncryptionPort": warned("plain NFS has no TLS tunnel port; ignored"),
        "authorizationConfig": warned(
            "EFS access points and IAM authorization need the EFS CSI driver; ignored"
        ),
    },
    "TaskDefinitionPlacementConstraint": {
        "type": mapped("`memberOf` → node affinity"),
        "expression": mapped("cluster query language → node selector terms (see placement rules)"),
    },
    "Tag": {
        "key": mapped(TAGS),
        "value": mapped(TAGS),
    },
    "RuntimePlatform": {
        "cpuArchitecture": mapped("`kubernetes.io/arch` (`X86_64` → amd64, `ARM64` → arm64)"),
        "operatingSystemFamily": mapped("`kubernetes.io/os` (`LINUX` → linux, `WINDOWS_*` → windows)"),
    },
    "CreateServiceRequest": {
        "cluster": mapped("the EcsCluster whose namespace the service lives in"),
        "serviceName": mapped("label `ecs.operator.dev/service`; Deployment/DaemonSet/Service name"),
        "taskDefinition": mapped("the task definition revision whose pod template is used"),
        "availabilityZoneRebalancing": mapped("`DISABLED` is Kubernetes' behaviour; `ENABLED` → warning"),
        "loadBalancers": mapped("Service `type: LoadBalancer` on the container ports", "LoadBalancer"),
        "serviceRegistries": mapped("headless Service (one DNS A/SRV record per task)", "ServiceRegistry"),
        "desiredCount": mapped("Deployment `replicas` (ignored for `DAEMON`, like ECS)"),
        "clientToken": not_needed("server-side apply is idempotent"),
        "launchType": mapped(
            "node pool: `EC2`/`EXTERNAL`/`MANAGED_INSTANCES` → container instances, `FARGATE` → Fargate pool"
        ),
        "capacityProviderStrategy": mapped(
            "node pool: `FARGATE`/`FARGATE_SPOT` → Fargate pool, other providers → container instances",
            "CapacityProviderStrategyItem",
        ),
        "platformVersion": not_needed("Fargate platform versions do not exist on Kubernetes"),
        "role": not_needed("load balancers are provisioned by the cluster's cloud controller"),
        "deploymentConfiguration": mapped(
            "Deployment rolling update and the operator's circuit breaker", "DeploymentConfiguration"
        ),
        "placementConstraints": mapped("node affinity and pod anti-affinity", "PlacementConstraint"),
        "placementStrategy": mapped("topology spread constraints (see placement rules)", "PlacementStrategy"),
        "networkConfiguration": warned(
            "subnets, security groups and public IPs have no pod equivalent (use NetworkPolicy); ignored"
        ),
        "healthCheckGracePeriodSeconds": mapped(
            "liveness probes start after the grace period (`initialDelaySeconds`)"
        ),
        "schedulingStrategy": mapped("`REPLICA` → Deployment, `DAEMON` → DaemonSet on container instances"),
        "deploymentController": mapped(
            "`ECS` → rolling update; `CODE_DEPLOY`/`EXTERNAL` → warning", "DeploymentController"
        ),
        "tags": mapped(TAGS, "Tag"),
        "enableECSManagedTags": not_needed("the operator labels everything it creates"),
        "propagateTags": mapped("`SERVICE`/`TASK_DEFINITION` → that tag annotation on the pods"),
        "enableExecuteCommand": not_needed("`kubectl exec` works on every pod"),
        "serviceConnectConfiguration": mapped(
            "one ClusterIP Service per discovery name, ports from the client aliases",
            "ServiceConnectConfiguration",
        ),
        "volumeConfigurations": mapped(
            "generic ephemeral volumes for `configuredAtLaunch` volumes", "ServiceVolumeConfiguration"
        ),
        "vpcLatticeConfigurations": warned(
            "VPC Lattice has no Kubernetes equivalent (use Gateway API); ignored"
        ),
        "gatewayConnectors": warned(
            "gateway connectors have no Kubernetes equivalent (use Gateway API); ignored"
        ),
        "monitoring": warned("ECS metric configuration has no Kubernetes equivalent; ignored"),
    },
    "LoadBalancer": {
        "targetGroupArn": warned(
            "the Service gets its own cloud load balancer; the target group is not reused"
        ),
        "loadBalancerName": warned(
            "the Service gets its own cloud load balancer; the Classic ELB is not reused"
        ),
        "containerName": mapped("the container whose port the Service targets"),
        "containerPort": mapped("Service `port` and `targetPort` (the named container port)"),
        "advancedConfiguration": warned(
            "blue/green target groups and listener rules are not translated; ignored"
        ),
    },
    "ServiceRegistry": {
        "registryArn": mapped("Cloud Map service → the headless Service named after the ECS service"),
        "port": mapped("Service port (SRV record)"),
        "containerName": mapped("the container whose port is published"),
        "containerPort": mapped("Service port and targetPort"),
    },
    "CapacityProviderStrategyItem": {
        "capacityProvider": mapped("`FARGATE`/`FARGATE_SPOT` → Fargate pool, others → container instances"),
        "weight": mapped(
            "the provider with the highest weight (or base) picks the pool; mixed pools → warning"
        ),
        "base": mapped("counts like weight when choosing the pool"),
    },
    "DeploymentConfiguration": {
        "deploymentCircuitBreaker": mapped(
            "the operator fails (and rolls back) the rollout", "DeploymentCircuitBreaker"
        ),
        "maximumPercent": mapped("`maxSurge` = maximumPercent - 100 (%), default 200 (DAEMON 100)"),
        "minimumHealthyPercent": mapped(
            "`maxUnavailable` = 100 - minimumHealthyPercent (%), default 100 (DAEMON 0)"
        ),
        "alarms": warned("CloudWatch alarms cannot stop a Kubernetes rollout; ignored"),
        "strategy": mapped(
            "`ROLLING` → RollingUpdate; `BLUE_GREEN`/`LINEAR`/`CANARY` → warning (rolling used)"
        ),
        "bakeTimeInMinutes": warned("Kubernetes rollouts have no bake time; ignored"),
        "lifecycleHooks": warned("deployment lifecycle hooks (Lambda) are not translated; ignored"),
        "linearConfiguration": warned("linear traffic shifting is not translated; a rolling update is used"),
        "canaryConfiguration": warned("canary traffic shifting is not translated; a rolling update is used"),
        "earlySuccessCriteria": warned("early success criteria are not translated; ignored"),
    },
    "DeploymentCircuitBreaker": {
        "enable": mapped("the operator marks the rollout FAILED after ECS's failure threshold"),
        "rollback": mapped("the operator restores the last completed revision"),
        "resetOnHealthyTask": warned("the failure count is not reset by healthy tasks; ignored"),
        "thresholdConfiguration": warned("ECS's default failure threshold is used; ignored"),
    },
    "PlacementConstraint": {
        "type": mapped(
            "`distinctInstance` → pod anti-affinity on `kubernetes.io/hostname`; `memberOf` → node affinity"
        ),
        "expression": mapped("cluster query language → node selector terms"),
    },
    "PlacementStrategy": {
        "type": mapped("`spread` → topology spread; `random` → the scheduler's default; `binpack` → warning"),
        "field": mapped(
            "`instanceId`/`host` → `kubernetes.io/hostname`, `attribute:ecs.availability-zone` → zone"
        ),
    },
    "DeploymentController": {
        "type": mapped("`ECS` → Kubernetes rolling update"),
    },
    "ServiceConnectConfiguration": {
        "enabled": mapped("false → no Services"),
        "namespace": not_needed("Kubernetes DNS is scoped by the namespace of the EcsCluster"),
        "services": mapped("one ClusterIP Service each", "ServiceConnectService"),
        "logConfiguration": warned(
            "the Service Connect proxy does not exist on Kubernetes; its logs are not configured"
        ),
        "accessLogConfiguration": warned(
            "the Service Connect proxy does not exist on Kubernetes; no access logs"
        ),
        "containerConfigurations": warned("the Service Connect proxy does not exist on Kubernetes; ignored"),
    },
    "ServiceConnectService": {
        "portName": mapped("Service `targetPort` (the named container port)"),
        "discoveryName": mapped("Service name (default: portName)"),
        "clientAliases": mapped("Service ports", "ServiceConnectClientAlias"),
        "ingressPortOverride": warned("there is no proxy ingress port on Kubernetes; ignored"),
        "timeout": warned("Service Connect proxy timeouts are not translated; ignored"),
        "tls": warned("Service Connect TLS needs a service mesh; ignored"),
    },
    "ServiceConnectClientAlias": {
        "port": mapped("Service `port`"),
        "dnsName": mapped("must name the Service (`<name>` or `<name>.<anything>`); otherwise → warning"),
        "testTrafficRules": warned("test traffic routing is not translated; ignored"),
    },
    "ServiceVolumeConfiguration": {
        "name": mapped("the task definition volume that is `configuredAtLaunch`"),
        "managedEBSVolume": mapped(
            "a generic ephemeral volume claim", "ServiceManagedEBSVolumeConfiguration"
        ),
    },
    "ServiceManagedEBSVolumeConfiguration": {
        **MANAGED_EBS_VOLUME,
        "filesystemType": mapped("volume claim as is; non-ext4 → warning"),
    },
    "RunTaskRequest": {
        "capacityProviderStrategy": mapped("node pool, as for services", "CapacityProviderStrategyItem"),
        "cluster": mapped("the EcsCluster whose namespace the task lives in"),
        "count": mapped("that many Pods, `<task>-<i>`"),
        "enableECSManagedTags": not_needed("the operator labels everything it creates"),
        "enableExecuteCommand": not_needed("`kubectl exec` works on every pod"),
        "group": mapped("pod annotation `ecs.operator.dev/group`"),
        "launchType": mapped("node pool, as for services"),
        "networkConfiguration": warned(
            "subnets, security groups and public IPs have no pod equivalent (use NetworkPolicy); ignored"
        ),
        "overrides": mapped("applied to the task definition before translation", "TaskOverride"),
        "placementConstraints": mapped("node affinity and pod anti-affinity", "PlacementConstraint"),
        "placementStrategy": mapped("topology spread constraints", "PlacementStrategy"),
        "platformVersion": not_needed("Fargate platform versions do not exist on Kubernetes"),
        "propagateTags": mapped("`TASK_DEFINITION` → the task definition's tags on the pods"),
        "referenceId": mapped("pod annotation `ecs.operator.dev/reference-id`"),
        "startedBy": mapped("pod annotation `ecs.operator.dev/started-by`"),
        "tags": mapped(TAGS, "Tag"),
        "taskDefinition": mapped("the task definition revision whose pod template is used"),
        "clientToken": not_needed("server-side apply is idempotent"),
        "volumeConfigurations": mapped(
            "generic ephemeral volumes for `configuredAtLaunch` volumes", "TaskVolumeConfiguration"
        ),
    },
    "TaskOverride": {
        "containerOverrides": mapped("merged into the named containers", "ContainerOverride"),
        "cpu": mapped("replaces the task cpu"),
        "inferenceAcceleratorOverrides": warned(
            "Elastic Inference accelerators do not exist on Kubernetes; ignored"
        ),
        "executionRoleArn": not_needed("see the task definition's `executionRoleArn`"),
        "memory": mapped("replaces the task memory"),
        "taskRoleArn": mapped("replaces the task role (ServiceAccount annotation)"),
        "ephemeralStorage": warned(
            "Kubernetes has no pod-wide ephemeral storage size; set `ephemeral-storage` limits on containers"
        ),
    },
    "ContainerOverride": {
        "name": mapped("the container overridden"),
        "command": mapped("replaces `args`"),
        "environment": mapped("added to (and overriding) `env`", "KeyValuePair"),
        "environmentFiles": mapped("added to `envFrom`", "EnvironmentFile"),
        "cpu": mapped("replaces the container cpu"),
        "memory": mapped("replaces the container memory"),
        "memoryReservation": mapped("replaces the container memoryReservation"),
        "resourceRequirements": mapped(
            "replace the container's resource requirements", "ResourceRequirement"
        ),
    },
    "TaskVolumeConfiguration": {
        "name": mapped("the task definition volume that is `configuredAtLaunch`"),
        "managedEBSVolume": mapped("a generic ephemeral volume claim", "TaskManagedEBSVolumeConfiguration"),
    },
    "TaskManagedEBSVolumeConfiguration": {
        **MANAGED_EBS_VOLUME,
        "terminationPolicy": mapped(
            "ephemeral volumes are always deleted with the pod; keeping them → warning",
            "TaskManagedEBSVolumeTerminationPolicy",
        ),
        "filesystemType": mapped("volume claim as is; non-ext4 → warning"),
    },
    "TaskManagedEBSVolumeTerminationPolicy": {
        "deleteOnTermination": mapped("true is what an ephemeral volume does; false → warning"),
    },
    "CreateClusterRequest": {
        "clusterName": mapped("EcsCluster name; Namespace name unless `namespace` is set"),
        "tags": mapped(TAGS, "Tag"),
        "settings": mapped("`containerInsights` other than `disabled` → warning", "ClusterSetting"),
        "configuration": warned(
            "execute-command and managed storage settings have no Kubernetes equivalent; ignored"
        ),
        "capacityProviders": not_needed(
            "`FARGATE`/`FARGATE_SPOT` mean the Fargate node pool, any other provider the container instances"
        ),
        "defaultCapacityProviderStrategy": mapped(
            "node pool of services and tasks that give neither launch type nor strategy",
            "CapacityProviderStrategyItem",
        ),
        "serviceConnectDefaults": not_needed("Kubernetes DNS is scoped by the namespace of the EcsCluster"),
    },
    "ClusterSetting": {
        "name": mapped("only `containerInsights` exists"),
        "value": mapped("`enabled`/`enhanced` → warning (use a metrics pipeline)"),
    },
}

ROOTS = {
    "task definition": "RegisterTaskDefinitionRequest",
    "service": "CreateServiceRequest",
    "task": "RunTaskRequest",
    "cluster": "CreateClusterRequest",
}


def is_present(value: Any) -> bool:
    """Whether a member says something: False booleans and empty values are the same as absent."""
    return value is not None and value is not False and value != "" and value != [] and value != {}


def unmapped_warnings(shape: str, data: Mapping[str, Any], path: str = "") -> Iterator[TranslationWarning]:
    """A warning for every present member classified as *warned*, anywhere below `data`."""
    members = SHAPES[shape]
    for key, value in data.items():
        member = members.get(key)
        if member is None or not is_present(value):
            continue
        here = f"{path}.{key}" if path else key
        if member.handling is Handling.WARNED:
            yield TranslationWarning(here, member.note)
        elif member.shape is not None:
            if isinstance(value, Mapping):
                yield from unmapped_warnings(member.shape, value, here)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        yield from unmapped_warnings(member.shape, item, f"{here}[{index}]")


def _reachable(root: str) -> list[str]:
    order: list[str] = []
    pending = [root]
    while pending:
        shape = pending.pop(0)
        if shape in order:
            continue
        order.append(shape)
        pending.extend(m.shape for m in SHAPES[shape].values() if m.shape is not None)
    return order


def render_reference() -> str:
    """The member reference of docs/mapping.md: one table per shape, every member with its handling."""
    lines: list[str] = []
    done: set[str] = set()
    for title, root in ROOTS.items():
        lines.append(f"### {title.capitalize()} (`{root}`)")
        lines.append("")
        for shape in _reachable(root):
            if shape in done:
                continue
            done.add(shape)
            lines.append(f"#### `{shape}`")
            lines.append("")
            lines.append("| member | handling | Kubernetes |")
            lines.append("|---|---|---|")
            for name, member in SHAPES[shape].items():
                note = member.note.replace("|", "\\|")
                lines.append(f"| `{name}` | {member.handling.value} | {note} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
