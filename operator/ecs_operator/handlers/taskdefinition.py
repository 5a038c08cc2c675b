"""EcsTaskDefinition -> immutable revisions (ControllerRevisions); a new revision rolls the services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from ecs_operator import kube, metrics
from ecs_operator.handlers._common import (
    GROUP,
    VERSION,
    log,
    report_spec_error,
    spec_error_message,
    write_status,
)
from ecs_operator.handlers._sync import Coalescer, now
from ecs_operator.revisions import (
    DEREGISTER_ANNOTATION,
    DeregisterError,
    Registration,
    RevisionStore,
    parse_deregistered,
)
from ecs_operator.status import DEGRADED, PROGRESSING, READY, condition, merge_conditions

KIND = "EcsTaskDefinition"
PLURAL = "ecstaskdefinitions"

_sync = Coalescer()
_managed = metrics.ManagedSet(KIND)


def _status(body: Mapping[str, Any], family: str, registration: Registration) -> dict[str, Any]:
    previous = body.get("status") or {}
    generation = body["metadata"].get("generation")
    revisions = registration.revisions
    latest = max(r.number for r in revisions)
    active = [r.number for r in revisions if r.active]
    inactive = [r.number for r in revisions if not r.active]
    message = f"{family}:{latest} registered; ACTIVE revisions: {', '.join(map(str, active)) or 'none'}."
    conditions = [
        condition(READY, True, "Registered", message, generation),
        condition(PROGRESSING, False, "Registered", message, generation),
        condition(DEGRADED, False, "Registered", message, generation),
    ]
    return {
        "observedGeneration": generation,
        "family": family,
        "latestRevision": latest,
        "taskDefinition": f"{family}:{latest}",
        "activeRevisions": active,
        "inactiveRevisions": inactive,
        "conditions": merge_conditions(previous.get("conditions"), conditions, now()),
    }


def sync_task_definition(namespace: str, name: str) -> Registration | None:
    body = kube.shared().get(KIND, name, namespace)
    if body is None or body["metadata"].get("deletionTimestamp"):
        _managed.discard(namespace, name)
        return None
    _managed.add(namespace, name)
    from ecs_operator.api import SpecError, parse_task_definition

    with metrics.observe(KIND):
        try:
            spec = parse_task_definition(body.get("spec") or {})
            deregistered = parse_deregistered(
                (body["metadata"].get("annotations") or {}).get(DEREGISTER_ANNOTATION)
            )
        except SpecError as error:
            report_spec_error(body, "InvalidSpec", spec_error_message(error), now())
            return None
        except DeregisterError as error:
            report_spec_error(body, "InvalidDeregistration", str(error), now())
            return None
        data = spec.to_ecs()
        family = str(data["family"])
        registration = RevisionStore(kube.shared()).register(body, family, data, deregistered)
        if registration.registered is not None:
            message = f"Registered task definition {registration.registered.task_definition}."
            kube.shared().post_event(body, "Registered", message)
            log.info("%s/%s: %s", namespace, name, message)
            _report_not_mapped(body, data, registration.registered.number, namespace)
        for revision in registration.changed_status:
            state = "ACTIVE" if revision.number not in deregistered else "INACTIVE"
            message = f"Task definition {revision.task_definition} is now {state}."
            kube.shared().post_event(body, "Deregistered" if state == "INACTIVE" else "Reactivated", message)
        write_status(body, _status(body, family, registration))
    if registration.registered is not None or registration.changed_status:
        _resync_services(namespace, family)
    return registration


def _report_not_mapped(body: Mapping[str, Any], data: Mapping[str, Any], number: int, namespace: str) -> None:
    """Members Kubernetes cannot honour are reported once per revision (never silently dropped)."""
    from ecs_operator.translate import translate_task_definition

    translation = translate_task_definition(data, revision=number, cluster=namespace, namespace=namespace)
    if translation.warnings:
        text = "; ".join(f"{w.path}: {w.message}" for w in translation.warnings)
        kube.shared().post_event(body, "NotMapped", text, "Warning")


def _resync_services(namespace: str, family: str) -> None:
    """Services that name this family (by `family`, `family:N` or ARN) pick up the new revision; tasks
    that were waiting for it start."""
    from ecs_operator.handlers.service import resync_services_of_family
    from ecs_operator.handlers.task import resync_tasks_of_family

    resync_services_of_family(namespace, family)
    resync_tasks_of_family(namespace, family)


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.on.resume(GROUP, VERSION, PLURAL)
def reconcile_task_definition(namespace: str | None, name: str, **_: Any) -> None:
    ns = namespace or ""
    _sync.run((ns, name), lambda: sync_task_definition(ns, name))


def deregistration_pending(body: Mapping[str, Any]) -> bool:
    """The deregister annotation asks for other INACTIVE revisions than the status shows."""
    status = body.get("status") or {}
    if not status.get("latestRevision"):
        return False
    annotation = (body.get("metadata", {}).get("annotations") or {}).get(DEREGISTER_ANNOTATION)
    try:
        wanted = parse_deregistered(annotation)
    except DeregisterError:
        return not _degraded(status)
    known = set(status.get("activeRevisions") or ()) | set(status.get("inactiveRevisions") or ())
    return set(status.get("inactiveRevisions") or ()) != wanted & known or _degraded(status)


def _degraded(status: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Degraded" and c.get("status") == "True" for c in status.get("conditions") or ()
    )


@kopf.on.event(GROUP, VERSION, PLURAL)
def deregistration_changed(body: kopf.Body, namespace: str | None, name: str | None, **_: Any) -> None:
    """kopf's diff covers the spec only, so the deregister annotation is watched here."""
    if namespace and name and not body.meta.get("deletionTimestamp") and deregistration_pending(body):
        _sync.run((namespace, name), lambda: sync_task_definition(namespace, name))


@kopf.on.delete(GROUP, VERSION, PLURAL, optional=True)
def forget_task_definition(namespace: str | None, name: str, **_: Any) -> None:
    namespace = namespace or ""
    _managed.discard(namespace, name)
