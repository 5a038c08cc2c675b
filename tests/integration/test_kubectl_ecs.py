"""`kubectl ecs`, the kubectl plugin on the operations layer, with the user's own kubeconfig: the `aws ecs`
verbs and flags, the AWS CLI waiter rules, and the same JSON `aws ecs` prints for the same state."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.account import account_namespace
from ecs_operator.subprocesses import kubectl_binary

from tests.integration.api_helpers import Aws
from tests.integration.operator_helpers import API, Families

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
PLUGIN = Path(sys.executable).with_name("kubectl-ecs")


class KubectlEcs:
    def __init__(self, kubeconfig: str, cluster: str, env: dict[str, str] | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.cluster = cluster
        self.env = {**os.environ, **(env or {})}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(PLUGIN), "--kubeconfig", self.kubeconfig, "--cluster", self.cluster, *args]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.env, check=False, timeout=600
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl ecs {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run("--output", "json", *args).stdout)


def container(name: str = "app", memory: int = 64) -> dict[str, Any]:
    return {"name": name, "image": "nginx:1.27", "essential": True, "memory": memory}


def test_kubectl_ecs_drives_the_same_resources(
    kubeconfig: str, kubectl: Kubectl, aws: Aws, api_cluster_name: str, tmp_path: Path, family: Families
) -> None:
    cluster = api_cluster_name
    kweb = family("kweb")
    applied = {"apiVersion": API, "kind": "EcsCluster", "metadata": {"name": cluster}, "spec": {}}
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(applied))
    ecs = KubectlEcs(kubeconfig, cluster)
    (tmp_path / "web.json").write_text(json.dumps({"family": kweb, "containerDefinitions": [container()]}))
    registered = ecs.json("register-task-definition", "--cli-input-json", f"file://{tmp_path / 'web.json'}")
    assert registered["taskDefinition"]["taskDefinitionArn"].endswith(f"task-definition/{kweb}:1")
    ecs.run("create-service", "--service-name", "kweb", "--task-definition", kweb, "--desired-count", "2")
    ecs.run("wait", "services-stable", "--services", "kweb", "--delay", "1")

    # The same state, the same JSON as `aws ecs` prints.
    mine = ecs.json("describe-services", "--services", "kweb")
    theirs = aws("describe-services", "--cluster", cluster, "--services", "kweb")
    assert mine == theirs
    table = ecs.run("describe-services", "--services", "kweb").stdout.splitlines()
    assert table[0].split()[:5] == ["SERVICE", "STATUS", "DESIRED", "RUNNING", "PENDING"]
    assert table[1].split()[:4] == ["kweb", "ACTIVE", "2", "2"]
    assert (
        yaml.safe_load(ecs.run("--output", "yaml", "describe-services", "--services", "kweb").stdout) == mine
    )

    ecs.run("update-service", "--service", "kweb", "--desired-count", "3")
    ecs.run("wait", "services-stable", "--services", "kweb", "--delay", "1")
    assert len(ecs.json("list-tasks", "--service-name", "kweb")["taskArns"]) == 3
    instances = ecs.json("list-container-instances")["containerInstanceArns"]
    assert len(instances) == 1

    run = ecs.json("run-task", "--task-definition", f"{kweb}:1", "--count", "1", "--started-by", "kubectl")
    task = run["tasks"][0]["taskArn"]
    ecs.run("wait", "tasks-running", "--tasks", task, "--delay", "1")
    described = ecs.json("describe-tasks", "--tasks", task)["tasks"][0]
    assert (described["lastStatus"], described["startedBy"]) == ("RUNNING", "kubectl")

    # logs and execute-command hand over to kubectl on the task's Pod.
    fake = tmp_path / "kubectl"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    handed = KubectlEcs(kubeconfig, cluster, {"KUBECTL": str(fake)})
    pod = json.loads(
        kubectl("get", "pods", "-n", cluster, "-l", "ecs.operator.dev/task", "-o", "json").stdout
    )
    pod_name = pod["items"][0]["metadata"]["name"]
    logs = handed.run("logs", "--task", task, "--container", "app").stdout.split()
    assert logs == [f"--kubeconfig={kubeconfig}", "logs", "-n", cluster, pod_name, "-c", "app"]
    command = handed.run(
        "execute-command", "--task", task, "--command", "ls -l /", "--interactive"
    ).stdout.split()
    assert command[1:] == ["exec", "-it", "-n", cluster, pod_name, "--", "ls", "-l", "/"]

    ecs.run("stop-task", "--task", task, "--reason", "from kubectl")
    ecs.run("wait", "tasks-stopped", "--tasks", task, "--delay", "1")
    stopped = ecs.json("describe-tasks", "--tasks", task)["tasks"][0]
    assert (stopped["stopCode"], stopped["stoppedReason"]) == ("UserInitiated", "from kubectl")

    ecs.json("deregister-task-definition", "--task-definition", f"{kweb}:1")
    listed = ecs.json("list-task-definitions", "--family-prefix", kweb, "--status", "INACTIVE")
    assert listed["taskDefinitionArns"] and listed["taskDefinitionArns"][0].endswith(f"{kweb}:1")

    failed = ecs.run("describe-task-definition", "--task-definition", "nothing:9", check=False)
    assert failed.returncode == 254
    assert failed.stderr.strip() == (
        "An error occurred (ClientException) when calling the DescribeTaskDefinition operation: "
        "Unable to describe task definition."
    )


def test_kubectl_finds_the_plugin(kubeconfig: str, ecs_crds: Any) -> None:
    env = {**os.environ, "PATH": f"{PLUGIN.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [kubectl_binary(), "ecs", "--kubeconfig", kubeconfig, "list-clusters"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] in ("CLUSTER", "No resources found.")


def test_kubectl_ecs_acts_with_the_users_own_rights(
    kubeconfig: str,
    kubectl: Kubectl,
    api_cluster_name: str,
    ecs_operator: Any,
    tmp_path: Path,
    family: Families,
) -> None:
    from tests.integration.rbac import token_kubeconfig  # a plugin module, loaded by now

    cluster = api_cluster_name
    seen = family("seen")
    applied = {"apiVersion": API, "kind": "EcsCluster", "metadata": {"name": cluster}, "spec": {}}
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(applied))
    admin = KubectlEcs(kubeconfig, cluster)
    (tmp_path / "td.json").write_text(json.dumps({"family": seen, "containerDefinitions": [container()]}))
    admin.run("register-task-definition", "--cli-input-json", f"file://{tmp_path / 'td.json'}")
    admin.run("create-service", "--service-name", "seen", "--task-definition", seen, "--desired-count", "0")
    kubectl("create", "serviceaccount", "viewer", "-n", cluster)
    kubectl(
        "create",
        "rolebinding",
        "viewer",
        "--clusterrole=ecs-operator:view",
        f"--serviceaccount={cluster}:viewer",
        "-n",
        cluster,
    )
    # Task definitions belong to the account: kubectl ecs reads them (EcsTaskDefinitions, and the revision
    # records in the account namespace) with the user's own rights, which ecs-operator:account-view grants
    # (its ClusterRole and its Role in the account namespace; manifests/api/user-roles.yaml).
    account_binding = f"viewer-{cluster}"
    subject = f"--serviceaccount={cluster}:viewer"
    kubectl(
        "create", "clusterrolebinding", account_binding, "--clusterrole=ecs-operator:account-view", subject
    )
    kubectl(
        "create", "rolebinding", account_binding, "--role=ecs-operator:account-view", subject,
        "-n", account_namespace(),
    )  # fmt: skip
    token = kubectl("create", "token", "viewer", "-n", cluster).stdout.strip()
    viewer = KubectlEcs(str(token_kubeconfig(kubeconfig, token, tmp_path / "viewer")), cluster)

    try:
        assert viewer.json("describe-services", "--services", "seen")["services"][0]["serviceName"] == "seen"
        refused = viewer.run("update-service", "--service", "seen", "--desired-count", "2", check=False)
        assert refused.returncode == 254 and "(AccessDeniedException)" in refused.stderr
        assert 'cannot patch resource "ecsservices"' in refused.stderr
        refused = viewer.run("list-clusters", check=False)
        assert refused.returncode == 254 and "(AccessDeniedException)" in refused.stderr
    finally:
        kubectl("delete", "rolebinding", account_binding, "-n", account_namespace(), check=False)
        kubectl("delete", "clusterrolebinding", account_binding, check=False)
