"""One rule per test: how an ECS container definition becomes a Kubernetes container."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.translate.helpers import container, first_container, paths, pod_spec, taskdef, template


def test_entry_point_is_command_and_command_is_args() -> None:
    got = first_container(taskdef(container(entryPoint=["/bin/app"], command=["--port", "80"])))
    assert got["command"] == ["/bin/app"]
    assert got["args"] == ["--port", "80"]


def test_command_alone_keeps_the_image_entrypoint() -> None:
    got = first_container(taskdef(container(command=["serve"])))
    assert "command" not in got
    assert got["args"] == ["serve"]


def test_valid_container_names_are_kept_and_invalid_ones_sanitized_with_a_warning() -> None:
    td = taskdef(container("web-1"), container("Side_Car"))
    spec = pod_spec(td)
    assert [c["name"] for c in spec["containers"]] == ["web-1", "side-car"]
    assert paths(template(td)) == ["containerDefinitions[1].name"]


@pytest.mark.parametrize(
    ("fields", "resources"),
    [
        ({"cpu": 256}, {"requests": {"cpu": "250m"}}),
        ({"cpu": 1024}, {"requests": {"cpu": "1000m"}}),
        ({"cpu": 10}, {"requests": {"cpu": "9m"}}),  # 9.77m, rounded down
        ({"memory": 512}, {"limits": {"memory": "512Mi"}}),
        ({"memoryReservation": 128}, {"requests": {"memory": "128Mi"}}),
        (
            {"cpu": 512, "memory": 1024, "memoryReservation": 256},
            {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "1024Mi"}},
        ),
        ({"resourceRequirements": [{"type": "GPU", "value": "2"}]}, {"limits": {"nvidia.com/gpu": "2"}}),
    ],
)
def test_container_resources(fields: dict[str, Any], resources: dict[str, Any]) -> None:
    definition = {"name": "app", "image": "x", **fields}
    assert first_container(taskdef(definition)).get("resources") == resources


def test_cpu_is_never_a_limit_like_ecs_cpu_shares() -> None:
    got = first_container(taskdef(container(cpu=2048)))
    assert "cpu" not in got["resources"].get("limits", {})


def test_task_size_becomes_pod_level_resources() -> None:
    spec = pod_spec(taskdef(container(), cpu="1024", memory="2048"))
    assert spec["resources"] == {
        "requests": {"cpu": "1000m", "memory": "2048Mi"},
        "limits": {"cpu": "1000m", "memory": "2048Mi"},
    }


def test_inference_accelerator_requirement_is_warned() -> None:
    td = taskdef(container(resourceRequirements=[{"type": "InferenceAccelerator", "value": "dev1"}]))
    assert paths(template(td)) == ["containerDefinitions[0].resourceRequirements[0]"]


@pytest.mark.parametrize(
    ("network_mode", "mapping", "port"),
    [
        ("awsvpc", {"containerPort": 80}, {"name": "tcp-80", "containerPort": 80, "protocol": "TCP"}),
        (
            "awsvpc",
            {"containerPort": 80, "hostPort": 80, "name": "http"},
            {"name": "http", "containerPort": 80, "protocol": "TCP"},
        ),
        (
            "bridge",
            {"containerPort": 80, "hostPort": 8080},
            {"name": "tcp-80", "containerPort": 80, "protocol": "TCP", "hostPort": 8080},
        ),
        (
            "bridge",
            {"containerPort": 80, "hostPort": 0},
            {"name": "tcp-80", "containerPort": 80, "protocol": "TCP"},
        ),
        ("bridge", {"containerPort": 80}, {"name": "tcp-80", "containerPort": 80, "protocol": "TCP"}),
        (
            "host",
            {"containerPort": 9100},
            {"name": "tcp-9100", "containerPort": 9100, "protocol": "TCP", "hostPort": 9100},
        ),
        (
            "awsvpc",
            {"containerPort": 53, "protocol": "udp", "name": "DNS_udp"},
            {"name": "dns-udp", "containerPort": 53, "protocol": "UDP"},
        ),
    ],
)
def test_port_mappings(network_mode: str, mapping: dict[str, Any], port: dict[str, Any]) -> None:
    got = first_container(taskdef(container(portMappings=[mapping]), networkMode=network_mode))
    assert got["ports"] == [port]


def test_host_network_mode_sets_host_network() -> None:
    spec = pod_spec(taskdef(container(), networkMode="host"))
    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"


def test_fargate_defaults_to_awsvpc_so_host_ports_are_dropped() -> None:
    td = taskdef(
        container(portMappings=[{"containerPort": 80, "hostPort": 80}]), requiresCompatibilities=["FARGATE"]
    )
    assert "hostPort" not in first_container(td)["ports"][0]


def test_port_range_is_warned() -> None:
    td = taskdef(container(portMappings=[{"containerPortRange": "8000-8010"}]))
    assert paths(template(td)) == ["containerDefinitions[0].portMappings[0].containerPortRange"]


def test_environment_and_secrets() -> None:
    td = taskdef(
        container(
            environment=[{"name": "MODE", "value": "prod"}],
            secrets=[
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf:password::",
                },
                {"name": "API_KEY", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:api_key-Zz12Yy"},
                {"name": "TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/app/prod/token"},
                {"name": "PLAIN", "valueFrom": "plain-param"},
            ],
        )
    )
    assert first_container(td)["env"] == [
        {"name": "MODE", "value": "prod"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "prod-db", "key": "password"}}},
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "api-key", "key": "value"}}},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "app-prod-token", "key": "value"}}},
        {"name": "PLAIN", "valueFrom": {"secretKeyRef": {"name": "plain-param", "key": "value"}}},
    ]
    assert template(td).warnings == []


def test_secret_values_are_never_inlined_and_pinned_versions_are_warned() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf:password:AWSPREVIOUS:"
    td = taskdef(container(secrets=[{"name": "P", "valueFrom": arn}]))
    assert paths(template(td)) == ["containerDefinitions[0].secrets[0].valueFrom"]
    assert "value" not in first_container(td)["env"][0]


def test_environment_files_become_config_map_refs() -> None:
    files = [{"value": "arn:aws:s3:::my-bucket/config/prod.env", "type": "s3"}]
    got = first_container(taskdef(container(environmentFiles=files)))
    assert got["envFrom"] == [{"configMapRef": {"name": "config-prod"}}]


def test_repository_credentials_become_image_pull_secrets() -> None:
    credentials = {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:1:secret:registry/creds-AbCdEf"}
    spec = pod_spec(taskdef(container(repositoryCredentials=credentials)))
    assert spec["imagePullSecrets"] == [{"name": "registry-creds"}]


@pytest.mark.parametrize(
    ("user", "context"),
    [
        ("1000", {"runAsUser": 1000}),
        ("1000:2000", {"runAsUser": 1000, "runAsGroup": 2000}),
        ("root", {"runAsUser": 0}),
    ],
)
def test_user(user: str, context: dict[str, int]) -> None:
    assert first_container(taskdef(container(user=user)))["securityContext"] == context


def test_user_names_are_warned() -> None:
    td = taskdef(container(user="nginx"))
    assert "securityContext" not in first_container(td)
    assert paths(template(td)) == ["containerDefinitions[0].user"]


def test_security_settings() -> None:
    td = taskdef(
        container(
            privileged=True,
            readonlyRootFilesystem=True,
            workingDirectory="/srv",
            linuxParameters={"capabilities": {"add": ["SYS_PTRACE"], "drop": ["CAP_NET_RAW"]}},
        )
    )
    got = first_container(td)
    assert got["workingDir"] == "/srv"
    assert got["securityContext"] == {
        "privileged": True,
        "readOnlyRootFilesystem": True,
        "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]},
    }


def test_shared_memory_and_tmpfs_become_memory_backed_empty_dirs() -> None:
    linux = {"sharedMemorySize": 256, "tmpfs": [{"containerPath": "/run", "size": 64}]}
    spec = pod_spec(taskdef(container(linuxParameters=linux)))
    assert spec["volumes"] == [
        {"name": "app-shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
        {"name": "app-tmpfs-0", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "app-shm", "mountPath": "/dev/shm"},
        {"name": "app-tmpfs-0", "mountPath": "/run"},
    ]


def test_init_process_shares_the_process_namespace() -> None:
    spec = pod_spec(taskdef(container(linuxParameters={"initProcessEnabled": True})))
    assert spec["shareProcessNamespace"] is True


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("ulimits", [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}]),
        ("linuxParameters", {"devices": [{"hostPath": "/dev/fuse"}]}),
        ("dockerSecurityOptions", ["no-new-privileges"]),
        ("startTimeout", 120),
        ("disableNetworking", True),
        ("credentialSpecs", ["credentialspec:file://gmsa.json"]),
    ],
)
def test_members_without_equivalent_are_warned(member: str, value: Any) -> None:
    td = taskdef(container(**{member: value}))
    assert len(template(td).warnings) == 1
    assert template(td).warnings[0].path.startswith(f"containerDefinitions[0].{member}")


@pytest.mark.parametrize(
    ("timeouts", "grace"),
    [((10, 90, None), 90), ((5, None), 30), ((120,), 120), ((None,), None)],
)
def test_stop_timeout_maximum_is_the_grace_period(
    timeouts: tuple[int | None, ...], grace: int | None
) -> None:
    definitions = [
        container(f"c{i}", **({"stopTimeout": timeout} if timeout is not None else {}))
        for i, timeout in enumerate(timeouts)
    ]
    assert pod_spec(taskdef(*definitions)).get("terminationGracePeriodSeconds") == grace


def test_dns_hosts_links_and_hostname() -> None:
    td = taskdef(
        container(
            "app",
            dnsServers=["10.0.0.2"],
            dnsSearchDomains=["corp.example"],
            extraHosts=[{"hostname": "db.local", "ipAddress": "10.1.1.1"}],
            links=["cache:redis"],
            hostname="app-host",
        ),
        container("cache"),
        networkMode="bridge",
    )
    spec = pod_spec(td)
    assert spec["dnsPolicy"] == "None"
    assert spec["dnsConfig"] == {"nameservers": ["10.0.0.2"], "searches": ["corp.example"]}
    assert spec["hostAliases"] == [
        {"ip": "10.1.1.1", "hostnames": ["db.local"]},
        {"ip": "127.0.0.1", "hostnames": ["redis"]},
    ]
    assert spec["hostname"] == "app-host"


def test_safe_sysctls_are_set_and_others_warned() -> None:
    controls = [
        {"namespace": "net.ipv4.tcp_keepalive_time", "value": "60"},
        {"namespace": "net.core.somaxconn", "value": "1024"},
    ]
    td = taskdef(container(systemControls=controls))
    assert pod_spec(td)["securityContext"] == {
        "sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}]
    }
    assert paths(template(td)) == ["containerDefinitions[0].systemControls[1]"]


def test_docker_labels_and_log_configuration_are_kept_as_annotations() -> None:
    log = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}}
    td = taskdef(container(dockerLabels={"com.example.team": "web"}, logConfiguration=log))
    annotations = template(td).objects[-1]["template"]["metadata"]["annotations"]
    assert annotations == {
        "ecs.operator.dev/docker-labels": '{"app":{"com.example.team":"web"}}',
        "ecs.operator.dev/log-configuration": (
            '{"app":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/web"}}}'
        ),
    }
    assert paths(template(td)) == ["containerDefinitions[0].logConfiguration"]


def test_task_role_becomes_a_service_account_with_irsa() -> None:
    td = taskdef(container(), taskRoleArn="arn:aws:iam::123456789012:role/web-task")
    account, pod_template = template(td).objects
    assert account["kind"] == "ServiceAccount"
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/web-task"
    }
    assert pod_template["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"pidMode": "host"}, {"hostPID": True}),
        ({"pidMode": "task"}, {"shareProcessNamespace": True}),
        ({"ipcMode": "host"}, {"hostIPC": True}),
    ],
)
def test_pid_and_ipc_modes(task: dict[str, Any], expected: dict[str, Any]) -> None:
    spec = pod_spec(taskdef(container(), **task))
    assert {k: spec[k] for k in expected} == expected


def test_network_mode_none_is_warned() -> None:
    assert paths(template(taskdef(container(), networkMode="none"))) == ["networkMode"]


def test_host_aliases_are_lowercase_dns_names() -> None:
    td = taskdef(
        container(
            extraHosts=[
                {"hostname": "DB.Local.", "ipAddress": "10.0.0.1"},
                {"hostname": "_", "ipAddress": "10.0.0.2"},
            ]
        )
    )
    assert pod_spec(td)["hostAliases"] == [{"ip": "10.0.0.1", "hostnames": ["db.local"]}]
    assert paths(template(td)) == [
        "containerDefinitions[0].extraHosts[0].hostname",
        "containerDefinitions[0].extraHosts[1].hostname",
    ]


def test_two_containers_on_one_port_are_warned() -> None:
    td = taskdef(
        container("a", portMappings=[{"containerPort": 80, "hostPort": 8080}]),
        container("b", portMappings=[{"containerPort": 80, "hostPort": 8081}]),
        networkMode="bridge",
    )
    assert paths(template(td)) == ["containerDefinitions[1].portMappings"]


def test_kubernetes_container_names_match_the_pod() -> None:
    from ecs_operator.translate import kubernetes_container_names

    definitions = [container("web"), container("Web"), container("side_car")]
    names = kubernetes_container_names(definitions)
    assert names == {"web": "web", "Web": "web-2", "side_car": "side-car"}
    assert [c["name"] for c in pod_spec(taskdef(*definitions))["containers"]] == list(names.values())


def test_without_pod_level_resources_task_memory_is_split_over_containers() -> None:
    td = taskdef(
        {"name": "a", "image": "x"}, {"name": "b", "image": "x"}, container("c", memory=1024), memory="3072"
    )
    spec = pod_spec(td, pod_level_resources=False)
    assert "resources" not in spec
    assert [c["resources"]["limits"]["memory"] for c in spec["containers"]] == ["1024Mi", "1024Mi", "1024Mi"]


def test_warnings_come_in_path_order() -> None:
    definitions = [
        container(f"c{i}", ulimits=[{"name": "nofile", "softLimit": 1, "hardLimit": 1}]) for i in range(11)
    ]
    td = taskdef(*definitions, proxyConfiguration={"containerName": "c0"})
    assert paths(template(td)) == [f"containerDefinitions[{i}].ulimits" for i in range(11)] + [
        "proxyConfiguration"
    ]


def test_container_cpu_requests_never_add_up_to_more_than_the_task_request() -> None:
    from ecs_operator.translate import translate_task_definition

    containers = [{"name": f"c{i}", "image": "busybox", "cpu": 64, "memory": 64} for i in range(4)]
    template = translate_task_definition(
        {"family": "f", "cpu": "256", "memory": "512", "containerDefinitions": containers},
        revision=1,
        cluster="c",
        namespace="n",
    ).objects[-1]["template"]["spec"]
    millicores = [int(c["resources"]["requests"]["cpu"].removesuffix("m")) for c in template["containers"]]
    assert sum(millicores) <= int(template["resources"]["requests"]["cpu"].removesuffix("m")) == 250
