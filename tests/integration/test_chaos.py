"""Chaos: the operator is SIGKILLed at random moments while services are created, and the API server
restarts under it; everything converges with no duplicate and no orphaned object, with no manual help.
With two replicas, the leader is SIGKILLed in mid-burst and the standby takes over; and a rolling upgrade
replaces both replicas while services change. Nothing is lost, and nothing is written twice: no replica
writes while it does not hold the leader Lease (read from the local cluster's audit log).

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
from ecs_operator import NAMESPACE
from ecs_operator.localcluster import cluster, nodes
from ecs_operator.localcluster.audit import AuditLog, Term, lease_terms, stray_writes
from ecs_operator.localcluster.state import load
from ecs_operator.run import DEFAULT_LEASE
from ecs_operator.subprocesses import OperatorProcess

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


def create_services_in_batches(
    ecs_cluster: Cluster, errors: list[BaseException], names: list[str] | None = None
) -> None:
    """kubectl apply in small batches, so the kills land between and during creations."""
    try:
        names = names if names is not None else service_names()
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


def converged(ecs_cluster: Cluster, desired: dict[str, int] | None = None) -> list[str]:
    """Names of the services not yet Ready with runningCount == their desired count (default: the chaos
    services, one task each) for their current spec; empty when all are."""
    desired = desired if desired is not None else dict.fromkeys(service_names(), 1)
    items = {s["metadata"]["name"]: s for s in ecs_cluster.items("ecsservices")}
    behind = []
    for name, count in desired.items():
        obj = items.get(name) or {"metadata": {}}
        status = obj.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ()
        )
        current = status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 1)
        if not ready or not current or status.get("runningCount") != count:
            behind.append(name)
    return behind


def duplicates_and_orphans(ecs_cluster: Cluster, desired: dict[str, int] | None = None) -> list[str]:
    """Every problem found: a service with other than one Deployment and Service or other than its desired
    count of live Pods (default one), a child whose owner is gone, more than one revision of the one task
    definition."""
    desired = desired or {}
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
        f"{name}: {live_pods.get(name, 0)} live pods"
        for name in services
        if live_pods.get(name) != desired.get(name, 1)
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


# --- two replicas: a leader kill, a rolling upgrade ---------------------------------------------------


class Replicas:
    """The session's operator and more replicas of it (same kubeconfig, so the same identity and RBAC),
    each ready (its caches listed) before it counts."""

    def __init__(self, session: OperatorProcess, directory: Path) -> None:
        self.session = session
        self.directory = directory
        self.extra: list[OperatorProcess] = []

    def start(self, name: str) -> OperatorProcess:
        replica = OperatorProcess(self.session.kubeconfig, self.directory / f"{name}.log", name=name)
        self.extra.append(replica)
        return self.restart(replica)

    @staticmethod
    def restart(replica: OperatorProcess) -> OperatorProcess:
        replica.start()
        wait_for(replica.ready, timeout=120, message=f"{replica.name} ready (its caches listed)")
        return replica

    def running(self) -> list[OperatorProcess]:
        return [r for r in (self.session, *self.extra) if r.process is not None]

    def leader(self, timeout: float = 60) -> OperatorProcess:
        """The running replica that holds the Lease (waiting until one does)."""
        found: OperatorProcess = wait_for(
            lambda: next((r for r in self.running() if r.leader()[1]), None),
            timeout=timeout,
            message="a running replica holding the Lease",
        )
        return found

    def close(self) -> None:
        """The session's operator runs again (it takes the Lease as the others give it up)."""
        if self.session.process is None:
            self.restart(self.session)
        for replica in self.extra:
            replica.stop()


@pytest.fixture
def replicas(ecs_operator: OperatorProcess, tmp_path: Path) -> Iterator[Replicas]:
    running = Replicas(ecs_operator, tmp_path)
    yield running
    running.close()


@pytest.fixture
def audit(kubeconfig: str) -> AuditLog | None:
    """The API server's audit log when the cluster under test is a local cluster (else None)."""
    state_dir = owned_local_cluster(kubeconfig)
    return AuditLog(cluster.layout(state_dir).audit_log) if state_dir is not None else None


def lease_window(audit: AuditLog | None) -> tuple[int, Any]:
    """A mark in the audit log, and the moment from which its terms are known: the first write of the
    Lease after the mark (the holder renews every 2 s)."""
    if audit is None:
        return 0, None
    mark = audit.mark()

    def first_lease_write() -> Any:
        terms = lease_terms(list(audit.events(mark)), NAMESPACE, DEFAULT_LEASE)
        return terms[0].start if terms else None

    since = wait_for(
        first_lease_write,
        timeout=30,
        message="a write of the leader Lease in the audit log (a local cluster started before the audit "
        "policy logged them: restart it with `make cluster-down cluster-up`)",
    )
    return mark, since


