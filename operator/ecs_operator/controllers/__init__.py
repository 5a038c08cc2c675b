"""The operator's controllers, one module per kind (gather a snapshot, plan in pure code), and what they
watch (`sources`). `ecs_operator.run` starts them in the controller runtime (`ecs_operator.runtime`)."""

from __future__ import annotations

from typing import Any

from ecs_operator.controllers import cluster, container_instance, service, task, taskdefinition
from ecs_operator.runtime import Controller

CONTROLLERS: tuple[Controller[Any], ...] = (
    cluster.CONTROLLER,
    taskdefinition.CONTROLLER,
    service.CONTROLLER,
    task.CONTROLLER,
    container_instance.CONTROLLER,
)
