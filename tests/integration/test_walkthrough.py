"""docs/ecs-api.md's walkthrough ("Your first hour"), run as written: the block under `<!-- walkthrough -->`,
line for line in one bash, with the real AWS CLI, `kubectl` and `ecs-operator`, against the running
operator and ECS API, as a user who has just run `make demo KEEP=1` and exported what it printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.integration.api_fixtures"]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ecs-api.md"
CLUSTER = "Tutorial_Cluster"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def walkthrough() -> str:
    text = DOC.read_text()
    found = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)\n```", text, re.S)
    assert found is not None, "docs/ecs-api.md has no walkthrough block"
    return found.group(1)


@pytest.fixture
def tutorial_leftovers(kubectl: Kubectl) -> Iterator[None]:
    """Whatever the walkthrough makes is removed afterwards (the cluster, its Nodes, the key, the bindings),
    so it can run again on the same cluster."""
    yield
    from ecs_operator.naming import cluster_object_name, label_value

    namespace = cluster_object_name(CLUSTER)
    kubectl("delete", "ecsservices,ecstasks", "--all", "-n", namespace, "--timeout=120s", check=False)
    kubectl("delete", "ecscluster", namespace, "--ignore-not-found", "--timeout=60s", check=False)
    kubectl("delete", "nodes", "-l", f"ecs.operator.dev/cluster={label_value(CLUSTER)}", check=False)
    kubectl("delete", "clusterrolebinding", "alice-ecs", "--ignore-not-found", check=False)
    kubectl(
        "delete", "rolebinding", "alice-ecs-account", "-n", "ecs-account", "--ignore-not-found", check=False
    )
    kubectl(
        "delete",
        "secret",
        "ecs-api-key-alice",
        "-n",
        "ecs-operator-system",
        "--ignore-not-found",
        check=False,
    )


def test_the_walkthrough_runs_as_written(
    kubeconfig: str, ecs_operator: Any, ecs_api: Any, tutorial_leftovers: None, tmp_path: Path
) -> None:
    from ecs_operator import subprocesses

    bin_dirs = [str(Path(sys.executable).parent), str(Path(subprocesses.kubectl_binary()).parent)]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PATH": os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")]),
        "KUBECONFIG": kubeconfig,
        "AWS_ENDPOINT_URL_ECS": ecs_api.url,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PAGER": "",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, (
        f"the walkthrough failed:\n{result.stderr[-4000:]}\n{result.stdout[-2000:]}"
    )
    output = result.stdout
    assert "ACTIVE\t2\tCOMPLETED" in output, output
    assert '"STOPPED"' in output and "done with the tutorial" in output, output
    assert "arn:aws:ecs:us-east-1:000000000000:cluster/Tutorial_Cluster" in output
