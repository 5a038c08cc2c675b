"""kopf handlers, one module per kind; importing this package registers them all."""

from ecs_operator.handlers import cluster, service, service_cache, settings, task, taskdefinition

__all__ = ["cluster", "service", "service_cache", "settings", "task", "taskdefinition"]
