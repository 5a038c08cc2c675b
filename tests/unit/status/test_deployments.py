"""A service's deployments read from its workload, and the choice of the revision to run."""

from typing import Any

from ecs_operator import labels
from ecs_operator.plans.rollback import choose_revision, circuit_breaker
from ecs_operator.revisions import ACTIVE, INACTIVE, Revision
from ecs_operator.status.deployments import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    last_completed,
    workload_view,
)

SELECTOR = {labels.CLUSTER: "demo", labels.SERVICE: "web"}


def deployment(desired: int = 3, generation: int = 2, observed: int = 2, **status: Any) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": generation, "creationTimestamp": "t0"},
        "spec": {"replicas": desired, "selector": {"matchLabels": SELECTOR}},
        "status": {"observedGeneration": observed, **status},
    }


def replica_set(template_hash: str, revision: int, replicas: int, task_definition: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"web-{template_hash}",
            "labels": {**SELECTOR, "pod-template-hash": template_hash},
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "creationTimestamp": f"t{revision}",
        },
        "spec": {
            "replicas": replicas,
            "template": {"metadata": {"annotations": {labels.TASK_DEFINITION_ANNOTATION: task_definition}}},
        },
    }


def pod(
    name: str, template_hash: str, phase: str = "Running", deleting: bool = False, **extra: str
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": {**SELECTOR, "pod-template-hash": template_hash, **extra},
    }
    if deleting:
        metadata["deletionTimestamp"] = "t9"
    return {"metadata": metadata, "status": {"phase": phase}}


SETTLED = {"updatedReplicas": 3, "availableReplicas": 3, "replicas": 3}


def test_the_newest_replica_set_is_primary_and_an_older_one_with_tasks_is_active() -> None:
    view, selector = workload_view(
        deployment(**SETTLED),
        [pod("a", "new"), pod("b", "old"), pod("c", "old")],
        [replica_set("old", 1, 2, "web:1"), replica_set("new", 2, 1, "web:2")],
    )
    by_id = {r.id: r for r in view.revisions}
    assert by_id["ecs-svc/new"].primary and by_id["ecs-svc/new"].task_definition == "web:2"
    assert not by_id["ecs-svc/old"].primary and by_id["ecs-svc/old"].desired == 2
    assert [p["metadata"]["name"] for p in by_id["ecs-svc/old"].pods] == ["b", "c"]
    assert selector == f"{labels.CLUSTER}=demo,{labels.SERVICE}=web"


def test_a_rollback_renumbers_the_old_replica_set_which_becomes_primary_again() -> None:
    view, _ = workload_view(
        deployment(), [], [replica_set("old", 3, 3, "web:1"), replica_set("new", 2, 0, "web:2")]
    )
    assert [r.id for r in view.revisions if r.primary] == ["ecs-svc/old"]


def test_an_old_replica_set_scaled_to_zero_is_gone_once_its_tasks_stopped() -> None:
    sets = [replica_set("old", 1, 0, "web:1"), replica_set("new", 2, 3, "web:2")]
    stopping = workload_view(deployment(), [pod("b", "old", deleting=True)], sets)[0]
    assert [r.id for r in stopping.revisions] == ["ecs-svc/new"]
    still_running = workload_view(deployment(), [pod("b", "old")], sets)[0]
    assert sorted(r.id for r in still_running.revisions) == ["ecs-svc/new", "ecs-svc/old"]


def test_pods_and_replica_sets_outside_the_selector_are_not_the_services() -> None:
    foreign = replica_set("other", 9, 1, "x:1")
    foreign["metadata"]["labels"][labels.SERVICE] = "api"
    stray = pod("z", "new")
    stray["metadata"]["labels"][labels.SERVICE] = "api"
    view, _ = workload_view(
        deployment(), [stray, pod("a", "new")], [foreign, replica_set("new", 2, 1, "web:2")]
    )
    assert [r.id for r in view.revisions] == ["ecs-svc/new"]
    assert [p["metadata"]["name"] for p in view.revisions[0].pods] == ["a"]


def test_settled_needs_the_latest_generation_observed_and_every_replica_updated_and_available() -> None:
    sets = [replica_set("new", 2, 3, "web:2")]
    assert workload_view(deployment(**SETTLED), [], sets)[0].settled
    assert not workload_view(deployment(observed=1, **SETTLED), [], sets)[0].settled
    assert not workload_view(deployment(**{**SETTLED, "availableReplicas": 2}), [], sets)[0].settled
    assert not workload_view(deployment(**{**SETTLED, "replicas": 4}), [], sets)[0].settled


