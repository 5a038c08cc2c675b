"""EcsService -> Deployment (or DaemonSet for DAEMON) + Service; status as ECS's Service.

One level-triggered `sync_service` runs for every trigger: the custom resource changed, a child
(Deployment, DaemonSet, ReplicaSet, Pod, Service) changed, or the task definition got a new revision.
It applies only what differs, and writes status only when the computed status differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from ecs_operator import children, kube, labels, metrics
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
from ecs_operator.handlers._sync import Coalescer, now
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
DRAIN_RETRY_SECONDS = 2

_sync = Coalescer()
_managed = metrics.ManagedSet(KIND)
_known_tasks: dict[tuple[str, str], frozenset[str]] = {}


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


def _workload_view(workload: Mapping[str, Any], namespace: str) -> tuple[WorkloadView, str]:
    client = kube.shared()
    match_labels = (workload.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    selector = children.selector_string(match_labels)
    pods = client.list("Pod", namespace, match_labels)
    status = workload.get("status") or {}
    generation = workload["metadata"].get("generation", 0)
    observed = status.get("observedGeneration", 0) >= generation
    revisions: list[RevisionView] = []
    if workload["kind"] == "Deployment":
        desired = int(workload["spec"].get("replicas", 1))
        replica_sets = client.list("ReplicaSet", namespace, match_labels)
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


def _rs_revision(replica_set: Mapping[str, Any]) -> int:
    value = (replica_set["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if str(value).isdigit() else 0


def _prune(namespace: str, name: str, owner_uid: str, keep: set[tuple[str, str]]) -> None:
    """Delete children of this service that the current translation no longer produces."""
    client = kube.shared()
    for kind in CHILD_KINDS:
        for obj in client.list(kind, namespace, {**MANAGED, labels.SERVICE: name}):
            owners = obj["metadata"].get("ownerReferences") or []
            if (kind, obj["metadata"]["name"]) in keep or not any(o.get("uid") == owner_uid for o in owners):
                continue
            client.delete(kind, obj["metadata"]["name"], namespace)


def _resolve(
    body: Mapping[str, Any], service: Mapping[str, Any], namespace: str
) -> tuple[Revision, Revision] | None:
    """(target, chosen): the revision the service names, and the one to run (the last COMPLETED one after
    a failed rollout with rollback). None when the task definition does not exist (reported)."""
    reference = str(service.get("taskDefinition") or "")
    revisions = RevisionStore(kube.shared()).list(namespace, parse_reference(reference)[0])
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


def sync_service(namespace: str, name: str) -> None:
    client = kube.shared()
    body = client.get(KIND, name, namespace)
    key = (namespace, name)
    if body is None:
        _managed.discard(namespace, name)
        _known_tasks.pop(key, None)
        return
    _managed.add(namespace, name)
    if body["metadata"].get("deletionTimestamp"):
        return
    from ecs_operator.api import SpecError, parse_service
    from ecs_operator.translate import translate_service

    with metrics.observe(KIND):
        previous = body.get("status") or {}
        try:
            service = parse_service(body.get("spec") or {}).to_ecs()
        except SpecError as error:
            report_spec_error(body, "InvalidSpec", spec_error_message(error), now())
            return
        resolved = _resolve(body, service, namespace)
        if resolved is None:
            return
        target, chosen = resolved
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
        live, wrote = apply_children(objects)
        if wrote:
            _prune(
                namespace,
                name,
                body["metadata"]["uid"],
                {(o["kind"], o["metadata"]["name"]) for o in objects},
            )
        workload = next((o for o in live if o.get("kind") in WORKLOAD_KINDS), None)
        view, selector = _workload_view(workload, namespace) if workload else (None, "")
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
        _warn_not_mapped(body, translation.warnings)
        write_status(body, outcome.status)
        _remove_failed_tasks(view, namespace)
    if outcome.rollback_to and outcome.rollback_to != chosen.task_definition:
        log.info("%s/%s: rolling back to %s", namespace, name, outcome.rollback_to)
        sync_service(namespace, name)


def _remove_failed_tasks(view: WorkloadView | None, namespace: str) -> None:
    """Failed tasks were counted in the status just written; remove them as ECS drops stopped tasks."""
    for revision_view in view.revisions if view else ():
        for pod in revision_view.pods:
            if newly_failed(pod):
                kube.shared().delete("Pod", pod["metadata"]["name"], namespace)


_warned: dict[tuple[str, str], tuple[int, str]] = {}


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


def resync(namespace: str, name: str) -> None:
    _sync.run((namespace, name), lambda: sync_service(namespace, name))


def resync_services_of_family(namespace: str, family: str) -> None:
    for body in kube.shared().list(KIND, namespace):
        reference = str((body.get("spec") or {}).get("taskDefinition") or "")
        if parse_reference(reference)[0] == family:
            resync(namespace, body["metadata"]["name"])


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.on.resume(GROUP, VERSION, PLURAL)
def reconcile_service(namespace: str | None, name: str, **_: Any) -> None:
    namespace = namespace or ""
    resync(namespace, name)


def _child_changed(body: kopf.Body, namespace: str | None, **_: Any) -> None:
    service = (body.meta.labels or {}).get(labels.SERVICE)
    if namespace and service:
        resync(namespace, service)


for _kind_group, _kind_version, _plural in (
    ("apps", "v1", "deployments"),
    ("apps", "v1", "daemonsets"),
    ("apps", "v1", "replicasets"),
    ("", "v1", "pods"),
    ("", "v1", "services"),
):
    kopf.on.event(
        _kind_group,
        _kind_version,
        _plural,
        labels={labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.SERVICE: kopf.PRESENT},
        id=f"service-child-{_plural}",
    )(_child_changed)


@kopf.on.delete(GROUP, VERSION, PLURAL)
def drain_service(namespace: str | None, name: str, **_: Any) -> None:
    """DRAINING while the tasks stop; the finalizer goes once none is left, then GC removes the rest."""
    namespace = namespace or ""
    client = kube.shared()
    body = client.get(KIND, name, namespace)
    if body is None:
        return
    with metrics.observe(KIND):
        for kind in WORKLOAD_KINDS:
            for obj in client.list(kind, namespace, {**MANAGED, labels.SERVICE: name}):
                if not obj["metadata"].get("deletionTimestamp"):
                    client.delete(kind, obj["metadata"]["name"], namespace, propagation="Foreground")
        pods = client.list("Pod", namespace, {**MANAGED, labels.SERVICE: name})
        key = (namespace, name)
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
        write_status(body, status)
        if pods:
            raise kopf.TemporaryError(
                f"draining: {len(pods)} tasks still stopping", delay=DRAIN_RETRY_SECONDS
            )
    _known_tasks.pop((namespace, name), None)
    _managed.discard(namespace, name)
