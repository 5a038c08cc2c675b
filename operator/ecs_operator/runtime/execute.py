"""Performs a plan's writes, in the one order every kind uses, and remembers them as stand-ins.

Order: a finalizer the plan adds comes first (so a deletion cannot slip between the children and it), then
the children are applied, other objects patched (a Pod's stop reason before it is deleted) and children
deleted, the Events posted and the status patched where it differs; a finalizer the plan removes comes last,
once everything else is done.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_operator.kube import Kube, KubeError
from ecs_operator.plans.plan import Plan
from ecs_operator.runtime.queue import Result, requeue
from ecs_operator.runtime.writes import OwnWrites

log = logging.getLogger("ecs_operator.runtime")


def status_patch(previous: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch turning `previous` into `desired` at the top level ({} when they are equal)."""
    before = dict(previous or {})
    patch: dict[str, Any] = {key: value for key, value in desired.items() if before.get(key) != value}
    for key in before:
        if key not in desired:
            patch[key] = None
    return patch


def _set_finalizers(
    client: Kube, writes: OwnWrites, body: Mapping[str, Any], finalizers: tuple[str, ...]
) -> Mapping[str, Any] | None:
    """Write metadata.finalizers if the object is unchanged since `body` was read; None on a conflict."""
    metadata = body["metadata"]
    patch = {"metadata": {"finalizers": list(finalizers), "resourceVersion": metadata["resourceVersion"]}}
    try:
        updated = client.merge_patch(body["kind"], metadata["name"], metadata.get("namespace"), patch)
    except KubeError as error:
        if error.status == 409:
            return None
        raise
    if updated is not None:
        writes.wrote(updated)
    return updated if updated is not None else body


class UndeclaredWrite(Exception):
    """A plan wrote outside its controller's declaration: a bug, refused before any write."""


def check_declared(
    plan: Plan,
    applies: Sequence[str],
    deletes: Sequence[str],
    finalizers: Sequence[str],
    patches: Sequence[str] = (),
) -> None:
    wrong = [f"apply {o['kind']}" for o in plan.apply if o["kind"] not in applies]
    wrong += [f"patch {p.kind}" for p in plan.patches if p.kind not in patches]
    wrong += [f"delete {d.kind}" for d in plan.delete if d.kind not in deletes]
    if plan.finalizers is not None:
        changed = set(plan.finalizers) ^ set(plan.body["metadata"].get("finalizers") or ())
        wrong += [f"finalizer {f}" for f in sorted(changed - set(finalizers))]
    if wrong:
        raise UndeclaredWrite(
            f"{plan.body['kind']} plan writes what its controller does not declare: {wrong}"
        )


def execute(plan: Plan, client: Kube, writes: OwnWrites) -> Result:
    body = plan.body
    metadata = body["metadata"]
    current = tuple(metadata.get("finalizers") or ())
    adds = plan.finalizers is not None and not set(plan.finalizers) <= set(current)
    if plan.finalizers is not None and adds:
        updated = _set_finalizers(client, writes, body, plan.finalizers)
        if updated is None:
            return requeue(0.0)  # changed meanwhile: plan again on what is there now
        body = updated
    for obj in plan.apply:
        writes.applied(client.apply(obj))
    for change in plan.patches:
        client.merge_patch(change.kind, change.name, change.namespace or None, change.patch)
    for deletion in plan.delete:
        client.delete(deletion.kind, deletion.name, deletion.namespace or None, deletion.propagation)
        writes.deleted((deletion.kind, deletion.namespace, deletion.name))
    for event in plan.events:
        client.post_event(body, event.reason, event.message, event.type)
    if plan.status is not None:
        patch = status_patch(body.get("status"), plan.status)
        if patch:
            written = client.patch_status(body["kind"], metadata["name"], metadata.get("namespace"), patch)
            if written is not None:
                writes.wrote(written)
                body = written
    if plan.finalizers is not None and not adds and plan.finalizers != current:
        if _set_finalizers(client, writes, body, plan.finalizers) is None:
            return requeue(0.0)
    return Result(plan.requeue_after)
