"""Container instances (Nodes labelled `ecs.operator.dev/cluster`) and their desired ECS status.

`labels.INSTANCE_DESIRED_STATUS` (UpdateContainerInstancesState, or `kubectl annotate`): DRAINING cordons
the Node and stops its service tasks a few at a time, within each service's deployment configuration, so
their ReplicaSets start them elsewhere; standalone tasks are left to finish; ACTIVE uncordons it. The plan
is `plans.container_instance`; a Node without the annotation is left alone (a `kubectl cordon` stays).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_operator import labels
from ecs_operator.controllers.sources import node_of
from ecs_operator.naming import label_value
from ecs_operator.plans import container_instance
from ecs_operator.runtime import Controller, Deletion, Key, Patch, Plan, View, Watch, register

KIND = "Node"
# While tasks are still to move, look again this soon even if no event comes.
DRAIN_RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class InstanceSnapshot:
    node: dict[str, Any] | None
    pods: list[dict[str, Any]] = field(default_factory=list)  # the task Pods on the Node
    services: dict[str, container_instance.ServiceView] = field(default_factory=dict)


def _service_of(pod: Mapping[str, Any]) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(labels.SERVICE)


def gather_container_instance(key: Key, view: View) -> InstanceSnapshot:
    node = view.cached(KIND, key)
    if node is None or container_instance.desired_status(node) is None:
        return InstanceSnapshot(node)
    pods = view.by_index("Pod", "node", key[1])
    services: dict[str, container_instance.ServiceView] = {}
    for pod in pods:
        label = _service_of(pod)
        if not label or label in services:
            continue
        owner = (str(pod["metadata"].get("namespace", "")), label)
        found = view.by_index("EcsService", "label", owner)
        spec = (found[0].get("spec") or {}) if found else {}
        if spec.get("schedulingStrategy") == "DAEMON":
            continue  # its DaemonSet would start the task on this Node again: daemon tasks stay
        services[label] = container_instance.service_view(spec, view.by_index("Pod", "service", owner))
    return InstanceSnapshot(node, pods, services)


def reconcile_container_instance(key: Key, snapshot: InstanceSnapshot) -> Plan | None:
    node = snapshot.node
    if node is None:
        return None
    planned = container_instance.plan(node, snapshot.pods, snapshot.services)
    patches = []
    if planned.unschedulable is not None:
        patches.append(Patch(KIND, "", key[1], {"spec": {"unschedulable": planned.unschedulable}}))
    namespaces = {str(p["metadata"]["name"]): str(p["metadata"].get("namespace", "")) for p in snapshot.pods}
    marks = {"metadata": {"annotations": container_instance.InstancePlan.pod_annotations()}}
    patches += [Patch("Pod", namespaces[name], name, marks) for name in planned.stop]
    deletions = tuple(Deletion("Pod", namespaces[name], name) for name in planned.stop)
    draining = container_instance.desired_status(node) == "DRAINING" and any(
        _service_of(p) in snapshot.services and not p["metadata"].get("deletionTimestamp")
        for p in snapshot.pods
    )
    return Plan(
        node,
        patches=tuple(patches),
        delete=deletions,
        requeue_after=DRAIN_RECHECK_SECONDS if draining else None,
    )


def _node_of_pod(pod: Mapping[str, Any], view: View) -> list[Key]:
    return [("", node) for node in node_of(pod)]


def _nodes_of_service(service: Mapping[str, Any], view: View) -> list[Key]:
    """A service's task count or deployment configuration changed: the Nodes its tasks run on."""
    metadata = service.get("metadata") or {}
    owner = (str(metadata.get("namespace", "")), label_value(str(metadata.get("name", ""))))
    return sorted({("", node) for pod in view.by_index("Pod", "service", owner) for node in node_of(pod)})


CONTROLLER = register(
    Controller(
        kind=KIND,
        gather=gather_container_instance,
        reconcile=reconcile_container_instance,
        watches=(Watch("Pod", _node_of_pod), Watch("EcsService", _nodes_of_service)),
        deletes=("Pod",),
        patches=("Node", "Pod"),
        workers=2,
        debounce=0.5,
    )
)