def test_a_progress_deadline_is_seen_from_the_deployments_condition() -> None:
    stuck = {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}
    assert workload_view(deployment(**stuck), [], [])[0].deadline_exceeded
    assert not workload_view(deployment(), [], [])[0].deadline_exceeded


def test_a_daemon_set_is_one_deployment_named_after_its_task_definition() -> None:
    def daemon(task_definition: str, **status: int) -> dict[str, Any]:
        return {
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "generation": 1, "creationTimestamp": "t0"},
            "spec": {
                "selector": {"matchLabels": SELECTOR},
                "template": {
                    "metadata": {"annotations": {labels.TASK_DEFINITION_ANNOTATION: task_definition}}
                },
            },
            "status": {"observedGeneration": 1, **status},
        }

    counts = {"desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2}
    view, _ = workload_view(daemon("agent:1", **counts), [pod("a", "x"), pod("b", "y")], [])
    (revision,) = view.revisions
    assert revision.primary and revision.desired == 2 and len(revision.pods) == 2 and view.settled
    assert revision.id == workload_view(daemon("agent:1"), [], [])[0].revisions[0].id
    assert revision.id != workload_view(daemon("agent:2"), [], [])[0].revisions[0].id
    assert not workload_view(daemon("agent:1", desiredNumberScheduled=2, numberAvailable=1), [], [])[
        0
    ].settled


def revision(number: int, active: bool = True) -> Revision:
    return Revision(
        "web", number, {"family": "web", "n": number}, ACTIVE if active else INACTIVE, f"web-{number}"
    )


REVISIONS = [revision(1), revision(2), revision(3, active=False)]


def deployments(*entries: tuple[str, str]) -> list[dict[str, str]]:
    return [{"taskDefinition": td, "rolloutState": state} for td, state in entries]


def test_a_reference_names_a_revision_or_the_latest_active_one() -> None:
    assert choose_revision("web:3", REVISIONS, [], rollback=True).chosen.number == 3  # type: ignore[union-attr]
    assert choose_revision("web", REVISIONS, [], rollback=True).chosen.number == 2  # type: ignore[union-attr]
    assert choose_revision("web:9", REVISIONS, [], rollback=True) is None
    assert choose_revision("api", REVISIONS, [], rollback=True) is None


def test_after_a_failed_rollout_with_rollback_the_last_completed_revision_runs() -> None:
    previous = deployments(("web:2", FAILED), ("web:1", COMPLETED))
    choice = choose_revision("web:2", REVISIONS, previous, rollback=True)
    assert choice is not None and (choice.target.number, choice.chosen.number) == (2, 1)


def test_without_rollback_or_without_a_failure_the_target_runs() -> None:
    failed = deployments(("web:2", FAILED), ("web:1", COMPLETED))
    assert choose_revision("web:2", REVISIONS, failed, rollback=False).chosen.number == 2  # type: ignore[union-attr]
    other_failed = deployments(("web:1", FAILED), ("web:1", COMPLETED))
    assert choose_revision("web:2", REVISIONS, other_failed, rollback=True).chosen.number == 2  # type: ignore[union-attr]


def test_a_failed_rollout_with_nothing_completed_before_keeps_the_target() -> None:
    choice = choose_revision("web:2", REVISIONS, deployments(("web:2", FAILED)), rollback=True)
    assert choice is not None and choice.chosen.number == 2


def test_a_rollback_may_return_to_an_inactive_revision() -> None:
    choice = choose_revision("web:2", REVISIONS, deployments(("web:2", FAILED), ("web:3", COMPLETED)), True)
    assert choice is not None and choice.chosen.number == 3


def test_the_last_completed_deployment_is_the_first_completed_in_status_order() -> None:
    assert (
        last_completed(deployments(("web:3", IN_PROGRESS), ("web:2", COMPLETED), ("web:1", COMPLETED)))
        == "web:2"
    )
    assert last_completed(deployments(("web:3", FAILED))) is None
    assert last_completed([]) is None


def test_the_circuit_breaker_rolls_back_only_when_enabled() -> None:
    def config(**breaker: bool) -> dict[str, Any]:
        return {"deploymentConfiguration": {"deploymentCircuitBreaker": breaker}}

    assert circuit_breaker({}) == (False, False)
    assert circuit_breaker(config(enable=True, rollback=False)) == (True, False)
    assert circuit_breaker(config(enable=True, rollback=True)) == (True, True)
    assert circuit_breaker(config(enable=False, rollback=True)) == (False, False)
