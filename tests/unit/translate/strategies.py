"""Hypothesis strategies for valid ECS task definitions and services (checked by the models' validation)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
WORDS = st.from_regex(r"[a-z][a-z0-9.-]{0,12}", fullmatch=True)
ARNS = st.sampled_from(
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:api_KEY-Zz12Yy:password::",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/app/Token",
        "/plain/Parameter_Name",
    ]
)
HEALTH_COMMANDS = st.sampled_from(
    [["CMD", "true"], ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], ["NONE"], ["/bin/check"]]
)
PORTS = st.integers(min_value=1, max_value=65535)
TASK_SIZES = [(256, 512), (512, 1024), (1024, 2048), (2048, 4096), (4096, 8192)]


@st.composite
def health_checks(draw: st.DrawFn) -> dict[str, Any]:
    check: dict[str, Any] = {"command": draw(HEALTH_COMMANDS)}
    if draw(st.booleans()):
        check["interval"] = draw(st.integers(5, 300))
        check["timeout"] = draw(st.integers(2, min(60, check["interval"])))
    if draw(st.booleans()):
        check["retries"] = draw(st.integers(1, 10))
    if draw(st.booleans()):
        check["startPeriod"] = draw(st.integers(0, 300))
    return check


@st.composite
def containers(draw: st.DrawFn, name: str, network_mode: str, volumes: list[str]) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": name,
        "image": draw(st.sampled_from(["nginx:1.27", "busybox", "x/y:z"])),
    }
    definition["memory"] = draw(st.integers(64, 1024))
    optional: dict[str, st.SearchStrategy[Any]] = {
        "cpu": st.integers(0, 2048),
        "memoryReservation": st.integers(16, 64),
        "entryPoint": st.lists(WORDS, min_size=1, max_size=3),
        "command": st.lists(st.text(max_size=10), min_size=1, max_size=3),
        "environment": st.lists(
            st.fixed_dictionaries({"name": NAMES, "value": st.text(max_size=8)}), max_size=3
        ),
        "secrets": st.lists(st.fixed_dictionaries({"name": NAMES, "valueFrom": ARNS}), max_size=2),
        "healthCheck": health_checks(),
        "user": st.sampled_from(["1000", "1000:1000", "root", "nginx"]),
        "privileged": st.booleans(),
        "readonlyRootFilesystem": st.booleans(),
        "workingDirectory": st.sampled_from(["/srv", "/app"]),
        "stopTimeout": st.integers(0, 120),
        "dnsServers": st.lists(
            st.sampled_from(["10.0.0.2", "8.8.8.8", "1.1.1.1", "9.9.9.9"]), max_size=4, unique=True
        ),
        "dnsSearchDomains": st.lists(st.sampled_from(["corp.example", "svc.local"]), max_size=2, unique=True),
        "extraHosts": st.lists(
            st.fixed_dictionaries(
                {"hostname": WORDS, "ipAddress": st.sampled_from(["10.1.1.1", "10.2.2.2"])}
            ),
            max_size=2,
        ),
        "dockerLabels": st.dictionaries(WORDS, st.text(max_size=5), max_size=2),
        "ulimits": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["nofile", "nproc"]),
                    "softLimit": st.just(1024),
                    "hardLimit": st.just(4096),
                }
            ),
            max_size=1,
        ),
        "systemControls": st.lists(
            st.fixed_dictionaries(
                {
                    "namespace": st.sampled_from(
                        ["net.ipv4.tcp_keepalive_time", "kernel.shm_rmid_forced", "net.core.somaxconn"]
                    ),
                    "value": st.sampled_from(["1", "60"]),
                }
            ),
            max_size=2,
        ),
        "linuxParameters": st.fixed_dictionaries(
            {},
            optional={
                "capabilities": st.fixed_dictionaries(
                    {}, optional={"add": st.just(["SYS_PTRACE"]), "drop": st.just(["NET_RAW"])}
                ),
                "initProcessEnabled": st.booleans(),
                "sharedMemorySize": st.integers(1, 512),
                "tmpfs": st.lists(
                    st.fixed_dictionaries(
                        {"containerPath": st.sampled_from(["/tmp", "/run"]), "size": st.integers(1, 64)}
                    ),
                    max_size=1,
                ),
            },
        ),
        "resourceRequirements": st.just([{"type": "GPU", "value": "1"}]),
        "logConfiguration": st.just({"logDriver": "awslogs", "options": {"awslogs-region": "eu-west-1"}}),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            definition[key] = draw(strategy)
    if "memoryReservation" in definition:
        definition["memoryReservation"] = min(definition["memoryReservation"], definition["memory"])
    ports = draw(st.lists(PORTS, max_size=3, unique=True))
    mappings = []
    for port in ports:
        mapping: dict[str, Any] = {"containerPort": port, "protocol": draw(st.sampled_from(["tcp", "udp"]))}
        if network_mode == "bridge" and draw(st.booleans()):
            mapping["hostPort"] = draw(st.integers(0, 65535))
        if network_mode in ("host", "awsvpc") and draw(st.booleans()):
            mapping["hostPort"] = port
        if draw(st.booleans()):
            mapping["name"] = draw(NAMES)
        mappings.append(mapping)
    if mappings:
        definition["portMappings"] = mappings
    if volumes and draw(st.booleans()):
        definition["mountPoints"] = [
            {"sourceVolume": volume, "containerPath": f"/mnt/{index}", "readOnly": draw(st.booleans())}
            for index, volume in enumerate(draw(st.lists(st.sampled_from(volumes), max_size=2, unique=True)))
        ]
    return definition


VOLUMES = st.sampled_from(
    [
        {},
        {"host": {"sourcePath": "/var/data"}},
        {"dockerVolumeConfiguration": {"scope": "task", "driver": "local"}},
        {"dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True, "driver": "local"}},
        {"efsVolumeConfiguration": {"fileSystemId": "fs-1234", "rootDirectory": "/data"}},
    ]
)


@st.composite
def task_definitions(draw: st.DrawFn) -> dict[str, Any]:
    network_mode = draw(st.sampled_from(["bridge", "host", "awsvpc"]))
    volume_names = draw(
        st.lists(st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,10}", fullmatch=True), max_size=3, unique=True)
    )
    volumes = [{"name": name, **draw(VOLUMES)} for name in volume_names]
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique_by=str.lower))
    definitions = [draw(containers(name, network_mode, volume_names)) for name in names]
    definitions[0]["essential"] = True
    for definition in definitions[1:]:
        definition["essential"] = draw(st.booleans())
    for later in range(1, len(definitions)):
        if draw(st.booleans()):
            target = definitions[draw(st.integers(0, later - 1))]
            condition = draw(st.sampled_from(["START", "HEALTHY", "COMPLETE", "SUCCESS"]))
            if condition in ("COMPLETE", "SUCCESS"):
                target["essential"] = False
            if condition == "HEALTHY":
                target["healthCheck"] = {"command": ["CMD", "true"]}
            definitions[later]["dependsOn"] = [{"containerName": target["name"], "condition": condition}]
    if not any(d.get("essential") for d in definitions):
        definitions[-1]["essential"] = True
    taskdef: dict[str, Any] = {
        "family": draw(NAMES),
        "networkMode": network_mode,
        "containerDefinitions": definitions,
    }
    if draw(st.booleans()):
        cpu, memory = draw(st.sampled_from(TASK_SIZES))
        taskdef["cpu"], taskdef["memory"] = str(cpu), str(memory)
        for definition in definitions:
            definition["memory"] = min(definition["memory"], memory // len(definitions))
            definition.pop("memoryReservation", None)
            if "cpu" in definition:
                definition["cpu"] = min(definition["cpu"], cpu // len(definitions))
    if volumes:
        taskdef["volumes"] = volumes
    if draw(st.booleans()):
        taskdef["taskRoleArn"] = "arn:aws:iam::123456789012:role/task"
    if draw(st.booleans()):
        taskdef["pidMode"] = draw(st.sampled_from(["host", "task"]))
    if draw(st.booleans()):
        taskdef["runtimePlatform"] = {
            "cpuArchitecture": draw(st.sampled_from(["X86_64", "ARM64"])),
            "operatingSystemFamily": "LINUX",
        }
    if draw(st.booleans()):
        taskdef["placementConstraints"] = [
            {"type": "memberOf", "expression": "attribute:ecs.instance-type == t3.large"}
        ]
    return taskdef


@st.composite
def services(draw: st.DrawFn, taskdef: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"serviceName": draw(NAMES), "taskDefinition": taskdef["family"]}
    body["desiredCount"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        body["schedulingStrategy"] = "DAEMON"
        body.pop("desiredCount")
    maximum = draw(st.integers(100, 200))
    minimum = draw(st.integers(0, 100))
    if draw(st.booleans()):
        body["deploymentConfiguration"] = {"maximumPercent": maximum, "minimumHealthyPercent": minimum}
    ports = [
        (d["name"], m["containerPort"])
        for d in taskdef["containerDefinitions"]
        for m in d.get("portMappings", [])
        if m.get("protocol", "tcp") == "tcp"
    ]
    if ports and draw(st.booleans()):
        name, port = draw(st.sampled_from(ports))
        body["loadBalancers"] = [
            {"containerName": name, "containerPort": port, "targetGroupArn": "arn:aws:elasticloadbalancing:x"}
        ]
    if ports and draw(st.booleans()):
        name, port = draw(st.sampled_from(ports))
        body["serviceRegistries"] = [
            {"registryArn": "arn:aws:servicediscovery:x", "containerName": name, "containerPort": port}
        ]
    if draw(st.booleans()):
        body["placementConstraints"] = [{"type": "distinctInstance"}]
    if draw(st.booleans()):
        body["placementStrategy"] = [
            {
                "type": "spread",
                "field": draw(st.sampled_from(["instanceId", "attribute:ecs.availability-zone"])),
            }
        ]
    if draw(st.booleans()):
        body["healthCheckGracePeriodSeconds"] = draw(st.integers(0, 600))
    return body
