"""Chaos: the operator is SIGKILLed at random moments while services are created, and the API server
restarts under it; everything converges with no duplicate and no orphaned object, with no manual help.

Size: `ECS_CHAOS_SERVICES` services (default 30 in `make test`; `make bench` runs 200) and
`ECS_CHAOS_KILLS` kills (default 3). The random moments come from a seeded generator (`ECS_CHAOS_SEED`,
printed), so a failing run can be replayed.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_operator.localcluster import cluster, nodes
from ecs_operator.localcluster.state import load

from tests.integration.operator_helpers import Cluster, in_namespace, service, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.operator_fixtures"]
pytestmark = pytest.mark.integration

SERVICES = int(os.environ.get("ECS_CHAOS_SERVICES", "30"))
KILLS = int(os.environ.get("ECS_CHAOS_KILLS", "3"))
SEED = int(os.environ.get("ECS_CHAOS_SEED", str(random.SystemRandom().randrange(1 << 30))))
BATCH = 5
SERVICE_LABEL = "ecs.operator.dev/service"
CONVERGE_SECONDS = 60 + 3 * SERVICES


def service_names() -> list[str]:
    return [f"chaos-{i:03d}" for i in range(SERVICES)]


def create_services_in_batches(ecs_cluster: Cluster, errors: list[BaseException]) -> None:
    """kubectl apply in small batches, so the kills land between and during creations."""
    try:
        names = service_names()
        for start in range(0, len(names), BATCH):
            batch = [
                in_namespace(
                    service(
                        name,
                        ecs_cluster.family("chaos"),
                        desired=1,
                        loadBalancers=[{"containerName": "app", "containerPort": 80}],
                    ),
                    ecs_cluster.namespace,
                )
                for name in names[start : start + BATCH]
            ]
            ecs_cluster.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(batch))
    except BaseException as error:
        errors.append(error)


def converged(ecs_cluster: Cluster) -> list[str]:
    """Names of the services not yet Ready with runningCount == desiredCount (empty when all are)."""
    items = {s["metadata"]["name"]: s for s in ecs_cluster.items("ecsservices")}
    behind = []
    for name in service_names():
        status = (items.get(name) or {}).get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ()
        )
        if not ready or status.get("runningCount") != 1:
            behind.append(name)
    return behind


def duplicates_and_orphans(ecs_cluster: Cluster) -> list[str]:
    """Every problem found: a service with other than one Deployment, Service or live Pod, a child whose
    owner is gone, more than one revision of the one task definition."""
    problems = []
    services = {s["metadata"]["name"]: s["metadata"]["uid"] for s in ecs_cluster.items("ecsservices")}
    for kind in ("deployments", "services"):
        per_service: dict[str, int] = {}
        for obj in ecs_cluster.items(kind, SERVICE_LABEL):
            owner = obj["metadata"]["labels"][SERVICE_LABEL]
            per_service[owner] = per_service.get(owner, 0) + 1
            owner_uids = {ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or ()}
            if services.get(owner) not in owner_uids:
                problems.append(
                    f"{kind} {obj['metadata']['name']} is orphaned (owner {owner} uid not among {owner_uids})"
                )
        problems += [
            f"{name}: {per_service.get(name, 0)} {kind}" for name in services if per_service.get(name) != 1
        ]
    live_pods: dict[str, int] = {}
    for pod in ecs_cluster.items("pods", SERVICE_LABEL):
        if not pod["metadata"].get("deletionTimestamp"):
            owner = pod["metadata"]["labels"][SERVICE_LABEL]
            live_pods[owner] = live_pods.get(owner, 0) + 1
    problems += [
        f"{name}: {live_pods.get(name, 0)} live pods" for name in services if live_pods.get(name) != 1
    ]
    problems += [f"pods of unknown service {name}" for name in live_pods if name not in services]
    family = ecs_cluster.family("chaos")
    revisions = ecs_cluster.revisions(family)
    if len(revisions) != 1:
        problems.append(
            f"{len(revisions)} revisions of {family}: {[r['metadata']['name'] for r in revisions]}"
        )
    return problems


@pytest.fixture
def capacity(ecs_cluster: Cluster, api_client: Any) -> Iterator[None]:
    """Container instances for every chaos Pod (the cluster fixture's one Node holds 110)."""
    from kubernetes import client

    names = [f"chaos-{ecs_cluster.namespace}-{i}"[:63] for i in range(SERVICES // 100 + 1)]
    for name in names:
        labels = dict(nodes.container_instance(name, ecs_cluster.name).labels)
        nodes.ensure_node(
            api_client, name, labels=labels, capacity={"cpu": "64", "memory": "256Gi", "pods": "200"}
        )
    nodes.wait_ready(api_client, names)
    yield
    # Draining many services takes longer than the cluster fixture's teardown allows: delete them here.
    ecs_cluster.kubectl("delete", "ecsservices", "--all", "-n", ecs_cluster.namespace, "--wait=false")
    wait_for(
        lambda: not ecs_cluster.items("ecsservices"),
        timeout=CONVERGE_SECONDS,
        message="the chaos services drained and deleted",
    )
    for name in names:
        client.CoreV1Api(api_client).delete_node(name)


def test_sigkilled_operator_converges_with_no_duplicate_or_orphan(
    ecs_cluster: Cluster, ecs_operator: Any, capacity: None
) -> None:
    print(f"chaos: {SERVICES} services, {KILLS} kills, ECS_CHAOS_SEED={SEED}")
    chance = random.Random(SEED)
    family = ecs_cluster.family("chaos")
    ecs_cluster.apply(task_definition(family))
    ecs_cluster.wait_condition("ecstaskdefinition", family, "Ready")
    errors: list[BaseException] = []
    creator = threading.Thread(target=create_services_in_batches, args=(ecs_cluster, errors))
    creator.start()
    try:
        for _ in range(KILLS):
            # A random moment while creations go on: the thread runs for several seconds per batch of 5.
            time.sleep(chance.uniform(0.2, 3.0))
            ecs_operator.stop(hard=True)
            ecs_operator.start()
    finally:
        creator.join(timeout=600)
    assert not errors, errors

    wait_until_empty(lambda: converged(ecs_cluster), CONVERGE_SECONDS, f"services behind (seed {SEED})")
    wait_until_empty(lambda: duplicates_and_orphans(ecs_cluster), 60, f"duplicates or orphans (seed {SEED})")


def wait_until_empty(problems: Callable[[], list[str]], timeout: float, what: str) -> None:
    try:
        wait_for(lambda: not problems(), timeout=timeout, message=f"no {what}")
    except AssertionError as error:
        raise AssertionError(f"{error}; {what}: {problems()[:10]}") from None


def owned_local_cluster(kubeconfig: str) -> Path | None:
    """The state folder when the cluster under test is a local cluster (never a shared copy of its
    kubeconfig), as test_local_cluster checks before restarting anything."""
    state_dir = Path(kubeconfig).resolve().parent
    state = load(state_dir / "state.json")
    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
    servers = {entry["cluster"]["server"] for entry in config.get("clusters") or []}
    if state is None or servers != {cluster.server_url(state)}:
        return None
    return state_dir


def test_the_operator_recovers_by_itself_after_an_api_server_restart(
    kubeconfig: str, ecs_cluster: Cluster, ecs_operator: Any
) -> None:
    state_dir = owned_local_cluster(kubeconfig)
    if state_dir is None:
        pytest.skip(f"{kubeconfig} is not the kubeconfig in a local cluster's state folder")
    family = ecs_cluster.family("chaos")
    ecs_cluster.apply(
        task_definition(family),
        service("survivor", family, desired=1, loadBalancers=[{"containerName": "app", "containerPort": 80}]),
    )
    ecs_cluster.wait_condition("ecsservice", "survivor", "Ready")
    pid = ecs_operator.process.pid

    cluster.restart_apiserver(state_dir, progress=lambda line: None)

    # Changes made after the restart reach the operator only through watches it re-established itself.
    ecs_cluster.kubectl("scale", "ecsservice", "survivor", "-n", ecs_cluster.namespace, "--replicas=2")
    ecs_cluster.apply(
        service("newcomer", family, desired=1, loadBalancers=[{"containerName": "app", "containerPort": 80}])
    )
    wait_for(
        lambda: (
            ecs_cluster.status("ecsservice", "survivor").get("runningCount") == 2
            and ecs_cluster.is_true("ecsservice", "survivor", "Ready")
            and ecs_cluster.is_true("ecsservice", "newcomer", "Ready")
        ),
        timeout=180,
        message="survivor scaled to 2 and newcomer Ready after the API server restart",
    )
    assert ecs_operator.process is not None and ecs_operator.process.pid == pid, "the operator was restarted"
    assert ecs_operator.process.poll() is None, ecs_operator.log_tail()