def nothing_written_twice(audit: AuditLog | None, mark: int, since: Any) -> list[Term]:
    """Assert that no replica wrote while it did not hold the Lease; the Lease's terms."""
    if audit is None:
        return []
    events = list(audit.events(mark))
    terms = lease_terms(events, NAMESPACE, DEFAULT_LEASE)
    stray = stray_writes(events, terms, since)
    assert not stray, f"writes by replicas not holding the Lease: {stray[:10]}; terms: {terms}"
    return terms


def test_a_killed_leader_is_replaced_by_its_standby_with_nothing_lost_and_nothing_written_twice(
    ecs_cluster: Cluster, replicas: Replicas, capacity: None, audit: AuditLog | None
) -> None:
    family = ecs_cluster.family("chaos")
    ecs_cluster.apply(task_definition(family))
    ecs_cluster.wait_condition("ecstaskdefinition", family, "Ready")
    replicas.start("replica-b")
    mark, since = lease_window(audit)
    leader = replicas.leader()
    errors: list[BaseException] = []
    creator = threading.Thread(target=create_services_in_batches, args=(ecs_cluster, errors))
    creator.start()
    try:
        wait_for(
            lambda: len(ecs_cluster.items("ecsservices")) >= SERVICES // 3,
            timeout=300,
            message="a third of the services created",
        )
        killed, _ = leader.leader()
        leader.stop(hard=True)
    finally:
        creator.join(timeout=600)
    assert not errors, errors
    successor = replicas.leader(timeout=120)
    assert successor.leader()[0] != killed

    wait_until_empty(lambda: converged(ecs_cluster), CONVERGE_SECONDS, "services behind after the takeover")
    wait_until_empty(lambda: duplicates_and_orphans(ecs_cluster), 60, "duplicates or orphans")
    terms = nothing_written_twice(audit, mark, since)
    if audit is not None:
        kill = next(t for t in terms if t.identity == killed)
        assert any(t.identity == successor.leader()[0] and t.start >= kill.end for t in terms), terms


def test_a_rolling_upgrade_hands_the_lease_over_cleanly_while_services_change(
    ecs_cluster: Cluster, replicas: Replicas, capacity: None, audit: AuditLog | None
) -> None:
    family = ecs_cluster.family("chaos")
    ecs_cluster.apply(task_definition(family))
    ecs_cluster.wait_condition("ecstaskdefinition", family, "Ready")
    first = [f"chaos-{i:03d}" for i in range(10)]
    errors: list[BaseException] = []
    create_services_in_batches(ecs_cluster, errors, first)
    assert not errors, errors
    desired = dict.fromkeys(first, 1)
    wait_until_empty(lambda: converged(ecs_cluster, desired), CONVERGE_SECONDS, "services behind")
    old_b = replicas.start("replica-b")
    mark, since = lease_window(audit)

    done = threading.Event()
    changer = threading.Thread(target=change_services, args=(ecs_cluster, desired, done, errors))
    changer.start()
    try:
        # What a Deployment's RollingUpdate (maxSurge 1, maxUnavailable 0) does with two replicas: a new
        # Pod, ready; an old one stops; the second new one, ready; the last old one stops.
        new_c = replicas.start("replica-c")
        replicas.session.stop()
        replicas.restart(replicas.session)
        old_b.stop()
        assert {r.name for r in replicas.running()} == {new_c.name, replicas.session.name}
    finally:
        done.set()
        changer.join(timeout=600)
    assert not errors, errors

    wait_until_empty(lambda: converged(ecs_cluster, desired), CONVERGE_SECONDS, "services behind")
    wait_until_empty(lambda: duplicates_and_orphans(ecs_cluster, desired), 60, "duplicates or orphans")
    terms = nothing_written_twice(audit, mark, since)
    if audit is not None:
        assert len(terms) >= 2, f"the first leader was stopped, so the Lease changed hands: {terms}"
        abrupt = [t for t in terms[:-1] if not t.released]
        assert not abrupt, f"a leader stopped without giving the Lease up: {abrupt}; terms: {terms}"


def change_services(
    ecs_cluster: Cluster, desired: dict[str, int], done: threading.Event, errors: list[BaseException]
) -> None:
    """Until `done`: scale the services in turn (1, 2, 3 tasks) and add one now and then; `desired` keeps
    what each should end with."""
    try:
        names = list(desired)
        turn = 0
        while not done.is_set() or turn < 6:
            name = names[turn % len(names)]
            count = 1 + turn % 3
            ecs_cluster.kubectl(
                "scale", "ecsservice", name, "-n", ecs_cluster.namespace, f"--replicas={count}"
            )
            desired[name] = count
            if turn % 4 == 3:
                added = f"chaos-{100 + turn:03d}"
                create_services_in_batches(ecs_cluster, errors, [added])
                desired[added] = 1
                names.append(added)
            turn += 1
    except BaseException as error:
        errors.append(error)
