"""The operator's controllers, one module per kind; importing this package registers them with the runtime,
and registers with kopf the startup and cleanup that run the runtime and the probe that reports on it.

kopf runs the process (signals, startup and cleanup, the liveness endpoint, logging); the watches, queues
and workers are the runtime's (`ecs_operator.runtime`), which the ECS API and the console share.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from ecs_operator import kube
from ecs_operator.controllers import cluster, container_instance, service, task, taskdefinition
from ecs_operator.controllers.sources import SOURCES
from ecs_operator.runtime import Caches, Runtime
from ecs_operator.runtime.caches import namespace_filter
from ecs_operator.runtime.controller import REGISTRY

__all__ = ["cluster", "container_instance", "service", "task", "taskdefinition"]


def build_runtime(namespaces: list[str]) -> Runtime:
    """The operator's runtime: every registered controller over the operator's sources."""
    caches = Caches(SOURCES, serves=namespace_filter(namespaces))
    return Runtime(list(REGISTRY.values()), SOURCES, kube.shared(), caches=caches)


@kopf.on.startup()
async def start_runtime(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # Only problems become Kubernetes Events from kopf itself; the operator's own come from its plans.
    settings.posting.level = logging.WARNING
    memo.runtime = build_runtime(list(memo.get("namespaces") or ()))
    memo.runtime.start()


@kopf.on.cleanup()
async def stop_runtime(memo: kopf.Memo, **_: Any) -> None:
    runtime: Runtime | None = memo.get("runtime")
    if runtime is not None:
        runtime.stop()
        await asyncio.get_running_loop().run_in_executor(None, runtime.join)


@kopf.on.probe(id="runtime")
def runtime_probe(memo: kopf.Memo, **_: Any) -> dict[str, Any]:
    runtime: Runtime | None = memo.get("runtime")
    return {"synced": runtime.synced(), "pending": runtime.pending()} if runtime is not None else {}
