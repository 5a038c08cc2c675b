"""The operator's part, played when a test says so: a cluster's Namespace and Ready status, a service's
tasks and status, a task's Pods and status, container instances, the end of a deletion.

Each step builds what the operator builds with the operator's own pure code (translate, plans, status) and
writes it through the fake API server as the operator's ServiceAccount, so what the ECS operations read
next is what they would read on a cluster. Nothing here watches or waits: a test calls a step, or puts
`reconcile` in the store's `while_waiting` to have the operator act while an operation waits for it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ecs_operator import FIELD_MANAGER, identifiers, labels
from ecs_operator.account import account_namespace, account_namespace_object
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.keys import DEFAULT_NAMESPACE
from ecs_operator.naming import cluster_name, cluster_namespace, label_value, service_name
from ecs_operator.plans.deployment import (
    choose_id,
    service_objects,
    template_annotations,
    template_key,
    with_deployment,
    workload_of,
)
from ecs_operator.plans.stop_tasks import requests as stop_requests
from ecs_operator.resources import parse_service
from ecs_operator.revisions import Revision, from_controller_revision, resolve
from ecs_operator.status.cluster import ClusterCounts, cluster_status
from ecs_operator.status.deployments import RevisionView, WorkloadView
from ecs_operator.status.service import ServiceInputs, service_status
from ecs_operator.status.task import TaskInputs, essential_containers, task_status
from ecs_operator.translate.cluster import translate_cluster
from ecs_operator.translate.metadata import owner_identity
from ecs_operator.translate.task import translate_task
from ecs_operator.translate.workload import cluster_placement

from tests.unit.ecsapi.operations.fakeapi import FakeApiServer, Who

OPERATOR = Who("system:serviceaccount:ecs-operator-system:ecs-operator", ("system:masters",))
Obj = dict[str, Any]


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(pod: Mapping[str, Any]) -> Obj:
    """A Pod's status once its containers run."""
    containers = (pod.get("spec") or {}).get("containers") or ()
    return {
        "phase": "Running",
        "startTime": now(),
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c.get("image"),
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now()}},
            }
            for c in containers
        ],
    }


def exited(pod: Mapping[str, Any], code: int) -> Obj:
    """A Pod's status once its containers exited with `code`."""
    containers = (pod.get("spec") or {}).get("containers") or ()
    phase = "Succeeded" if code == 0 else "Failed"
    return {
        "phase": phase,
        "containerStatuses": [
            {
                "name": c["name"],
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}},
            }
            for c in containers
        ],
    }


