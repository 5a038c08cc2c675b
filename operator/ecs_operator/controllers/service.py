"""EcsService -> Deployment (or DaemonSet for DAEMON) + Service(s) + ServiceAccount; status as ECS's Service.

A pass: the service, its cluster, its family's revisions and its children come from the caches; the plan
parses the spec, chooses the revision (the circuit breaker's rollback decides), translates, and either
applies what differs (leaving the status to the next pass, which the children's events bring) or writes
the status computed from the children. Deletion: the drain finalizer keeps the EcsService DRAINING while
its tasks stop; the workload is deleted in the foreground, then the finalizer goes and GC does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.api import SpecError, check_service_against_task_definition, parse_service
from ecs_operator.controllers.gather import (
    TASK_DEFINITION_NOT_FOUND,
    WorkloadSnapshot,
    cluster_watch,
    gather_workload,
    not_found_message,
    owner_label_key,
    spec_of,
)
from ecs_operator.controllers.sources import declared_family, labelled, revision_family
from ecs_operator.identifiers import Partition, id_of_uid, long_format
from ecs_operator.plans import stop_tasks
from ecs_operator.plans.deployment import (
    choose_id,
    service_objects,
    template_annotations,
    template_key,
    with_deployment,
    workload_of,
)
from ecs_operator.plans.plan import finalizers, to_apply, to_prune
from ecs_operator.plans.rollback import Choice, choose_revision, circuit_breaker
from ecs_operator.runtime import (
    Controller,
    Deletion,
    Event,
    Key,
    Patch,
    Plan,
    View,
    Watch,
    register,
    via_index,
)
from ecs_operator.status.deployments import (
    REVISION_ANNOTATION,
    workload_view,
)
from ecs_operator.status.problems import not_mapped, spec_error, spec_error_message, with_not_mapped
from ecs_operator.status.service import (
    ServiceInputs,
    draining_status,
    external_controller,
    external_status,
    service_status,
)
from ecs_operator.status.task import essential_containers
from ecs_operator.translate.metadata import owner_identity
from ecs_operator.translate.result import Translation

KIND = "EcsService"
WORKLOAD_KINDS = ("Deployment", "DaemonSet")
CHILD_KINDS = (*WORKLOAD_KINDS, "Service", "ServiceAccount")
WATCHED_CHILDREN = (*CHILD_KINDS, "ReplicaSet", "Pod")
# After an apply, the status follows once the children's controllers reacted (their events bring the next
# pass); this rerun makes sure it happens even if no event comes.
AFTER_APPLY_SECONDS = 1.0
DRAIN_RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class ServiceSnapshot(WorkloadSnapshot):
    replica_sets: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    gone: list[dict[str, Any]] = field(default_factory=list)  # its Pods deleted lately (last state)


def gather_service(key: Key, view: View) -> ServiceSnapshot:
    found = gather_workload(KIND, key, view, _reference, CHILD_KINDS, "service")
    owner = owner_label_key(key)
    return ServiceSnapshot(
        **vars(found),
        replica_sets=view.by_index("ReplicaSet", "service", owner) if found.body else [],
        pods=view.by_index("Pod", "service", owner) if found.body else [],
        gone=view.gone("Pod", "service", owner) if found.body else [],
    )


def _task_arn(cluster: str, body: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], str]:
    """How the service's tasks are named: in its ARN format."""
    partition, long = Partition.from_env(), long_format(body)
    return lambda pod: partition.task(cluster, id_of_uid(str(pod["metadata"].get("uid") or "")), long)


def _reference(body: Mapping[str, Any]) -> str:
    return str(spec_of(body).get("taskDefinition") or "")


@dataclass(frozen=True)
class Pass:
    """What every plan of one pass over a custom resource starts from: the resource as read, the time, and
    the finalizers it should carry."""

    body: Mapping[str, Any]
    now: str
    finalizers: tuple[str, ...] | None

    @property
    def previous(self) -> Mapping[str, Any]:
        return self.body.get("status") or {}

    @property
    def generation(self) -> int | None:
        generation: int | None = self.body["metadata"].get("generation")
        return generation

    def refuse(self, reason: str, message: str) -> Plan:
        """A spec that cannot be honoured: Degraded naming the fields, the rest of the status kept."""
        status, events = spec_error(self.previous, self.generation, reason, message, self.now)
        return Plan(self.body, status=status, events=tuple(events), finalizers=self.finalizers)


