"""EcsService -> Deployment (or DaemonSet for DAEMON) + Service; status as ECS's Service.

One level-triggered `sync_service` runs per service after each burst of triggers: the custom resource
changed, a child (Deployment, DaemonSet, ReplicaSet, Pod, Service) changed, or the task definition got a
new revision. Triggers only schedule (`Scheduler`); the sync reads the children from the watch indexes
(`service_cache`), applies only what differs, and writes status only when the computed status differs.

Deletion: the operator's own finalizer keeps the EcsService while its tasks stop (ECS's DRAINING). It is
not kopf's finalizer: kopf removes its own finalizer from kinds it has no deletion handler for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from ecs_operator import API_GROUP, children, kube, labels, metrics
from ecs_operator.handlers import cluster, service_cache
from ecs_operator.handlers._common import (
    GROUP,
    MANAGED,
    VERSION,
    apply_children,
    cluster_of_namespace,
    log,
    report_spec_error,
    spec_error_message,
    write_status,
)
from ecs_operator.handlers._memo import Memo
from ecs_operator.handlers._scheduler import Scheduler
from ecs_operator.handlers._sync import now
from ecs_operator.handlers.service_cache import ServiceChildren, ServiceKey
from ecs_operator.kube import KubeError
from ecs_operator.revisions import Revision, RevisionStore, parse_reference, resolve
from ecs_operator.status import (
    FAILED,
    RevisionView,
    ServiceInputs,
    WorkloadView,
    draining_status,
    newly_failed,
    pod_is_terminating,
    service_status,
)

KIND = "EcsService"
PLURAL = "ecsservices"
WORKLOAD_KINDS = ("Deployment", "DaemonSet")
CHILD_KINDS = ("Deployment", "DaemonSet", "Service", "ServiceAccount")
DRAIN_FINALIZER = f"{API_GROUP}/drain"
DRAIN_RETRY_SECONDS = 2.0
# Children's watch events of one burst fold into one sync this long after the first of them.
CHILD_DELAY_SECONDS = 0.5
SYNC_WORKERS = 32
# Revisions change only through the EcsTaskDefinition handler, which invalidates; the limit covers hand edits.
REVISION_CACHE_SECONDS = 60.0

_managed = metrics.ManagedSet(KIND)
_known_tasks: dict[ServiceKey, frozenset[str]] = {}
_warned: dict[ServiceKey, tuple[int, str]] = {}
_revisions: Memo[tuple[str, str], list[Revision]] = Memo(REVISION_CACHE_SECONDS)
_seen_generations: dict[ServiceKey, int | None] = {}


def _circuit_breaker(service: Mapping[str, Any]) -> tuple[bool, bool]:
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    return bool(breaker.get("enable")), bool(breaker.get("enable") and breaker.get("rollback"))


def _failed_target(previous: Mapping[str, Any], target: str) -> bool:
    return any(
        d.get("rolloutState") == FAILED and d.get("taskDefinition") == target
        for d in previous.get("deployments") or ()
    )


def _last_completed(previous: Mapping[str, Any], revisions: Sequence[Revision]) -> Revision | None:
    for entry in previous.get("deployments") or ():
        if entry.get("rolloutState") == "COMPLETED" and entry.get("taskDefinition"):
            found = resolve(revisions, str(entry["taskDefinition"]))
            if found is not None:
                return found
    return None


def _annotate_template(obj: Mapping[str, Any], revision: Revision) -> dict[str, Any]:
    """Record the task definition on the pod template, so each ReplicaSet says which revision it runs."""
    result = dict(obj)
    if obj.get("kind") in WORKLOAD_KINDS:
        spec = dict(result["spec"])
        template = dict(spec["template"])
        extra = {
            **children.operator_docker_labels(revision.data),
            children.TASK_DEFINITION_ANNOTATION: revision.task_definition,
        }
        template["metadata"] = children.annotate_pod_metadata(template.get("metadata") or {}, extra)
        spec["template"] = template
        result["spec"] = spec
    return result


def _workload_view(
    workload: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], replica_sets: Sequence[Mapping[str, Any]]
) -> tuple[WorkloadView, str]:
    match_labels = (workload.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    selector = children.selector_string(match_labels)
    status = workload.get("status") or {}
    generation = workload["metadata"].get("generation", 0)
    observed = status.get("observedGeneration", 0) >= generation
    pods = [p for p in pods if _selected(p, match_labels)]
    replica_sets = [rs for rs in replica_sets if _selected(rs, match_labels)]
    revisions: list[RevisionView] = []
    if workload["kind"] == "Deployment":
        desired = int(workload["spec"].get("replicas", 1))
        # The newest ReplicaSet (highest revision; a rollback re-numbers the old one) is the rollout target.
        current_revision = max((_rs_revision(rs) for rs in replica_sets), default=0)
        for rs in replica_sets:
            rs_hash = (rs["metadata"].get("labels") or {}).get("pod-template-hash", rs["metadata"]["name"])
            primary = _rs_revision(rs) == current_revision
            replicas = int(rs["spec"].get("replicas") or 0)
            rs_pods = tuple(
                p for p in pods if (p["metadata"].get("labels") or {}).get("pod-template-hash") == rs_hash
            )
            if not primary and replicas == 0 and not any(not pod_is_terminating(p) for p in rs_pods):
                continue
            template_annotations = rs["spec"]["template"].get("metadata", {}).get("annotations") or {}
            revisions.append(
                RevisionView(
                    id=f"ecs-svc/{rs_hash}",
                    task_definition=str(template_annotations.get(children.TASK_DEFINITION_ANNOTATION, "")),
                    desired=replicas,
                    pods=rs_pods,
                    created_at=str(rs["metadata"].get("creationTimestamp", "")),
                    primary=primary,
                )
            )
        conditions = {c.get("type"): c for c in status.get("conditions") or ()}
        progressing = conditions.get("Progressing") or {}
        deadline = (
            progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded"
        )
        settled = (
            observed
            and int(status.get("updatedReplicas") or 0) == desired
            and int(status.get("availableReplicas") or 0) == desired
            and int(status.get("replicas") or 0) == desired
        )
    else:
        desired = int(status.get("desiredNumberScheduled") or 0)
        template_annotations = workload["spec"]["template"].get("metadata", {}).get("annotations") or {}
        task_definition = str(template_annotations.get(children.TASK_DEFINITION_ANNOTATION, ""))
        revisions.append(
            RevisionView(
                id=f"ecs-svc/{children.intent_hash({'td': task_definition})[:10]}",
                task_definition=task_definition,
                desired=desired,
                pods=tuple(pods),
                created_at=str(workload["metadata"].get("creationTimestamp", "")),
                primary=True,
            )
        )
        deadline = False
        settled = (
            observed
            and int(status.get("updatedNumberScheduled") or 0) == desired
            and int(status.get("numberAvailable") or 0) == desired
        )
    return WorkloadView(
        revisions=tuple(revisions), settled=settled, deadline_exceeded=deadline, desired=desired
    ), selector


def _selected(obj: Mapping[str, Any], match_labels: Mapping[str, str]) -> bool:
    found = obj.get("metadata", {}).get("labels") or {}
    return all(found.get(k) == v for k, v in match_labels.items())


def _rs_revision(replica_set: Mapping[str, Any]) -> int:
    value = (replica_set["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if str(value).isdigit() else 0


def _prune(
    namespace: str, name: str, owner_uid: str, keep: set[tuple[str, str]], known: ServiceChildren
) -> None:
    """Delete children of this service that the current translation no longer produces."""
    client = kube.shared()
    watched = known.decoded_cached()
    for kind in CHILD_KINDS:
        found = (
            [o for o in watched if o.get("kind") == kind]
            if kind in service_cache.PROJECTIONS
            else client.list(kind, namespace, {**MANAGED, labels.SERVICE: name})
        )
        for obj in found:
            owners = obj["metadata"].get("ownerReferences") or []
            if (kind, obj["metadata"]["name"]) in keep or not any(o.get("uid") == owner_uid for o in owners):
                continue
            client.delete(kind, obj["metadata"]["name"], namespace)


def _revisions_of(namespace: str, family: str) -> list[Revision]:
    return _revisions.get((namespace, family), lambda: RevisionStore(kube.shared()).list(namespace, family))


def _resolve(
    body: Mapping[str, Any], service: Mapping[str, Any], namespace: str
) -> tuple[Revision, Revision] | None:
    """(target, chosen): the revision the service names, and the one to run (the last COMPLETED one after
    a failed rollout with rollback). None when the task definition does not exist (reported)."""
    reference = str(service.get("taskDefinition") or "")
    revisions = _revisions_of(namespace, parse_reference(reference)[0])
    target = resolve(revisions, reference)
    if target is None:
        message = (
            f"taskDefinition: task definition {reference!r} not found in namespace {namespace} "
            "(no EcsTaskDefinition registered it, or its revisions are INACTIVE)"
        )
        report_spec_error(body, "TaskDefinitionNotFound", message, now())
        return None
    previous = body.get("status") or {}
    if _circuit_breaker(service)[1] and _failed_target(previous, target.task_definition):
        return target, _last_completed(previous, revisions) or target
    return target, target


def _forget(key: ServiceKey) -> None:
    _managed.discard(*key)
    _known_tasks.pop(key, None)
    _warned.pop(key, None)
    service_cache.forget_service(key)


def _set_finalizers(body: Mapping[str, Any], finalizers: list[str]) -> bool:
    """Write metadata.finalizers if the object is unchanged since `body` was read; False on a conflict."""
    metadata = body["metadata"]
    patch = {"metadata": {"finalizers": finalizers, "resourceVersion": metadata["resourceVersion"]}}
    try:
        updated = kube.shared().merge_patch(KIND, metadata["name"], metadata.get("namespace"), patch)
    except KubeError as error:
        if error.status == 409:
            return False
        raise
    if updated is not None:
        service_cache.remember_own_write((metadata.get("namespace", ""), metadata["name"]), updated)
    return updated is not None


def sync_service(key: ServiceKey, known: ServiceChildren) -> float | None:
    """Reconcile one service; returns the seconds after which to run again, or None."""
    namespace, name = key
    client = kube.shared()
    body = known.current_body(lambda: client.get(KIND, name, namespace))
    if body is None:
        _forget(key)
        return None
    _managed.add(namespace, name)
    if body["metadata"].get("deletionTimestamp"):
        return _drain(key, body, known)
    finalizers = list(body["metadata"].get("finalizers") or ())
    if DRAIN_FINALIZER not in finalizers and not _set_finalizers(body, [*finalizers, DRAIN_FINALIZER]):
        return 0.0
    from ecs_operator.api import SpecError, check_service_against_task_definition, parse_service
    from ecs_operator.translate import translate_service

    with metrics.observe(KIND):
        previous = body.get("status") or {}
        try:
            service = parse_service(body.get("spec") or {}).to_ecs()
        except SpecError as error:
            report_spec_error(body, "InvalidSpec", spec_error_message(error), now())
            return None
        resolved = _resolve(body, service, namespace)
        if resolved is None:
            return None
        target, chosen = resolved
        try:
            check_service_against_task_definition(service, chosen.data)
        except SpecError as error:
            report_spec_error(body, "InvalidSpec", spec_error_message(error), now())
            return None
        cluster, default_strategy = cluster_of_namespace(namespace)
        translation = translate_service(
            service,
            chosen.data,
            revision=chosen.number,
            cluster=cluster,
            namespace=namespace,
            name=name,
            owner=children.owner_reference(body),
            default_capacity_provider_strategy=default_strategy,
        )
        objects = [_annotate_template(o, chosen) for o in translation.objects]
        live, wrote = apply_children(objects, service_cache.live_lookup(namespace, known))
        _warn_not_mapped(body, translation.warnings)
        if wrote:
            for obj in live:
                service_cache.remember_applied(obj)
            if known.workloads or known.services:  # a first creation has nothing of its own to prune
                keep = {(o["kind"], o["metadata"]["name"]) for o in objects}
                _prune(namespace, name, body["metadata"]["uid"], keep, known)
            # The status follows once the children's controllers have reacted (their events trigger it);
            # the rerun makes sure it happens even if no event comes.
            return CHILD_DELAY_SECONDS * 2
        workload = next((o for o in live if o.get("kind") in WORKLOAD_KINDS), None)
        view, selector = (
            _workload_view(workload, known.decoded_pods(), known.decoded_replica_sets())
            if workload
            else (None, "")
        )
        breaker, rollback = _circuit_breaker(service)
        outcome = service_status(
            ServiceInputs(
                name=name,
                generation=body["metadata"].get("generation"),
                desired_count=int(service.get("desiredCount", 0) or 0),
                target_task_definition=target.task_definition,
                circuit_breaker=breaker,
                rollback=rollback,
                workload=view,
                previous={**previous, "selector": selector},
                known_tasks=_known_tasks.get(key, None if previous.get("deployments") else frozenset()),
            ),
            now(),
        )
        _known_tasks[key] = outcome.tasks
        for event_type, reason, message in outcome.events:
            client.post_event(body, reason, message, event_type)
        written = write_status(body, outcome.status)
        if written is not None:
            service_cache.remember_own_write(key, written)
        _remove_failed_tasks(view, namespace)
    if outcome.rollback_to and outcome.rollback_to != chosen.task_definition:
        log.info("%s/%s: rolling back to %s", namespace, name, outcome.rollback_to)
        return 0.0
    return None


def _drain(key: ServiceKey, body: Mapping[str, Any], known: ServiceChildren) -> float | None:
    """DRAINING while the tasks stop; the finalizer goes once none is left, then GC removes the rest."""
    namespace, name = key
    finalizers = list(body["metadata"].get("finalizers") or ())
    if DRAIN_FINALIZER not in finalizers:
        return None
    client = kube.shared()
    with metrics.observe(KIND):
        watched = known.decoded_cached()
        for kind in WORKLOAD_KINDS:
            for obj in watched:
                if obj.get("kind") == kind and not obj["metadata"].get("deletionTimestamp"):
                    client.delete(kind, obj["metadata"]["name"], namespace, propagation="Foreground")
        pods = known.decoded_pods()
        status, live_tasks = draining_status(
            name,
            body.get("status") or {},
            body["metadata"].get("generation"),
            pods,
            _known_tasks.get(key),
            now(),
        )
        _known_tasks[key] = live_tasks
        if (body.get("status") or {}).get("status") != "DRAINING":
            message = f"(service {name}) is DRAINING: stopping {len(pods)} tasks before it is deleted."
            client.post_event(body, "Draining", message)
        written = write_status(body, status)
        if written is not None:
            service_cache.remember_own_write(key, written)
            body = written
        if pods:
            return DRAIN_RETRY_SECONDS
        if not _set_finalizers(body, [f for f in finalizers if f != DRAIN_FINALIZER]):
            return 0.0
    _forget(key)
    return None


def _remove_failed_tasks(view: WorkloadView | None, namespace: str) -> None:
    """Failed tasks were counted in the status just written; remove them as ECS drops stopped tasks."""
    for revision_view in view.revisions if view else ():
        for pod in revision_view.pods:
            if newly_failed(pod):
                kube.shared().delete("Pod", pod["metadata"]["name"], namespace)


def _warn_not_mapped(body: Mapping[str, Any], warnings: Sequence[Any]) -> None:
    """One Event per generation listing the fields that cannot be mapped (never silently dropped)."""
    if not warnings:
        return
    metadata = body["metadata"]
    text = "; ".join(f"{w.path}: {w.message}" for w in warnings)
    key = (metadata.get("namespace", ""), metadata["name"])
    marker = (int(metadata.get("generation") or 0), text)
    if _warned.get(key) == marker:
        return
    _warned[key] = marker
    kube.shared().post_event(body, "NotMapped", text, "Warning")


scheduler: Scheduler[ServiceKey] = Scheduler(
    "ecs-service-sync",
    sync_service,
    service_cache.snapshot,
    workers=SYNC_WORKERS,
    delay=CHILD_DELAY_SECONDS,
    ready=service_cache.synced,
)


def resync(namespace: str, name: str) -> None:
    scheduler.touch((namespace, name), 0.0)


def resync_services_of_family(namespace: str, family: str) -> None:
    _revisions.invalidate((namespace, family))
    for body in kube.shared().list(KIND, namespace):
        reference = str((body.get("spec") or {}).get("taskDefinition") or "")
        if parse_reference(reference)[0] == family:
            resync(namespace, body["metadata"]["name"])


@kopf.on.startup()
async def start_service_syncs(**_: Any) -> None:
    scheduler.start()
    loop = asyncio.get_running_loop()

    def changed(key: ServiceKey, namespace: str) -> None:  # on an informer's thread
        loop.call_soon_threadsafe(_child_changed, key, namespace)

    service_cache.start_informers(changed)


@kopf.on.cleanup()
async def stop_service_syncs(**_: Any) -> None:
    service_cache.stop_informers()
    await scheduler.stop()


@kopf.on.event(GROUP, VERSION, PLURAL)
async def service_changed(
    event: Mapping[str, Any], body: kopf.Body, namespace: str | None, name: str | None, **kwargs: Any
) -> None:
    """Sync at once when the spec is new or the service is being deleted; skip the echo of own writes."""
    service_cache.capture(kwargs)
    if not name:
        return
    key = (namespace or "", name)
    metadata = body.get("metadata") or {}
    if event.get("type") == "DELETED":
        _seen_generations.pop(key, None)
        scheduler.touch(key, 0.0)
        return
    if service_cache.own_write_seen(key, metadata.get("resourceVersion")):
        return
    generation = metadata.get("generation")
    changed = _seen_generations.get(key, -1) != generation or bool(metadata.get("deletionTimestamp"))
    _seen_generations[key] = generation
    scheduler.touch(key, 0.0 if changed else None)


def _child_changed(key: ServiceKey, namespace: str) -> None:
    """A child changed (called on the loop): sync its service, and let the cluster recount."""
    scheduler.touch(key)
    cluster.counts_changed(namespace)