class Operator:
    def __init__(self, api: FakeApiServer) -> None:
        self.api = api
        self.kube = api.kube(OPERATOR, FIELD_MANAGER)
        self.kube.apply(account_namespace_object(account_namespace()))
        self.kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": DEFAULT_NAMESPACE}})

    # --- reading what the operator's caches would hold ---------------------------------------------

    def cluster(self, name: str) -> Obj:
        return next(o for o in self.api.objects(store.CLUSTER) if cluster_name(o) == name)

    def service(self, cluster: str, name: str) -> Obj:
        namespace = cluster_namespace(self.cluster(cluster))
        return next(o for o in self.api.objects(store.SERVICE, namespace) if service_name(o) == name)

    def revision(self, reference: str) -> Revision:
        family, _ = identifiers.task_definition_reference(reference)
        records = [
            from_controller_revision(o)
            for o in self.api.objects(store.REVISION, account_namespace())
            if store.family_of_revision(o) == family
        ]
        found = resolve(records, reference)
        assert found is not None, f"no record of task definition {reference}"
        return found

    # --- clusters and instances --------------------------------------------------------------------

    def ready(self, name: str) -> Obj:
        """The cluster's Namespace made and its status Ready, as the operator's first pass does."""
        body = self.cluster(name)
        namespace = cluster_namespace(body)
        translation = translate_cluster(
            body.get("spec") or {}, name=name, namespace=namespace, owner=owner_identity(body)
        )
        for obj in translation.objects:
            self.kube.apply(obj)
        finalizers = {"metadata": {"finalizers": [labels.CLUSTER_PROTECTION_FINALIZER]}}
        self.kube.merge_patch(store.CLUSTER, body["metadata"]["name"], None, finalizers)
        counts = ClusterCounts(len(self.instances(name)), 0, 0, 0, 0)
        status = cluster_status(
            body.get("status") or {},
            body["metadata"].get("generation"),
            namespace,
            True,
            counts,
            False,
            now(),
        )
        written = self.kube.patch_status(store.CLUSTER, body["metadata"]["name"], None, status)
        assert written is not None
        return written

    def ready_all(self) -> None:
        for body in self.api.objects(store.CLUSTER):
            conditions = (body.get("status") or {}).get("conditions") or ()
            if not body["metadata"].get("deletionTimestamp") and not any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
            ):
                self.ready(cluster_name(body))

    def instances(self, cluster: str) -> list[Obj]:
        return [
            n
            for n in self.api.objects("Node")
            if (n["metadata"].get("labels") or {}).get(labels.CLUSTER) == label_value(cluster)
        ]

    def add_instance(self, cluster: str, name: str, instance_type: str = "t3.micro") -> Obj:
        """A Node labelled as one of the cluster's container instances."""
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    labels.CLUSTER: label_value(cluster),
                    "kubernetes.io/hostname": name,
                    "node.kubernetes.io/instance-type": instance_type,
                    "topology.kubernetes.io/zone": "us-east-1a",
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
            },
            "spec": {},
            "status": {
                "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
                "nodeInfo": {"kubeletVersion": "v1.34.0", "containerRuntimeVersion": "containerd://2.1"},
            },
        }
        return self.api.put(node)

    # --- services ----------------------------------------------------------------------------------

    def roll_out(self, cluster: str, name: str, running_count: int | None = None) -> Obj:
        """The service's current spec deployed: its Pods (Running, `running_count` of them, by default its
        desiredCount) and its status, from the operator's own translation and status code."""
        cluster_body = self.cluster(cluster)
        service = self.service(cluster, name)
        spec = service.get("spec") or {}
        revision = self.revision(str(spec["taskDefinition"]))
        namespace = cluster_namespace(cluster_body)
        object_name = str(service["metadata"]["name"])
        translation = service_objects(
            parse_service(spec),
            revision.data,
            template_annotations(service),
            revision=revision.number,
            namespace=namespace,
            name=object_name,
            owner=owner_identity(service),
            **cluster_placement(cluster, cluster_body.get("spec") or {}),
        )
        workload = workload_of(translation.objects)
        assert workload is not None
        key = template_key(workload)
        deployment = choose_id(key, service, [])
        workload = workload_of(with_deployment(translation.objects, key, deployment))
        assert workload is not None
        desired = int(spec.get("desiredCount") or 0)
        count = desired if running_count is None else running_count
        pods = self._service_pods(workload, namespace, key, count)
        view = RevisionView(deployment, revision.task_definition, desired, tuple(pods), now(), True, key)
        outcome = service_status(
            ServiceInputs(
                name=name,
                generation=service["metadata"].get("generation"),
                desired_count=desired,
                target_task_definition=revision.task_definition,
                workload=WorkloadView(
                    (view,), settled=count == desired, deadline_exceeded=False, desired=desired
                ),
                previous=service.get("status") or {},
                essential=essential_containers(revision.data),
            ),
            now(),
        )
        written = self.kube.patch_status(store.SERVICE, object_name, namespace, outcome.status)
        assert written is not None
        return written

    def _service_pods(self, workload: Mapping[str, Any], namespace: str, key: str, count: int) -> list[Obj]:
        template = (workload.get("spec") or {}).get("template") or {}
        metadata = template.get("metadata") or {}
        template_hash = key[:10]
        existing = {
            o["metadata"]["name"]: o
            for o in self.api.objects("Pod", namespace)
            if (o["metadata"].get("labels") or {}).get("pod-template-hash") == template_hash
        }
        pods = []
        for index in range(count):
            pod_name = f"{workload['metadata']['name']}-{template_hash}-{index}"
            pod = existing.get(pod_name) or self.kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": pod_name,
                        "namespace": namespace,
                        "labels": {**(metadata.get("labels") or {}), "pod-template-hash": template_hash},
                        "annotations": dict(metadata.get("annotations") or {}),
                    },
                    "spec": dict(template.get("spec") or {}),
                }
            )
            pods.append(self._run(pod))
        return pods

    def _run(self, pod: Mapping[str, Any]) -> Obj:
        if (pod.get("status") or {}).get("phase") == "Running":
            return dict(pod)
        metadata = pod["metadata"]
        written = self.kube.patch_status("Pod", metadata["name"], metadata["namespace"], running(pod))
        assert written is not None
        return written

    # --- standalone tasks --------------------------------------------------------------------------

    def run_tasks(self) -> None:
        """Every EcsTask without Pods gets them, Running, and its status."""
        for task in self.api.objects(store.TASK):
            namespace = task["metadata"]["namespace"]
            name = task["metadata"]["name"]
            pods = [
                p
                for p in self.api.objects("Pod", namespace)
                if (p["metadata"].get("labels") or {}).get(labels.TASK) == name
            ]
            if not pods and (task.get("spec") or {}).get("desiredStatus") != "STOPPED":
                self._start(task)

    def _start(self, task: Mapping[str, Any]) -> None:
        namespace = task["metadata"]["namespace"]
        cluster = next(o for o in self.api.objects(store.CLUSTER) if cluster_namespace(o) == namespace)
        spec = task.get("spec") or {}
        revision = self.revision(str(spec["taskDefinition"]))
        translation = translate_task(
            spec,
            revision.data,
            revision=revision.number,
            namespace=namespace,
            name=task["metadata"]["name"],
            owner=owner_identity(task),
            **cluster_placement(cluster_name(cluster), cluster.get("spec") or {}),
        )
        for obj in translation.objects:
            if obj["kind"] == "Pod":
                self._run(self.kube.create(obj))
        self.task_status(namespace, task["metadata"]["name"])

    def task_status(self, namespace: str, name: str) -> Obj:
        """The EcsTask's status from its Pods, as the operator writes it."""
        task = self.api.read(store.TASK, name, namespace)
        assert task is not None
        cluster = next(o for o in self.api.objects(store.CLUSTER) if cluster_namespace(o) == namespace)
        revision = self.revision(str((task.get("spec") or {})["taskDefinition"]))
        pods = {
            p["metadata"]["name"]: p
            for p in self.api.objects("Pod", namespace)
            if (p["metadata"].get("labels") or {}).get(labels.TASK) == name
        }
        for entry in (task.get("status") or {}).get("tasks") or ():
            pods.setdefault(str(entry.get("podName")), None)  # type: ignore[arg-type]
        requests = stop_requests(task)
        reasons = {
            pod_name: requests[identifiers.id_of_uid(str(pod["metadata"]["uid"]))]
            for pod_name, pod in pods.items()
            if pod is not None and identifiers.id_of_uid(str(pod["metadata"]["uid"])) in requests
        }
        status, _ = task_status(
            TaskInputs(
                cluster=cluster_name(cluster),
                generation=task["metadata"].get("generation"),
                previous=task.get("status") or {},
                pods=pods,
                essential=essential_containers(revision.data),
                user_stopped=(task.get("spec") or {}).get("desiredStatus") == "STOPPED",
                task_definition=revision.task_definition,
                stop_reasons=reasons,
                long_arns=identifiers.long_format(task),
            ),
            now(),
        )
        written = self.kube.patch_status(store.TASK, name, namespace, status)
        assert written is not None
        return written

    def exit(self, pod: Mapping[str, Any], code: int) -> Obj:
        """A task Pod's containers exit with `code` (kubelet's report)."""
        metadata = pod["metadata"]
        written = self.kube.patch_status("Pod", metadata["name"], metadata["namespace"], exited(pod, code))
        assert written is not None
        return written

    # --- the rest ----------------------------------------------------------------------------------

    def finish_deletion(self, kind: str, name: str, namespace: str = "") -> None:
        """The operator's finalizers released (what it does once it let a deletion go)."""
        self.kube.merge_patch(kind, name, namespace or None, {"metadata": {"finalizers": None}})

    def release_deleted_clusters(self) -> None:
        """A deleted cluster goes once it has no services and no tasks left."""
        for body in self.api.objects(store.CLUSTER):
            namespace = cluster_namespace(body)
            if body["metadata"].get("deletionTimestamp") and not any(
                self.api.objects(kind, namespace) for kind in (store.SERVICE, store.TASK)
            ):
                self.finish_deletion(store.CLUSTER, body["metadata"]["name"])

    def reconcile(self) -> None:
        """What a running operator does within moments of a change the tests need it for."""
        self.release_deleted_clusters()
        self.ready_all()
        self.run_tasks()
