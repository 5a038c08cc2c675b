"""EcsTask (RunTask) -> `count` Pods, restartPolicy Never; status per task with ECS's lifecycle.

Pods are created once and never re-applied (a stopped task is not restarted, as in ECS). When an
essential container exits the task stops (its Pod is deleted if sidecars still run). `spec.desiredStatus:
STOPPED` stops every task (UserInitiated). Tasks already started keep the revision they started with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import identifiers, labels
from ecs_operator.api import SpecError, parse_task
from ecs_operator.controllers.gather import (
    TASK_DEFINITION_NOT_FOUND,
    WorkloadSnapshot,
    cluster_watch,
    gather_workload,
    not_found_message,
    spec_of,
)
from ecs_operator.controllers.sources import declared_family, labelled, revision_family
from ecs_operator.identifiers import Partition, id_of_uid, long_format
from ecs_operator.plans.plan import to_apply
from ecs_operator.plans.stop_tasks import Stop, requests
from ecs_operator.revisions import Revision, resolve
from ecs_operator.runtime import Controller, Deletion, Key, Patch, Plan, View, Watch, register, via_index
from ecs_operator.status.clock import seconds_between
from ecs_operator.status.problems import (
    not_mapped,
    spec_error,
    spec_error_message,
    with_not_mapped,
)
from ecs_operator.status.task import (
    TaskInputs,
    essential_containers,
    should_stop,
    starting_quietly,
    task_status,
)
from ecs_operator.translate import translate_task
from ecs_operator.translate.metadata import owner_identity

KIND = "EcsTask"
AFTER_CREATE_SECONDS = 1.0
# A task's first status waits this long for its tasks to run (their Pods' events bring the pass that writes
# RUNNING), so a task that starts normally costs one status write; one still starting quietly after it is
# reported PROVISIONING or PENDING, one with something to report (see `starting_quietly`) at once. The ECS
# API reads new tasks from their Pods, not from this status, so RunTask and DescribeTasks do not wait for it.
FIRST_STATUS_WAIT_SECONDS = 30.0


TaskSnapshot = WorkloadSnapshot


def _reference(body: Mapping[str, Any]) -> str:
    """The revision the tasks run: the one they started with once any started, else what the spec names."""
    status = body.get("status") or {}
    if status.get("tasks") and status.get("taskDefinition"):
        return str(status["taskDefinition"])
    return str(spec_of(body).get("taskDefinition") or "")


def gather_task(key: Key, view: View) -> TaskSnapshot:
    return gather_workload(KIND, key, view, _reference, ["Pod", "ServiceAccount"], "task")


def reconcile_task(key: Key, snapshot: TaskSnapshot) -> Plan | None:
    body = snapshot.body
    if body is None or body["metadata"].get("deletionTimestamp"):
        return None
    previous = body.get("status") or {}
    try:
        task = parse_task(spec_of(body)).to_ecs()
    except SpecError as error:
        return _error_plan(body, "InvalidSpec", spec_error_message(error), snapshot.now)
    known = {str(t.get("podName")) for t in previous.get("tasks") or ()}
    reference = _reference(body)
    revision = resolve(snapshot.revisions, reference)
    if revision is None and not known:
        if snapshot.registering:  # its revision's watch event brings the next pass
            return Plan(body)
        return _error_plan(body, TASK_DEFINITION_NOT_FOUND, not_found_message(reference), snapshot.now)
    tasks = _tasks(key, body, task, revision, snapshot, known)
    if tasks.apply:
        return Plan(
            body,
            apply=tasks.apply,
            patches=tasks.marks,
            delete=tasks.stops,
            requeue_after=AFTER_CREATE_SECONDS,
        )
    return _status_plan(body, tasks, revision, snapshot)


@dataclass(frozen=True)
class _Tasks:
    """What a pass decided for the EcsTask's Pods: those to create, to stop, and why."""

    pods: dict[str, Mapping[str, Any] | None]
    essential: frozenset[str]
    user_stopped: bool
    warnings: Sequence[Any]
    reasons: dict[str, str]
    apply: tuple[Any, ...]
    stops: tuple[Deletion, ...]
    marks: tuple[Patch, ...]


def _error_plan(body: Mapping[str, Any], reason: str, message: str, now: str) -> Plan:
    previous = body.get("status") or {}
    status, events = spec_error(previous, body["metadata"].get("generation"), reason, message, now)
    return Plan(body, status=status, events=tuple(events))


