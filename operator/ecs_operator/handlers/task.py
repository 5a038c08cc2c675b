"""EcsTask (RunTask) -> `count` Pods, restartPolicy Never; status per task with ECS's lifecycle.

Pods are created once and never re-applied (a stopped task is not restarted, as in ECS). When an
essential container exits the task stops (its Pod is deleted if sidecars still run). `spec.desiredStatus:
STOPPED` stops every task (UserInitiated). Each task's record stays in status after its Pod is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from ecs_operator import children, kube, labels, metrics
from ecs_operator.handlers._common import (
    GROUP,
    VERSION,
    apply_children,
    cluster_of_namespace,
    log,
    report_spec_error,
    spec_error_message,
    write_status,
)
from ecs_operator.handlers._sync import Coalescer, now
from ecs_operator.revisions import RevisionStore, parse_reference, resolve
from ecs_operator.status import (
    essential_exited,
    merge_conditions,
    pod_is_terminating,
    pod_phase,
    task_conditions,
    task_entry,
)

KIND = "EcsTask"
PLURAL = "ecstasks"

_sync = Coalescer()
_managed = metrics.ManagedSet(KIND)


def essential_containers(taskdef: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(
        str(c["name"])
        for c in taskdef.get("containerDefinitions") or ()
        if c.get("essential", True) is not False
    )


def task_arn(
    cluster: str, pod: Mapping[str, Any] | None, previous: Mapping[str, Any] | None, name: str
) -> str:
    if previous and previous.get("taskArn"):
        return str(previous["taskArn"])
    uid = str((pod or {}).get("metadata", {}).get("uid") or name).replace("-", "")
    return f"arn:aws:ecs:local:000000000000:task/{cluster}/{uid}"


def sync_task(namespace: str, name: str) -> None:
    client = kube.shared()
    body = client.get(KIND, name, namespace)
    if body is None or body["metadata"].get("deletionTimestamp"):
        _managed.discard(namespace, name)
        return
    _managed.add(namespace, name)
    from ecs_operator.api import SpecError, parse_task
    from ecs_operator.translate import translate_task

    with metrics.observe(KIND):
        previous = body.get("status") or {}
        raw_spec = body.get("spec") or {}
        try:
            spec = parse_task(raw_spec)
        except SpecError as error:
            report_spec_error(body, "InvalidSpec", spec_error_message(error), now())
            return
        task = spec.to_ecs()
        user_stopped = (
            str(raw_spec.get("desiredStatus") or task.get("desiredStatus") or "").upper() == "STOPPED"
        )
        known = {str(t.get("podName")): t for t in previous.get("tasks") or ()}
        # Tasks already started keep the revision they started with, as in ECS.
        reference = str((known and previous.get("taskDefinition")) or task.get("taskDefinition") or "")
        family, _ = parse_reference(reference)
        revision = resolve(RevisionStore(client).list(namespace, family), reference)
        if revision is None and not known:
            message = (
                f"taskDefinition: task definition {reference!r} not found in namespace {namespace} "
                "(no EcsTaskDefinition registered it, or its revisions are INACTIVE)"
            )
            report_spec_error(body, "TaskDefinitionNotFound", message, now())
            return
        cluster, default_strategy = cluster_of_namespace(namespace)
        taskdef = revision.data if revision is not None else {}
        essential = essential_containers(taskdef)
        if revision is not None:
            translation = translate_task(
                task,
                taskdef,
                revision=revision.number,
                cluster=cluster,
                namespace=namespace,
                name=name,
                owner=children.owner_reference(body),
                default_capacity_provider_strategy=default_strategy,
            )
            extra = children.operator_docker_labels(taskdef)
            pods_wanted = [
                {**o, "metadata": children.annotate_pod_metadata(o["metadata"], extra)}
                for o in translation.objects
                if o.get("kind") == "Pod"
            ]
            others = [o for o in translation.objects if o.get("kind") != "Pod"]
        else:
            pods_wanted, others = [], []
        if not user_stopped:
            apply_children(others)
        entries = []
        for wanted in pods_wanted:
            pod_name = wanted["metadata"]["name"]
            pod = client.get("Pod", pod_name, namespace)
            before = known.get(pod_name)
            if pod is None and before is None and not user_stopped:
                created, _ = apply_children([wanted])
                pod = created[0]
            if (
                pod is not None
                and not pod_is_terminating(pod)
                and pod_phase(pod) not in ("Succeeded", "Failed")
            ):
                if user_stopped or essential_exited(pod, essential):
                    client.delete("Pod", pod_name, namespace)
            entries.append(
                task_entry(
                    pod,
                    essential,
                    user_stopped,
                    before,
                    task_arn(cluster, pod, before, pod_name),
                    pod_name,
                    now(),
                )
            )
        generation = body["metadata"].get("generation")
        conditions = task_conditions(entries, essential, generation, cluster)
        status: dict[str, Any] = {
            "observedGeneration": generation,
            "tasks": entries,
            "conditions": merge_conditions(previous.get("conditions"), conditions, now()),
        }
        if revision is not None:
            status["taskDefinition"] = revision.task_definition
        _post_transitions(body, previous, status)
        write_status(body, status)


def _post_transitions(
    body: Mapping[str, Any], previous: Mapping[str, Any], status: Mapping[str, Any]
) -> None:
    """Events on the EcsTask when a task changes lastStatus (RUNNING, STOPPED) or cannot be placed."""
    before = {t.get("podName"): t for t in previous.get("tasks") or ()}
    client = kube.shared()
    for entry in status["tasks"]:
        old = before.get(entry["podName"]) or {}
        if old.get("lastStatus") == entry.get("lastStatus"):
            continue
        state = entry.get("lastStatus")
        if state == "STOPPED":
            message = (
                f"Task {entry['podName']} STOPPED: {entry.get('stopCode')}: {entry.get('stoppedReason')}."
            )
            client.post_event(body, "TaskStopped", message)
        elif state == "RUNNING":
            client.post_event(body, "TaskRunning", f"Task {entry['podName']} is RUNNING.")
    degraded: Mapping[str, Any] = next((c for c in status["conditions"] if c["type"] == "Degraded"), {})
    old_degraded: Mapping[str, Any] = next(
        (c for c in previous.get("conditions") or () if c.get("type") == "Degraded"), {}
    )
    if degraded.get("status") == "True" and old_degraded.get("reason") != degraded.get("reason"):
        client.post_event(body, str(degraded["reason"]), str(degraded["message"]), "Warning")
        log.warning("EcsTask %s: %s", body["metadata"]["name"], degraded["message"])


def resync(namespace: str, name: str) -> None:
    _sync.run((namespace, name), lambda: sync_task(namespace, name))


def resync_tasks_of_family(namespace: str, family: str) -> None:
    """Tasks waiting for this family's first revision start once it is registered."""
    for body in kube.shared().list(KIND, namespace):
        reference = str((body.get("spec") or {}).get("taskDefinition") or "")
        if parse_reference(reference)[0] == family and not (body.get("status") or {}).get("tasks"):
            resync(namespace, body["metadata"]["name"])


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.on.resume(GROUP, VERSION, PLURAL)
def reconcile_task(namespace: str | None, name: str, **_: Any) -> None:
    namespace = namespace or ""
    resync(namespace, name)


@kopf.on.event(
    "", "v1", "pods", labels={labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.TASK: kopf.PRESENT}
)
def task_pod_changed(body: kopf.Body, namespace: str | None, **_: Any) -> None:
    task = (body.meta.labels or {}).get(labels.TASK)
    if namespace and task:
        resync(namespace, task)


@kopf.on.delete(GROUP, VERSION, PLURAL, optional=True)
def forget_task(namespace: str | None, name: str, **_: Any) -> None:
    namespace = namespace or ""
    _managed.discard(namespace, name)
