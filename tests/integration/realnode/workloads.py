"""ECS task definitions that run real programs (from the locally built images), and reading what they did.

Containers note what happened with `mark <what>`, which prints (or appends to a file) `mark <what> <uptime>`:
the kernel's uptime, one clock shared by every container of the node, read by the containers themselves.
"""

from __future__ import annotations

import json
from typing import Any

from ecs_operator.localcluster import images

from tests.integration.operator_helpers import API, Cluster

BUSYBOX = images.BUSYBOX.name
NGINX = images.NGINX.name
# A shell prelude: `mark WHAT [FILE]`, and TERM ends the script at once (PID 1 ignores signals it does not
# handle, which would make every stop wait for the grace period).
PRELUDE = (
    'mark() { line="mark $1 $(cut -d" " -f1 /proc/uptime)"; echo "$line"; '
    '[ -n "$2" ] && echo "$line" >> "$2"; true; }; '
)
EXIT_ON_TERM = "trap 'exit 0' TERM; "


def shell(name: str, script: str, *, term: str = EXIT_ON_TERM, **extra: Any) -> dict[str, Any]:
    """A busybox container running `script` with the prelude; `extra` are more ECS container members."""
    return {
        "name": name,
        "image": BUSYBOX,
        "memory": 64,
        "entryPoint": ["sh", "-c"],
        "command": [PRELUDE + term + script],
        **extra,
    }


def sleep_forever(name: str, **extra: Any) -> dict[str, Any]:
    return shell(name, "mark start; while true; do sleep 1; done", **extra)


def http_server(name: str, port: int, **extra: Any) -> dict[str, Any]:
    """busybox httpd answering its host name (the task's Pod name) on `port`."""
    script = f"mkdir -p /www && hostname > /www/index.html && httpd -f -p {port} -h /www & wait"
    return shell(
        name,
        script,
        portMappings=[{"containerPort": port, "protocol": "tcp", "name": "http"}],
        **extra,
    )


def ecs_cluster(name: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "EcsCluster",
        "metadata": {"name": name},
        "spec": {"clusterName": name},
    }


def task_definition(family: str, *containers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    spec = {"family": family, "networkMode": "awsvpc", "containerDefinitions": list(containers), **extra}
    return {"apiVersion": API, "kind": "EcsTaskDefinition", "metadata": {"name": family}, "spec": spec}


def marks(text: str) -> dict[str, float]:
    """`mark WHAT UPTIME` lines → {WHAT: UPTIME} (the first of each)."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "mark":
            found.setdefault(parts[1], float(parts[2]))
    return found


def logs(cluster: Cluster, pod: str, container: str) -> str:
    """What `kubectl logs` shows of one container of a task."""
    return cluster.kubectl("logs", "-n", cluster.namespace, pod, "-c", container).stdout


def tasks(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    return list(cluster.status("ecstask", name).get("tasks") or [])


def stopped(cluster: Cluster, name: str) -> dict[str, Any] | None:
    entries = tasks(cluster, name)
    return entries[0] if entries and entries[0].get("lastStatus") == "STOPPED" else None


def container_entry(entry: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in entry.get("containers") or () if c.get("name") == name)


def describe(cluster: Cluster, kind: str, name: str) -> str:
    """What to print when a wait fails: the object's status and the Pods' container states."""
    pods = cluster.items("pods")
    states = {
        pod["metadata"]["name"]: {
            c["name"]: c.get("state")
            for c in [
                *(pod.get("status", {}).get("initContainerStatuses") or ()),
                *(pod.get("status", {}).get("containerStatuses") or ()),
            ]
        }
        for pod in pods
    }
    return json.dumps({"status": cluster.status(kind, name), "pods": states}, indent=1)[-3000:]
