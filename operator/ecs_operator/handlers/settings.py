"""The one place where kopf is configured.

State kopf keeps lives in annotations of the custom resources under our API group
(`ecs.operator.dev/last-handled-configuration` and `ecs.operator.dev/<handler id>` while a handler is
retrying), never in `spec`, so Git (Argo CD) diffs of the specs stay clean: Argo CD compares only the fields
the manifests in Git set, and these annotations are not among them. See docs/operator.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import kopf

from ecs_operator import API_GROUP, labels

FINALIZER = f"{API_GROUP}/finalizer"
MAX_WORKERS = 32
WATCH_SERVER_TIMEOUT = 300
# kopf watches only the Pods of standalone tasks (the children of services have their own informers),
# filtered by the API server.
KOPF_POD_SELECTOR = f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE},{labels.TASK}"


# The kinds with kopf create/update handlers: the only ones whose diff base kopf ever compares or stores.
CHANGE_HANDLED_KINDS = frozenset({"EcsCluster", "EcsTaskDefinition", "EcsTask"})


class ChangeHandledKindsDiffBase(kopf.AnnotationsDiffBaseStorage):
    """kopf builds a diff base (a deep copy of the whole body) for every watch event of every kind, but
    uses it only for kinds with create/update handlers; for the rest (children, EcsServices) skip the copy,
    about a sixth of the operator's CPU with a thousand services (py-spy, docs/performance.md)."""

    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> kopf.BodyEssence:
        if body.get("kind") not in CHANGE_HANDLED_KINDS:
            return kopf.BodyEssence()
        return super().build(body=body, extra_fields=extra_fields)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=API_GROUP)
    settings.persistence.diffbase_storage = ChangeHandledKindsDiffBase(
        prefix=API_GROUP, key="last-handled-configuration"
    )
    # Only problems become Kubernetes Events from kopf itself; our own Events come from kube.post_event.
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.client_timeout = WATCH_SERVER_TIMEOUT + 30
    # Handlers are synchronous (the Kubernetes client); 1000 objects need more threads than the default.
    settings.execution.max_workers = MAX_WORKERS
    settings.watching.label_selectors["v1", "pods"] = KOPF_POD_SELECTOR
    settings.queueing.error_delays = (1, 2, 5, 10, 20, 30)