def _tasks(
    key: Key,
    body: Mapping[str, Any],
    task: Mapping[str, Any],
    revision: Revision | None,
    snapshot: TaskSnapshot,
    known: set[str],
) -> _Tasks:
    namespace, name = key
    previous = body.get("status") or {}
    user_stopped = (
        str(spec_of(body).get("desiredStatus") or task.get("desiredStatus") or "").upper() == "STOPPED"
    )
    taskdef = revision.data if revision is not None else {}
    wanted: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    warnings: Sequence[Any] = ()
    if revision is not None:
        translation = translate_task(
            task,
            taskdef,
            revision=revision.number,
            namespace=namespace,
            name=name,
            owner=owner_identity(body),
            **snapshot.cluster.placement(),
        )
        wanted = [o for o in translation.objects if o["kind"] == "Pod"]
        others = [o for o in translation.objects if o["kind"] != "Pod"]
        warnings = translation.warnings
    pods: dict[str, Mapping[str, Any] | None] = {
        o["metadata"]["name"]: snapshot.children.get(("Pod", o["metadata"]["name"])) for o in wanted
    }
    for entry_name in sorted(known - set(pods)):
        pods[entry_name] = snapshot.children.get(("Pod", entry_name))
    creates = [
        o for o in wanted if pods[o["metadata"]["name"]] is None and o["metadata"]["name"] not in known
    ]
    essential = essential_containers(taskdef)
    reasons = stop_reasons(body, pods, previous)
    stopping = [
        pod_name
        for pod_name, pod in sorted(pods.items())
        if should_stop(pod, essential, user_stopped or pod_name in reasons)
    ]
    # StopTask's reason goes on the Pod first, where a description reads it once the Pod is gone.
    marks = tuple(
        Patch(
            "Pod",
            namespace,
            pod_name,
            {"metadata": {"annotations": Stop(pod_name, reasons[pod_name]).annotations()}},
        )
        for pod_name in stopping
        if pod_name in reasons
    )
    return _Tasks(
        pods=pods,
        essential=essential,
        user_stopped=user_stopped,
        warnings=warnings,
        reasons=reasons,
        apply=() if user_stopped else tuple(to_apply([*others, *creates], snapshot.children)),
        stops=tuple(Deletion("Pod", namespace, pod_name) for pod_name in stopping),
        marks=marks,
    )


def _status_plan(
    body: Mapping[str, Any], tasks: _Tasks, revision: Revision | None, snapshot: TaskSnapshot
) -> Plan:
    previous = body.get("status") or {}
    lines, not_mapped_events = not_mapped(previous, tasks.warnings)
    status, events = task_status(
        TaskInputs(
            cluster=snapshot.cluster.name,
            generation=body["metadata"].get("generation"),
            previous=previous,
            pods=tasks.pods,
            essential=tasks.essential,
            user_stopped=tasks.user_stopped,
            task_definition=revision.task_definition if revision is not None else None,
            stop_reasons=tasks.reasons,
            partition=Partition.from_env(),
            long_arns=long_format(body),
        ),
        snapshot.now,
    )
    if not tasks.stops and starting_quietly(status, previous):
        waited = seconds_between(str(body["metadata"].get("creationTimestamp") or snapshot.now), snapshot.now)
        if waited < FIRST_STATUS_WAIT_SECONDS:
            return Plan(body, requeue_after=FIRST_STATUS_WAIT_SECONDS - waited)
    expired, left = _expiry(body, status, snapshot.now)
    return Plan(
        body,
        patches=tasks.marks,
        delete=(*tasks.stops, *expired),
        events=(*events, *not_mapped_events),
        status=with_not_mapped(status, lines),
        requeue_after=left,
    )


def _expiry(
    body: Mapping[str, Any], status: Mapping[str, Any], now: str
) -> tuple[tuple[Deletion, ...], float | None]:
    """An EcsTask RunTask made (`labels.EXPIRE_AFTER_STOPPED`) goes that long after its last task stopped,
    as ECS forgets stopped tasks: its deletion, or when to look again."""
    value = str((body["metadata"].get("annotations") or {}).get(labels.EXPIRE_AFTER_STOPPED) or "")
    tasks = status.get("tasks") or ()
    if not value.isdigit() or not tasks or any(t.get("lastStatus") != "STOPPED" for t in tasks):
        return (), None
    stopped = max(str(t.get("stoppedAt") or now) for t in tasks)
    left = float(value) - seconds_between(stopped, now)
    if left > 0:
        return (), left
    metadata = body["metadata"]
    return (Deletion(KIND, str(metadata.get("namespace") or ""), str(metadata["name"])),), None


def stop_reasons(
    body: Mapping[str, Any], pods: Mapping[str, Mapping[str, Any] | None], previous: Mapping[str, Any]
) -> dict[str, str]:
    """StopTask's requests (by task id, on the EcsTask) as reasons by Pod name, for Pods live or gone."""
    wanted = requests(body)
    if not wanted:
        return {}
    ids = {
        str(t.get("podName")): identifiers.last_part(t.get("taskArn")) for t in previous.get("tasks") or ()
    }
    for pod_name, pod in pods.items():
        if pod is not None:
            ids[pod_name] = id_of_uid(str(pod["metadata"].get("uid") or ""))
    return {pod_name: wanted[task_id] for pod_name, task_id in ids.items() if task_id in wanted}


CONTROLLER = register(
    Controller(
        kind=KIND,
        gather=gather_task,
        reconcile=reconcile_task,
        watches=(
            Watch("Pod", via_index(KIND, "label", labelled(labels.TASK))),
            Watch("ServiceAccount", via_index(KIND, "label", labelled(labels.TASK))),
            Watch("ControllerRevision", via_index(KIND, "family", revision_family)),
            Watch("EcsTaskDefinition", via_index(KIND, "family", declared_family)),
            cluster_watch(KIND),
        ),
        applies=("Pod", "ServiceAccount"),
        deletes=("Pod", KIND),
        patches=("Pod",),
        workers=32,
        debounce=0.5,
    )
)