def reconcile_service(key: Key, snapshot: ServiceSnapshot) -> Plan | None:
    body = snapshot.body
    if body is None:
        return None
    if body["metadata"].get("deletionTimestamp"):
        return _drain(key, body, snapshot)
    base = Pass(
        body, snapshot.now, finalizers(body, add=[labels.DRAIN_FINALIZER], remove=[labels.LEGACY_FINALIZER])
    )
    try:
        service = parse_service(spec_of(body)).to_ecs()
    except SpecError as error:
        return base.refuse("InvalidSpec", spec_error_message(error))
    reference = str(service.get("taskDefinition") or "")
    if not reference and external_controller(service):
        prune = to_prune([], snapshot.children, body["metadata"]["uid"], CHILD_KINDS)
        status = external_status(key[1], base.previous, base.generation, service, snapshot.now)
        return Plan(body, delete=prune, status=status, finalizers=base.finalizers)
    rollback = circuit_breaker(service)[1]
    choice = choose_revision(reference, snapshot.revisions, base.previous.get("deployments") or (), rollback)
    if choice is None:
        if snapshot.registering:  # its revision's watch event brings the next pass
            return Plan(body, finalizers=base.finalizers)
        return base.refuse(TASK_DEFINITION_NOT_FOUND, not_found_message(reference))
    try:
        translation = _translation(key, body, service, choice, snapshot)
    except SpecError as error:
        return base.refuse("InvalidSpec", spec_error_message(error))
    desired = _with_deployment_id(body, translation.objects, snapshot)
    prune = to_prune(desired, snapshot.children, body["metadata"]["uid"], CHILD_KINDS)
    apply = to_apply(desired, snapshot.children)
    if apply:
        return Plan(
            body, apply=apply, delete=prune, finalizers=base.finalizers, requeue_after=AFTER_APPLY_SECONDS
        )
    return _status_plan(key, base, service, choice, desired, translation.warnings, prune, snapshot)


def _translation(
    key: Key, body: Mapping[str, Any], service: Mapping[str, Any], choice: Choice, snapshot: ServiceSnapshot
) -> Translation:
    """The service's children for the revision it runs (SpecError when they do not fit together)."""
    check_service_against_task_definition(service, choice.chosen.data)
    return service_objects(
        service,
        choice.chosen.data,
        template_annotations(body),
        revision=choice.chosen.number,
        namespace=key[0],
        name=key[1],
        owner=owner_identity(body),
        **snapshot.cluster.placement(),
    )


def _status_plan(
    key: Key,
    base: Pass,
    service: Mapping[str, Any],
    choice: Choice,
    desired: list[dict[str, Any]],
    warnings: Sequence[Any],
    prune: tuple[Deletion, ...],
    snapshot: ServiceSnapshot,
) -> Plan:
    """The children are as they should be: the status they show, failed tasks to remove, StopTask's stops."""
    namespace, name = key
    body = base.body
    workload = workload_of(desired)
    live = snapshot.children.get((workload["kind"], workload["metadata"]["name"])) if workload else None
    view, selector = workload_view(live, snapshot.pods, snapshot.replica_sets) if live else (None, "")
    breaker, rollback = circuit_breaker(service)
    outcome = service_status(
        ServiceInputs(
            name=name,
            generation=base.generation,
            desired_count=int(service.get("desiredCount", 0) or 0),
            target_task_definition=choice.target.task_definition,
            circuit_breaker=breaker,
            rollback=rollback,
            workload=view,
            previous=base.previous,
            selector=selector,
            gone=tuple(snapshot.gone),
            essential=essential_containers(choice.chosen.data),
            task_arn=_task_arn(snapshot.cluster.name, body),
        ),
        snapshot.now,
    )
    lines, not_mapped_events = not_mapped(base.previous, warnings)
    failed = tuple(Deletion("Pod", namespace, pod) for pod in outcome.failed_pods)
    # StopTask on a service task: its reason goes on the Pod, then the Pod goes (the ReplicaSet replaces it).
    stops = stop_tasks.plan(body, snapshot.pods)
    marks = tuple(
        Patch("Pod", namespace, s.pod, {"metadata": {"annotations": s.annotations()}}) for s in stops
    )
    stopped = tuple(Deletion("Pod", namespace, s.pod) for s in stops)
    rolling_back = outcome.rollback_to is not None and outcome.rollback_to != choice.chosen.task_definition
    return Plan(
        body,
        patches=marks,
        delete=prune + failed + stopped,
        events=(*outcome.events, *not_mapped_events),
        status=with_not_mapped(outcome.status, lines),
        finalizers=base.finalizers,
        requeue_after=0.0 if rolling_back else None,
    )


