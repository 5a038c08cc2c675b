"""What the operator watches, what it keeps of each object, and the indexes its controllers read.

Children are watched only when they carry the operator's labels (the API server filters them); Pods and
ReplicaSets keep only what status reads, so their frequent status updates that change none of it are not
reported at all. Index values are keys of the custom resource an object concerns: `(namespace, name)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ecs_operator import labels
from ecs_operator.account import account_namespace
from ecs_operator.identifiers import task_definition_reference
from ecs_operator.naming import cluster_name, cluster_namespace, family_name, label_value
from ecs_operator.runtime import Key, Source
from ecs_operator.status.pods import task_state

MANAGED = labels.MANAGED_SELECTOR
SERVICE_CHILDREN = f"{MANAGED},{labels.SERVICE}"


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _pick(source: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: source[k] for k in keys if source.get(k) is not None}


def _live(obj: Mapping[str, Any]) -> bool:
    return not _metadata(obj).get("deletionTimestamp")


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(_metadata(obj).get("namespace", ""))


def own_label(obj: Mapping[str, Any]) -> list[Key]:
    """Index: the object's name as its children's labels carry it (`label_value`: at most 63 characters)."""
    return [(namespace_of(obj), label_value(str(_metadata(obj)["name"])))]


def labelled(label: str) -> Any:
    """Index: the owner a child's label names, in the child's namespace, as `own_label` gives it."""

    def index(obj: Mapping[str, Any]) -> list[Key]:
        value = (_metadata(obj).get("labels") or {}).get(label)
        return [(namespace_of(obj), str(value))] if value else []

    return index


def cluster_label(obj: Mapping[str, Any]) -> list[Key]:
    """Index: an EcsCluster's ECS name as its Namespace and container instances (Nodes) carry it."""
    return [("", label_value(cluster_name(obj)))]


def family_of(obj: Mapping[str, Any]) -> list[str]:
    """Index: the task definition family a service or task names (task definitions are regional)."""
    reference = str((obj.get("spec") or {}).get("taskDefinition") or "")
    return [task_definition_reference(reference)[0]] if reference else []


def declared_family(obj: Mapping[str, Any]) -> list[str]:
    """Index: the family an EcsTaskDefinition registers."""
    family = family_name(obj)
    return [family] if family else []


def revisions_in_use(obj: Mapping[str, Any]) -> list[str]:
    """Index: the revisions (`family:N`) a service's deployments or a task's live tasks run: a deleted
    revision is kept (DELETE_IN_PROGRESS) while any of them does."""
    status = obj.get("status") or {}
    found = {str(d["taskDefinition"]) for d in status.get("deployments") or () if d.get("taskDefinition")}
    tasks = status.get("tasks")
    if status.get("taskDefinition") and (
        "deployments" in status or not tasks or any(t.get("lastStatus") != "STOPPED" for t in tasks)
    ):
        found.add(str(status["taskDefinition"]))
    reference = str((obj.get("spec") or {}).get("taskDefinition") or "")
    if not status and task_definition_reference(reference)[1] is not None:
        found.add(reference)
    return sorted(found)


def active_in_namespace(obj: Mapping[str, Any]) -> list[str]:
    """Index: the namespace of an object not being deleted (what a cluster counts)."""
    return [namespace_of(obj)] if _live(obj) else []


