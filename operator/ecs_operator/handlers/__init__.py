"""kopf handlers, one module per kind; importing this package registers them all."""

from ecs_operator.handlers import (
    cluster,
    cluster_counts,
    service,
    service_cache,
    settings,
    task,
    taskdefinition,
)

__all__ = ["cluster", "cluster_counts", "service", "service_cache", "settings", "task", "taskdefinition"]