def _with_deployment_id(
    body: Mapping[str, Any], objects: list[dict[str, Any]], snapshot: ServiceSnapshot
) -> list[dict[str, Any]]:
    """The children with their deployment's id on the pod template (`plans/deployment.py`)."""
    workload = workload_of(objects)
    if workload is None:
        return objects
    key = template_key(workload)
    live = snapshot.children.get((workload["kind"], workload["metadata"]["name"]))
    seen = sorted(snapshot.replica_sets, key=_newest_first) + ([live] if live else [])
    return with_deployment(objects, key, choose_id(key, body, seen))


def _newest_first(replica_set: Mapping[str, Any]) -> int:
    revision = str((replica_set["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "0"))
    return -int(revision) if revision.isdigit() else 0


def _drain(key: Key, body: Mapping[str, Any], snapshot: ServiceSnapshot) -> Plan:
    """DRAINING while the tasks stop; the finalizer goes once none is left."""
    if not {labels.DRAIN_FINALIZER, labels.LEGACY_FINALIZER} & set(body["metadata"].get("finalizers") or ()):
        return Plan(body)
    namespace, name = key
    previous = body.get("status") or {}
    deletions = tuple(
        Deletion(kind, namespace, child_name, "Foreground")
        for (kind, child_name), obj in sorted(snapshot.children.items())
        if kind in WORKLOAD_KINDS and not obj["metadata"].get("deletionTimestamp")
    )
    pods = snapshot.pods
    status = draining_status(
        name,
        previous,
        body["metadata"].get("generation"),
        pods,
        snapshot.now,
        snapshot.gone,
        _task_arn(snapshot.cluster.name, body),
    )
    events: tuple[Event, ...] = ()
    if previous.get("status") != "DRAINING":
        message = f"(service {name}) is DRAINING: stopping {len(pods)} tasks before it is deleted."
        events = (Event("Normal", "Draining", message),)
    if pods:
        return Plan(body, delete=deletions, events=events, status=status, requeue_after=DRAIN_RECHECK_SECONDS)
    return Plan(
        body,
        delete=deletions,
        events=events,
        status=status,
        finalizers=finalizers(body, remove=[labels.DRAIN_FINALIZER, labels.LEGACY_FINALIZER]),
    )


CONTROLLER = register(
    Controller(
        kind=KIND,
        gather=gather_service,
        reconcile=reconcile_service,
        watches=(
            *(Watch(kind, via_index(KIND, "label", labelled(labels.SERVICE))) for kind in WATCHED_CHILDREN),
            Watch("ControllerRevision", via_index(KIND, "family", revision_family)),
            Watch("EcsTaskDefinition", via_index(KIND, "family", declared_family)),
            cluster_watch(KIND),
        ),
        applies=CHILD_KINDS,
        deletes=(*CHILD_KINDS, "Pod"),
        patches=("Pod",),
        finalizers=(labels.DRAIN_FINALIZER, labels.LEGACY_FINALIZER),
        workers=32,
        debounce=0.5,
    )
)