def _intent(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The applied-intent annotation alone: how the operator tells that the cache shows its own apply."""
    intent = (metadata.get("annotations") or {}).get(labels.INTENT_ANNOTATION)
    return {"annotations": {labels.INTENT_ANNOTATION: intent}} if intent is not None else {}


# A task Pod's annotations that its record keeps once the Pod is gone (why it stopped, what it ran).
RECORDED = (labels.STOP_CODE, labels.STOPPED_REASON, labels.TASK_DEFINITION_ANNOTATION, labels.DEPLOYMENT_ID)


def slim_pod(pod: Mapping[str, Any]) -> dict[str, Any]:
    """A Pod as status reads it: identity, labels, deletion, node, the whole status, and what a stopped
    task's record keeps."""
    metadata = _metadata(pod)
    annotations = metadata.get("annotations") or {}
    recorded = {k: annotations[k] for k in RECORDED if k in annotations}
    intent = _intent(metadata).get("annotations") or {}
    return {
        "kind": "Pod",
        "metadata": {
            **_pick(
                metadata, ("name", "namespace", "uid", "labels", "creationTimestamp", "deletionTimestamp")
            ),
            **({"annotations": {**recorded, **intent}} if recorded or intent else {}),
        },
        "spec": _pick(pod.get("spec") or {}, ("nodeName",)),
        "status": dict(pod.get("status") or {}),
    }


def slim_replica_set(replica_set: Mapping[str, Any]) -> dict[str, Any]:
    """A ReplicaSet as the deployment bookkeeping reads it: revision, replicas and the task definition."""
    metadata = _metadata(replica_set)
    annotations = metadata.get("annotations") or {}
    spec = replica_set.get("spec") or {}
    template_annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
    kept_template = {
        k: template_annotations[k]
        for k in (labels.TASK_DEFINITION_ANNOTATION, labels.DEPLOYMENT_ID, labels.DEPLOYMENT_KEY)
        if template_annotations.get(k) is not None
    }
    kept = "deployment.kubernetes.io/revision"
    return {
        "kind": "ReplicaSet",
        "metadata": {
            **_pick(metadata, ("name", "namespace", "labels", "creationTimestamp", "deletionTimestamp")),
            "annotations": {kept: annotations[kept]} if kept in annotations else {},
        },
        "spec": {
            "replicas": spec.get("replicas"),
            "template": {"metadata": {"annotations": kept_template}},
        },
    }


def slim_node(node: Mapping[str, Any]) -> dict[str, Any]:
    """A container instance: its labels, its desired ECS status, whether it takes new tasks, its resources."""
    status = node.get("status") or {}
    metadata = _metadata(node)
    desired = (metadata.get("annotations") or {}).get(labels.INSTANCE_DESIRED_STATUS)
    return {
        "kind": "Node",
        "metadata": {
            **_pick(metadata, ("name", "uid", "labels", "creationTimestamp")),
            **({"annotations": {labels.INSTANCE_DESIRED_STATUS: desired}} if desired is not None else {}),
        },
        "spec": _pick(node.get("spec") or {}, ("unschedulable",)),
        "status": _pick(status, ("allocatable", "capacity")),
    }


def node_of(pod: Mapping[str, Any]) -> list[str]:
    """Index: the Node a task runs on (its container instance)."""
    node = (pod.get("spec") or {}).get("nodeName")
    return [str(node)] if node else []


def task_state_in_namespace(pod: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Index: (namespace, `task_state`) of a task, for the cluster's counts."""
    return [(namespace_of(pod), task_state(pod))]


def revision_family(revision: Mapping[str, Any]) -> list[str]:
    family = (_metadata(revision).get("annotations") or {}).get(labels.REVISION_FAMILY)
    family = family or (revision.get("data") or {}).get("family")
    return [str(family)] if family else []


def cluster_of_namespace_index(cluster: Mapping[str, Any]) -> list[str]:
    return [cluster_namespace(cluster)]


def ecs_cluster_name(cluster: Mapping[str, Any]) -> list[str]:
    """Index: an EcsCluster's ECS name (two EcsClusters claiming one name: the older one keeps it)."""
    return [cluster_name(cluster)]


SOURCES = (
    Source(
        "EcsCluster",
        indexes={"namespace": cluster_of_namespace_index, "label": cluster_label, "name": ecs_cluster_name},
    ),
    Source("EcsTaskDefinition", indexes={"family": declared_family}),
    Source(
        "EcsService",
        indexes={
            "family": family_of,
            "active": active_in_namespace,
            "namespace": lambda obj: [namespace_of(obj)],
            "label": own_label,
            "uses": revisions_in_use,
        },
    ),
    Source(
        "EcsTask",
        indexes={
            "family": family_of,
            "active": active_in_namespace,
            "label": own_label,
            "uses": revisions_in_use,
        },
    ),
    Source(
        "ControllerRevision",
        f"{MANAGED},{labels.FAMILY}",
        indexes={"family": revision_family},
        namespace=account_namespace(),
    ),
    Source(
        "Pod",
        MANAGED,
        project=slim_pod,
        indexes={
            "service": labelled(labels.SERVICE),
            "task": labelled(labels.TASK),
            "state": task_state_in_namespace,
            "node": node_of,
        },
    ),
    Source(
        "ReplicaSet",
        SERVICE_CHILDREN,
        project=slim_replica_set,
        indexes={"service": labelled(labels.SERVICE)},
    ),
    Source("Deployment", SERVICE_CHILDREN, indexes={"service": labelled(labels.SERVICE)}),
    Source("DaemonSet", SERVICE_CHILDREN, indexes={"service": labelled(labels.SERVICE)}),
    Source("Service", SERVICE_CHILDREN, indexes={"service": labelled(labels.SERVICE)}),
    Source(
        "ServiceAccount",
        MANAGED,
        indexes={"service": labelled(labels.SERVICE), "task": labelled(labels.TASK)},
    ),
    Source("Namespace", MANAGED, indexes={"cluster": labelled(labels.CLUSTER)}),
    Source("Node", labels.CLUSTER, project=slim_node, indexes={"cluster": labelled(labels.CLUSTER)}),
)
