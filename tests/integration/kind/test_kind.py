"""kind, for real: the cluster of kind-config.yaml made by `make kind-up kind-load kind-deploy` (conftest),
the samples in real containers, the ECS API and console from the host, a rollout, a circuit breaker rollback,
the deletion of the ECS cluster draining its services, and `make kind-down` leaving nothing behind.

The tests run in this order and build on each other (one cluster per session, as a user has one).
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from ecs_operator import labels, subprocesses
from ecs_operator.localcluster import kind

from tests.integration.kind.conftest import CLUSTER, REPO_ROOT, make
from tests.integration.operator_helpers import Cluster, service
from tests.integration.realnode.workloads import describe, http_server, shell, task_definition
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.kind]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
DEMO = "demo"
TESTER = "kind-tester"  # a ServiceAccount the API key and the console sign-in act as
HTTP_PORT = 8080


def samples() -> Path:
    """On podman (no registry here) the samples with the images built here, loaded by `make kind-load`."""
    return REPO_ROOT / "manifests" / ("kind/samples" if kind.provider().name == "podman" else "samples")


@pytest.fixture(scope="module")
def demo(kubectl: Kubectl) -> Cluster:
    return Cluster(kubectl, DEMO)


def get_json(kubectl: Kubectl, *args: str) -> dict[str, Any]:
    return dict(json.loads(kubectl("get", *args, "-o", "json").stdout))


def condition(obj: dict[str, Any], kind_: str) -> str:
    found = [c["status"] for c in obj.get("status", {}).get("conditions") or () if c["type"] == kind_]
    return found[0] if found else "Unknown"


def test_the_three_nodes_are_ready_with_kind_configs_labels_and_taints(kubectl: Kubectl) -> None:
    config = yaml.safe_load((REPO_ROOT / "kind-config.yaml").read_text())
    nodes = {n["metadata"]["name"]: n for n in get_json(kubectl, "nodes")["items"]}
    names = [f"{CLUSTER}-control-plane", f"{CLUSTER}-worker", f"{CLUSTER}-worker2"]
    assert sorted(nodes) == names
    for name, wanted in zip(names, config["nodes"], strict=True):
        node = nodes[name]
        assert condition(node, "Ready") == "True", name
        assert wanted.get("labels", {}).items() <= node["metadata"]["labels"].items(), name
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    taints = {
        name: [(t["key"], t.get("value"), t["effect"]) for t in n["spec"].get("taints") or ()]
        for name, n in nodes.items()
    }
    assert taints[names[0]] == [("node-role.kubernetes.io/control-plane", None, "NoSchedule")]
    assert taints[names[1]] == []
    assert taints[names[2]] == [
        (labels.FARGATE_TAINT_KEY, labels.FARGATE_TAINT_VALUE, labels.FARGATE_TAINT_EFFECT)
    ]
    if kind.provider().name == "podman":
        # The node image built here, whose Kubernetes is the project's pinned one.
        assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes.values()} == {"v1.36.3"}


def test_the_samples_become_ready_in_real_containers(kubectl: Kubectl, demo: Cluster) -> None:
    # The EcsCluster makes namespace "demo"; what goes in it applies once it exists, as for any user.
    wait_for(
        lambda: kubectl("apply", "--server-side", "-k", str(samples()), check=False).returncode == 0,
        timeout=120,
        interval=2,
        message="the samples applied once namespace demo exists",
    )
    for kind_, name in (("ecsservice", "web"), ("ecsservice", "web-fargate"), ("ecstask", "db-migrate")):
        demo.wait_condition(kind_, name, "Ready", timeout=300)
    pods = demo.items("pods")
    running = {
        pod["metadata"]["name"]: pod
        for pod in pods
        if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
    }
    web = [p for p in running.values() if p["metadata"]["labels"].get(labels.SERVICE) == "web"]
    fargate = [p for p in running.values() if p["metadata"]["labels"].get(labels.SERVICE) == "web-fargate"]
    assert len(web) == 3 and len(fargate) == 2
    assert {p["spec"]["nodeName"] for p in web} == {f"{CLUSTER}-worker"}
    assert {p["spec"]["nodeName"] for p in fargate} == {f"{CLUSTER}-worker2"}
    for pod in web + fargate:
        for status in pod["status"]["containerStatuses"]:
            assert status["ready"] and status["containerID"].startswith("containerd://"), status
    # nginx really answers, from inside its task.
    answer = kubectl(
        "exec",
        "-n",
        DEMO,
        web[0]["metadata"]["name"],
        "-c",
        "nginx",
        "--",
        "curl",
        "-fsS",
        "http://127.0.0.1/",
    )
    assert "nginx" in answer.stdout
    migrate = demo.status("ecstask", "db-migrate")["tasks"][0]
    assert migrate["lastStatus"] == "STOPPED"
    assert [c.get("exitCode") for c in migrate["containers"]] == [0]


@contextmanager
def port_forward(kubeconfig: str, target: str, port: int) -> Iterator[int]:
    """`kubectl port-forward -n ecs-operator-system TARGET :PORT`, as the docs say; yields the local port."""
    process = subprocess.Popen(
        [
            subprocesses.kubectl_binary(),
            f"--kubeconfig={kubeconfig}",
            "-n",
            "ecs-operator-system",
            "port-forward",
            target,
            f":{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, f"port-forward said {line!r}: {process.stderr.read() if process.poll() else ''}"
        yield int(match.group(1))
    finally:
        process.terminate()
        process.communicate(timeout=30)  # reaps it and closes its pipes


@pytest.fixture(scope="module")
def tester(kubectl: Kubectl) -> str:
    """A ServiceAccount bound to the ECS API's and the console's read-only roles."""
    kubectl("create", "serviceaccount", TESTER, "-n", "default")
    subject = f"--serviceaccount=default:{TESTER}"
    kubectl("create", "clusterrolebinding", f"{TESTER}-api", "--clusterrole=ecs-operator:view", subject)
    kubectl(
        "create",
        "clusterrolebinding",
        f"{TESTER}-console",
        "--clusterrole=ecs-operator:console-view",
        subject,
    )
    return f"system:serviceaccount:default:{TESTER}"


def test_the_ecs_api_answers_from_the_host_through_port_forward(kubeconfig: str, tester: str) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "ecs_operator.cli", "api", "create-key", f"--kubeconfig={kubeconfig}",
         "--name", TESTER, "--user", tester],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    keys = dict(line.split("=", 1) for line in created.stdout.split())
    with port_forward(kubeconfig, "svc/ecs-api", 8000) as port:
        ecs = boto3.client(
            "ecs",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        )
        try:
            answer = wait_for(
                lambda: ecs.describe_services(cluster=DEMO, services=["web"])["services"],
                timeout=60,
                message="DescribeServices through the port-forward (the key is read within 5 s)",
            )
        finally:
            ecs.close()
    assert answer[0]["status"] == "ACTIVE" and answer[0]["runningCount"] == 3


def test_the_console_answers_from_the_host_through_port_forward(
    kubectl: Kubectl, kubeconfig: str, tester: str
) -> None:
    token = kubectl("create", "token", TESTER, "-n", "default").stdout.strip()
    with port_forward(kubeconfig, "svc/ecs-console", 8080) as port:
        base = f"http://127.0.0.1:{port}"
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(f"{base}/signin", timeout=30) as answer:
            form = answer.read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf, form[:2000]
        posted = urllib.parse.urlencode({"token": token, "csrf": csrf.group(1), "next": "/clusters"})
        request = urllib.request.Request(f"{base}/signin", data=posted.encode(), headers={"Origin": base})
        with browser.open(request, timeout=30) as answer:
            page = answer.read().decode()
    assert DEMO in page and "Sign in" not in page.split("<title>")[1].split("</title>")[0]


def replace_task_definition(kubectl: Kubectl, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    current = get_json(kubectl, "ecstaskdefinition", name)  # cluster-scoped: task definitions are regional
    change(current["spec"])
    kubectl("replace", "-f", "-", input=json.dumps(current))


def test_a_rollout_to_a_new_revision(kubectl: Kubectl, demo: Cluster) -> None:
    def add_environment(spec: dict[str, Any]) -> None:
        spec["containerDefinitions"][0]["environment"] = [{"name": "ROLLED_OUT", "value": "yes"}]

    replace_task_definition(kubectl, "web-fargate", add_environment)
    wait_for(
        lambda: (
            demo.status("ecsservice", "web-fargate").get("taskDefinition") == "web-fargate:2"
            and demo.is_true("ecsservice", "web-fargate", "Ready")
        ),
        timeout=300,
        interval=1,
        message=f"web-fargate rolled to web-fargate:2; {describe(demo, 'ecsservice', 'web-fargate')}",
    )
    deployments = demo.status("ecsservice", "web-fargate")["deployments"]
    assert [(d["status"], d["taskDefinition"], d["rolloutState"]) for d in deployments] == [
        ("PRIMARY", "web-fargate:2", "COMPLETED")
    ]
    pods = [
        p
        for p in demo.items("pods", f"{labels.SERVICE}=web-fargate")
        if not p["metadata"].get("deletionTimestamp")
    ]
    assert {p["metadata"]["labels"][labels.REVISION] for p in pods} == {"2"} and len(pods) == 2
    # The new revision runs in the containers: its environment is there.
    printed = kubectl("exec", "-n", DEMO, pods[0]["metadata"]["name"], "--", "printenv", "ROLLED_OUT")
    assert printed.stdout.strip() == "yes"


def breaker_web(health_command: str) -> dict[str, Any]:
    check = {"command": ["CMD-SHELL", health_command], "interval": 5, "timeout": 2, "retries": 1}
    return task_definition("breaker", http_server("web", HTTP_PORT, essential=True, healthCheck=check))


def test_a_failing_health_check_is_rolled_back_by_the_circuit_breaker(demo: Cluster) -> None:
    passes = f"wget -q -O /dev/null http://127.0.0.1:{HTTP_PORT}/"
    fails = f"wget -q -O /dev/null http://127.0.0.1:{HTTP_PORT}/missing-page"
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    demo.apply(breaker_web(passes), service("breaker", "breaker", desired=2, deploymentConfiguration=breaker))
    demo.wait_condition("ecsservice", "breaker", "Ready", timeout=180)

    demo.apply(breaker_web(fails))

    def deployment(task_def: str) -> dict[str, Any]:
        entries = demo.status("ecsservice", "breaker").get("deployments") or ()
        return next((dict(e) for e in entries if e.get("taskDefinition") == task_def), {})

    wait_for(
        lambda: deployment("breaker:2").get("rolloutState") == "FAILED",
        timeout=300,
        interval=1,
        message=f"the rollout of breaker:2 FAILED; {describe(demo, 'ecsservice', 'breaker')}",
    )
    assert "circuit breaker" in deployment("breaker:2")["rolloutStateReason"]
    wait_for(
        lambda: (
            demo.status("ecsservice", "breaker").get("taskDefinition") == "breaker:1"
            and demo.is_true("ecsservice", "breaker", "Ready")
        ),
        timeout=240,
        interval=1,
        message=f"rolled back to breaker:1; {describe(demo, 'ecsservice', 'breaker')}",
    )
    messages = [e["message"] for e in demo.status("ecsservice", "breaker")["events"]]
    assert any("rolling back to taskDefinition breaker:1" in m for m in messages), messages


def test_deleting_the_ecs_cluster_drains_its_services_first(kubectl: Kubectl, demo: Cluster) -> None:
    # A task that takes its stopTimeout to stop (its shell ignores TERM), so the draining can be seen.
    slow = task_definition("slow-stop", shell("app", "while true; do sleep 1; done", term="", stopTimeout=10))
    demo.apply(slow, service("slow-stop", "slow-stop", desired=1))
    demo.wait_condition("ecsservice", "slow-stop", "Ready", timeout=180)

    kubectl("delete", "ecscluster", DEMO, "--wait=false")
    wait_for(
        lambda: (
            demo.status("ecscluster", DEMO).get("status") == "DEPROVISIONING"
            if demo.get("ecscluster", DEMO, namespaced=False)
            else False
        ),
        timeout=60,
        message="the ECS cluster's deletion waits for its services",
    )
    assert "services are active" in json.dumps(demo.get("ecscluster", DEMO, namespaced=False))

    kubectl("delete", "ecsservices,ecstasks", "--all", "-n", DEMO, "--wait=false")
    wait_for(
        lambda: demo.status("ecsservice", "slow-stop").get("status") == "DRAINING",
        timeout=60,
        interval=0.5,
        message="service slow-stop DRAINING while its task stops",
    )
    wait_for(
        lambda: (
            kubectl("get", "namespace", DEMO, "--ignore-not-found").stdout.strip() == ""
            and demo.get("ecscluster", DEMO, namespaced=False) is None
        ),
        timeout=300,
        interval=1,
        message="the ECS cluster and its namespace gone once its services drained",
    )
    left = [
        p["metadata"]["name"]
        for p in get_json(kubectl, "pods", "-A")["items"]
        if p["metadata"].get("labels", {}).get(labels.CLUSTER) == DEMO
    ]
    assert left == []


def test_kind_down_leaves_no_container_network_or_volume(kubeconfig: str) -> None:
    make("kind-down", kubeconfig=Path(kubeconfig))
    where = kind.provider()
    engine = where.engine

    def listed(*args: str) -> list[str]:
        return subprocess.run(
            [engine, *args], capture_output=True, text=True, check=True, env=where.env
        ).stdout.split()

    selector = f"label={kind.CLUSTER_LABEL}={CLUSTER}"
    assert listed("ps", "-a", "--filter", selector, "--format", "{{.Names}}") == []
    assert listed("volume", "ls", "--filter", selector, "--format", "{{.Name}}") == []
    others = listed("ps", "-a", "--filter", f"label={kind.CLUSTER_LABEL}", "--format", "{{.Names}}")
    if not others:
        assert kind.NETWORK not in listed("network", "ls", "--format", "{{.Name}}")
    assert f"kind-{CLUSTER}" not in Path(kubeconfig).read_text()
