"""A container instance's desired ECS state (`labels.INSTANCE_DESIRED_STATUS` on its Node), as ECS drains:

- DRAINING: the Node is cordoned (no new task lands there); the service tasks on it are replaced elsewhere
  within each service's deployment configuration: at most `running - ceil(desired * minimumHealthyPercent
  / 100)` of a service's tasks stop at a time, counting every task of it already stopping or starting.
  With `minimumHealthyPercent` 100 and `maximumPercent` above 100, one task at a time may stop, once no
  other task of that service is stopping or starting: its replacement starts at once (ECS starts it first;
  a Deployment can only replace a task after it is gone). Standalone tasks are left to finish, and so are
  daemon tasks (their DaemonSet would start them on the same Node again): only the services given count.
- ACTIVE: the Node is uncordoned.
- no annotation: nothing (a Node cordoned with `kubectl cordon` reads DRAINING and is left as it is).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.status.pods import PENDING, RUNNING, STOPPED, STOPPING, task_state

DRAIN_REASON = "Container instance is draining."
SCHEDULER_INITIATED = "ServiceSchedulerInitiated"


@dataclass(frozen=True)
class ServiceView:
    """One service with tasks on the instance: its configuration and all of its tasks, wherever they run."""

    desired: int
    minimum_healthy_percent: int
    maximum_percent: int
    running: int  # Running, not stopping
    in_flight: int  # stopping or not Running yet (replacements)


@dataclass(frozen=True)
class InstancePlan:
    unschedulable: bool | None  # the Node's spec.unschedulable to write, None to leave it
    stop: list[str] = field(default_factory=list)  # Pods to stop now (drain)

    @staticmethod
    def pod_annotations() -> dict[str, str]:
        return {labels.STOP_CODE: SCHEDULER_INITIATED, labels.STOPPED_REASON: DRAIN_REASON}


def desired_status(node: Mapping[str, Any]) -> str | None:
    value = ((node.get("metadata") or {}).get("annotations") or {}).get(labels.INSTANCE_DESIRED_STATUS)
    return str(value) if value in ("ACTIVE", "DRAINING") else None


def service_view(spec: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> ServiceView:
    config = spec.get("deploymentConfiguration") or {}
    states = [task_state(pod) for pod in pods]
    running = states.count(RUNNING)
    in_flight = states.count(PENDING) + states.count(STOPPING)
    return ServiceView(
        desired=int(spec.get("desiredCount") or 0),
        minimum_healthy_percent=int(config.get("minimumHealthyPercent", 100)),
        maximum_percent=int(config.get("maximumPercent", 200)),
        running=running,
        in_flight=in_flight,
    )


def stoppable(view: ServiceView) -> int:
    """How many of the service's tasks may stop now."""
    minimum = math.ceil(view.desired * view.minimum_healthy_percent / 100)
    allowed = view.running - minimum - view.in_flight
    if allowed <= 0 and view.maximum_percent > 100 and view.in_flight == 0 and view.running > 0:
        return 1
    return max(allowed, 0)


def plan(
    node: Mapping[str, Any],
    pods_on_node: Sequence[Mapping[str, Any]],
    services: Mapping[str, ServiceView],
) -> InstancePlan:
    """`pods_on_node`: the task Pods on this Node; `services`: the views of the services they belong to,
    by service name (the `labels.SERVICE` label of their Pods)."""
    status = desired_status(node)
    cordoned = bool((node.get("spec") or {}).get("unschedulable"))
    if status == "ACTIVE":
        return InstancePlan(unschedulable=False if cordoned else None)
    if status != "DRAINING":
        return InstancePlan(unschedulable=None)
    stop: list[str] = []
    budget = {name: stoppable(view) for name, view in services.items()}
    for pod in sorted(pods_on_node, key=lambda p: str((p.get("metadata") or {}).get("name"))):
        metadata = pod.get("metadata") or {}
        service = (metadata.get("labels") or {}).get(labels.SERVICE)
        if not service or task_state(pod) in (STOPPING, STOPPED) or budget.get(service, 0) <= 0:
            continue
        stop.append(str(metadata["name"]))
        budget[service] -= 1
    return InstancePlan(unschedulable=None if cordoned else True, stop=stop)
