"""Tasks: a standalone task is one of the Pods of an EcsTask (RunTask makes one EcsTask of `count`
tasks); a service task is a Pod of an EcsService's workload. A task's id is its Pod's uid without dashes.

StopTask writes desired state only (`labels.STOP_TASKS` on the owner, and `desiredStatus: STOPPED` on an
EcsTask all of whose tasks are to stop); the operator stops the Pods and records why.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from ecs_operator import API_GROUP, API_VERSION, identifiers, labels
from ecs_operator.awsmodel.ecs import (
    DescribeTasksRequest,
    DescribeTasksResponse,
    ListTasksRequest,
    ListTasksResponse,
    RunTaskRequest,
    RunTaskResponse,
    StartTaskRequest,
    StartTaskResponse,
    StopTaskRequest,
    StopTaskResponse,
)
from ecs_operator.ecsapi import describe, store
from ecs_operator.ecsapi.accountsettings import short_arns
from ecs_operator.ecsapi.clusterref import ClusterRef, check_strategy_of, cluster_for_write, find_cluster
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import (
    ClientException,
    InvalidParameterException,
    ServiceNotFoundException,
    refusal,
)
from ecs_operator.ecsapi.families import resolve_revision
from ecs_operator.ecsapi.paging import page_from, paged
from ecs_operator.ecsapi.tags import check_tagging
from ecs_operator.identifiers import task_definition_reference as parse_reference
from ecs_operator.naming import label_value, service_name, task_object_name
from ecs_operator.plans.deployment import legacy_id
from ecs_operator.plans.stop_tasks import requests as stop_requests
from ecs_operator.resources import SpecError, check_task_request
from ecs_operator.status.task import USER_STOPPED_REASON, essential_containers, task_entry

DESCRIBE_LIMIT = 100
# ECS describes a stopped task for at least an hour: an EcsTask RunTask made goes an hour after it stopped.
STOPPED_KEPT_SECONDS = 3600.0
# The operator starts a task's Pods within a second or two; this bounds a wait for an absent operator.
RUN_SECONDS = 30.0


def _rfc3339(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Found:
    """One task: its owner (EcsService or EcsTask), its Pod (None once gone) and its ECS entry."""

    task_id: str
    owner_kind: str
    owner: Mapping[str, Any] | None
    pod: Mapping[str, Any] | None
    entry: dict[str, Any]
    task_definition: str


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _standalone_entry(owner: Mapping[str, Any] | None, task_id: str) -> dict[str, Any] | None:
    for entry in ((owner or {}).get("status") or {}).get("tasks") or ():
        if identifiers.name_in(str(entry.get("taskArn") or ""), "task") == task_id:
            return _with_stop_request(dict(entry), owner, task_id)
    return None


def _with_stop_request(
    entry: dict[str, Any], owner: Mapping[str, Any] | None, task_id: str
) -> dict[str, Any]:
    """A task StopTask asked to stop reads as ECS shows it: desiredStatus STOPPED, stopCode UserInitiated
    and the caller's reason, from the request recorded on its owner."""
    reason = stop_requests(owner or {}).get(task_id)
    if reason is None or entry.get("stopCode") not in (None, "UserInitiated"):
        return entry
    entry.update(desiredStatus="STOPPED", stopCode="UserInitiated", stoppedReason=reason)
    return entry


def _taskdef(ctx: Context, reference: str) -> Mapping[str, Any]:
    revision = resolve_revision(ctx, reference) if reference else None
    return revision.data if revision is not None else {}


def _from_pod(ctx: Context, cluster: ClusterRef, pod: Mapping[str, Any], gone: bool) -> Found | None:
    task_id = store.task_id(pod)
    pod_labels = _labels(pod)
    now = _rfc3339(ctx.clock())
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    reference = str(annotations.get(labels.TASK_DEFINITION_ANNOTATION) or "")
    if pod_labels.get(labels.TASK):
        owner = ctx.store.get(store.TASK, cluster.namespace, pod_labels[labels.TASK])
        reference = reference or str(((owner or {}).get("status") or {}).get("taskDefinition") or "")
        entry = _standalone_entry(owner, task_id)
        if entry is None:
            essential = essential_containers(_taskdef(ctx, reference))
            entry = task_entry(
                None if gone else pod, essential, False, None, "", str(pod["metadata"]["name"]), now
            )
            entry = _with_stop_request(entry, owner, task_id)
        return Found(task_id, store.TASK, owner, None if gone else pod, entry, reference)
    service = pod_labels.get(labels.SERVICE)
    if not service:
        return None
    owner = ctx.store.get(store.SERVICE, cluster.namespace, service)
    entry = _with_stop_request(describe.pod_entry(pod, _taskdef(ctx, reference), gone, now), owner, task_id)
    return Found(task_id, store.SERVICE, owner, None if gone else pod, entry, reference)


def _records(owner: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in (owner.get("status") or {}).get("stoppedTasks") or ()]


def _inactive_services(cluster: ClusterRef) -> list[Mapping[str, Any]]:
    """The records the cluster keeps of its deleted services (status.inactiveServices)."""
    return list((cluster.obj.get("status") or {}).get("inactiveServices") or ())


def _service_record(ctx: Context, cluster: ClusterRef, task_id: str) -> Found | None:
    """A stopped service task, from the records of its service (live or deleted)."""
    live = ctx.store.find_index(store.SERVICE, "stopped", (cluster.namespace, task_id))
    for owner in [*live, *_inactive_services(cluster)]:
        for record in _records(owner):
            if identifiers.name_in(str(record.get("taskArn") or ""), "task") == task_id:
                return Found(
                    task_id, store.SERVICE, owner, None, record, str(record.get("taskDefinition") or "")
                )
    return None


def find_task(ctx: Context, cluster: ClusterRef, reference: str) -> Found | None:
    """A task by id or ARN: from its Pod while it has one, then from what ECS keeps of stopped tasks (a
    standalone task's EcsTask status, a service's records)."""
    task_id = identifiers.name_in(reference, "task")
    key = (cluster.namespace, task_id)
    pods = ctx.store.find(store.POD, key)
    if pods:
        return _from_pod(ctx, cluster, pods[0], gone=False)
    for owner in ctx.store.in_namespace(store.TASK, cluster.namespace):
        entry = _standalone_entry(owner, task_id)
        if entry is not None:
            reference_td = str((owner.get("status") or {}).get("taskDefinition") or "")
            return Found(task_id, store.TASK, owner, None, entry, reference_td)
    recorded = _service_record(ctx, cluster, task_id)
    if recorded is not None:
        return recorded
    gone = ctx.store.gone(store.POD, key)  # stopped a moment ago, not recorded yet
    return _from_pod(ctx, cluster, gone, gone=True) if gone is not None else None


def _deployment_of(pod: Mapping[str, Any]) -> str | None:
    """The deployment that started a service task (its `startedBy`)."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if annotations.get(labels.DEPLOYMENT_ID):
        return str(annotations[labels.DEPLOYMENT_ID])
    template_hash = _labels(pod).get("pod-template-hash")
    return legacy_id(template_hash) if template_hash else None


def _node_instance(ctx: Context, cluster: ClusterRef, node_name: str | None) -> tuple[str | None, bool]:
    """(container instance id, on the Fargate pool) of the Node a task runs on."""
    if not node_name:
        return None, False
    for node in ctx.store.find(store.NODE, label_value(cluster.name)):
        if node["metadata"]["name"] == node_name:
            return identifiers.id_of_uid(str(node["metadata"].get("uid") or "")), False
    return None, True


def description(ctx: Context, cluster: ClusterRef, found: Found) -> dict[str, Any]:
    owner_spec = (found.owner or {}).get("spec") or {}
    family = parse_reference(found.task_definition)[0]
    annotations = ((found.pod or {}).get("metadata") or {}).get("annotations") or {}
    if found.owner_kind == store.SERVICE:
        owner = found.owner or {"metadata": {"name": _labels(found.pod or {}).get(labels.SERVICE)}}
        group = identifiers.service_group(service_name(owner))
        started_by = _deployment_of(found.pod) if found.pod else found.entry.get("startedBy")
        tags: list[dict[str, str]] = []
    else:
        group = str(
            owner_spec.get("group")
            or annotations.get(labels.GROUP_ANNOTATION)
            or identifiers.family_group(family)
        )
        started_by = owner_spec.get("startedBy") or annotations.get(labels.STARTED_BY_ANNOTATION)
        tags = [dict(t) for t in owner_spec.get("tags") or ()]
    node = ((found.pod or {}).get("spec") or {}).get("nodeName") or found.entry.get("node")
    instance_id, fargate = _node_instance(ctx, cluster, node)
    launch_type = "FARGATE" if fargate else str(owner_spec.get("launchType") or "EC2")
    return describe.task(
        found.entry,
        task_arn=ctx.partition.task(cluster.name, found.task_id, identifiers.long_format(found.owner or {})),
        cluster_name=cluster.name,
        partition=ctx.partition,
        task_definition=found.task_definition,
        taskdef=_taskdef(ctx, found.task_definition),
        pod=found.pod,
        instance_id=instance_id,
        group=group,
        started_by=started_by,
        launch_type=launch_type,
        tags=tags,
    )


def describe_tasks(ctx: Context, request: DescribeTasksRequest) -> DescribeTasksResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    references = list(request["tasks"])
    if len(references) > DESCRIBE_LIMIT:
        raise InvalidParameterException(f"tasks: at most {DESCRIBE_LIMIT} tasks per call")
    ctx.authorizer.check("get", store.TASK, cluster.namespace)
    ctx.authorizer.check("get", store.SERVICE, cluster.namespace)
    tasks = []
    failures = []
    for reference in references:
        found = find_task(ctx, cluster, reference)
        if found is None:
            failures.append(
                {
                    "arn": ctx.partition.task(cluster.name, identifiers.name_in(reference, "task")),
                    "reason": "MISSING",
                }
            )
        else:
            tasks.append(description(ctx, cluster, found))
    return cast(DescribeTasksResponse, {"tasks": tasks, "failures": failures})


@dataclass(frozen=True)
class Listed:
    task_id: str
    service: str | None  # the EcsService's metadata.name
    family: str
    started_by: str | None
    desired_status: str
    launch_type: str
    long_arn: bool = True


def _launch_type(node: str | None, instances: set[str], spec: Mapping[str, Any]) -> str:
    """EC2 on one of the cluster's container instances, FARGATE on the serverless pool; a task not placed
    yet goes where its launch type or capacity provider strategy sends it."""
    if node:
        return "EC2" if node in instances else "FARGATE"
    strategy = spec.get("capacityProviderStrategy") or ()
    if strategy and all(str(s.get("capacityProvider", "")).startswith("FARGATE") for s in strategy):
        return "FARGATE"
    return str(spec.get("launchType") or "EC2")


class _Lister:
    """The tasks ListTasks lists, in one cluster: its task Pods (a page at a time, from the store's rows
    kept in task id order), and what ECS keeps of tasks without a Pod (a standalone task's entries in its
    EcsTask's status, the stopped tasks a service or the cluster records)."""

    def __init__(self, ctx: Context, cluster: ClusterRef) -> None:
        self.ctx, self.cluster, self.namespace = ctx, cluster, cluster.namespace
        nodes = ctx.store.find(store.NODE, label_value(cluster.name))
        self.instances = {str(n["metadata"]["name"]) for n in nodes}
        self._owners: dict[str, Mapping[str, Any]] = {}

    def _owner(self, name: str) -> Mapping[str, Any]:
        if name not in self._owners:
            self._owners[name] = self.ctx.store.get(store.TASK, self.namespace, name) or {}
        return self._owners[name]

    def of_pod(self, pod: Mapping[str, Any]) -> Listed | None:
        """A task Pod's `task_summary` as listed."""
        task_id = str(pod["id"])
        desired = "STOPPED" if pod.get("stopping") else "RUNNING"
        node = pod.get("node")
        if pod.get("service"):
            family = store.summary_family(pod)
            started_by = store.service_task_started_by(pod)
            row = self.ctx.store.service_row(self.namespace, str(pod["service"]))
            if node:
                launch = "EC2" if node in self.instances else "FARGATE"
            else:
                launch = "EC2" if row is None else "FARGATE" if row.fargate else row.launch_type
            long = row is None or row.long_arn
            return Listed(task_id, pod["service"], family, started_by, desired, launch, long)
        if pod.get("task"):
            owner = self._owner(str(pod["task"]))
            entry = _standalone_entry(owner, task_id) or {}
            desired = str(entry.get("desiredStatus") or desired)
            launch = _launch_type(node, self.instances, owner.get("spec") or {})
            return _listed_standalone(owner, task_id, desired, launch)
        return None

    def without_pods(self) -> list[Listed]:
        """Tasks listed from what ECS keeps of them, not from a Pod."""
        found: list[Listed] = []
        for owner in self.ctx.store.in_namespace(store.TASK, self.namespace):
            for entry in (owner.get("status") or {}).get("tasks") or ():
                task_id = identifiers.name_in(str(entry.get("taskArn") or ""), "task")
                if task_id and not self._has_pod(task_id):
                    desired = str(entry.get("desiredStatus") or "STOPPED")
                    launch = _launch_type(None, self.instances, owner.get("spec") or {})
                    found.append(_listed_standalone(owner, task_id, desired, launch))
        recording = self.ctx.store.find_index(store.SERVICE, "recording", (self.namespace,))
        for service in [*recording, *_inactive_services(self.cluster)]:
            name = str(service["metadata"]["name"])
            for record in _records(service):
                task_id = identifiers.name_in(str(record.get("taskArn") or ""), "task")
                family = parse_reference(str(record.get("taskDefinition") or ""))[0]
                launch = _launch_type(record.get("node"), self.instances, service.get("spec") or {})
                long = identifiers.long_format(service)
                found.append(Listed(task_id, name, family, record.get("startedBy"), "STOPPED", launch, long))
        return found

    def _has_pod(self, task_id: str) -> bool:
        """Whether a standalone task has its Pod (then it is listed from the Pod)."""
        pods = self.ctx.store.find(store.POD, (self.namespace, task_id))
        return any(_labels(pod).get(labels.TASK) for pod in pods)

    def page(
        self,
        keep: Callable[[Listed], bool],
        after: str | None,
        size: int,
        within: store.Within | None = None,
    ) -> list[Listed]:
        """Up to `size` tasks that `keep` keeps, in task id order, after the id `after` (the task Pods of
        the groups `within` names only, when given: found without reading the others)."""
        listed: dict[str, Listed | None] = {}

        def of(pod: Mapping[str, Any]) -> Listed | None:
            if pod["id"] not in listed:
                listed[pod["id"]] = self.of_pod(pod)
            return listed[pod["id"]]

        def kept(pod: Mapping[str, Any]) -> bool:
            found = of(pod)
            return found is not None and keep(found)

        pods = [of(pod) for pod in self.ctx.store.tasks_page(self.namespace, after, kept, size, within)]
        others = sorted(
            (t for t in self.without_pods() if keep(t) and (after is None or t.task_id > after)),
            key=lambda t: t.task_id,
        )
        merged = heapq.merge([t for t in pods if t is not None], others, key=lambda t: t.task_id)
        return list(itertools.islice(merged, size))


def _listed_standalone(owner: Mapping[str, Any], task_id: str, desired: str, launch_type: str) -> Listed:
    status = owner.get("status") or {}
    spec = owner.get("spec") or {}
    reference = str(status.get("taskDefinition") or spec.get("taskDefinition") or "")
    family = parse_reference(reference)[0]
    long = identifiers.long_format(owner)
    return Listed(task_id, None, family, spec.get("startedBy"), desired, launch_type, long)


def list_tasks(ctx: Context, request: ListTasksRequest) -> ListTasksResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    ctx.authorizer.check("list", store.TASK, cluster.namespace)
    ctx.authorizer.check("list", store.SERVICE, cluster.namespace)
    service = request.get("serviceName")
    family = request.get("family")
    started_by = request.get("startedBy")
    desired = request.get("desiredStatus") or "RUNNING"
    launch_type = request.get("launchType")
    node = None
    if request.get("containerInstance"):
        from ecs_operator.ecsapi.instances import find_instance

        instance = find_instance(ctx, cluster, request["containerInstance"])
        if instance is None:
            raise InvalidParameterException("containerInstance: no such container instance in this cluster")
        node = str(instance["metadata"]["name"])
    service_object_names: set[str] | None = None
    if service:
        service_object_names = _service_object_names(ctx, cluster, service)
    on_node = None
    if node is not None:
        on_node = {str(s["id"]) for s in ctx.store.task_summaries(cluster.namespace) if s.get("node") == node}

    def keep(t: Listed) -> bool:
        return (
            t.desired_status == desired
            and (service_object_names is None or t.service in service_object_names)
            and (not family or t.family == family)
            and (not started_by or t.started_by == started_by)
            and (not launch_type or t.launch_type == launch_type)
            and (on_node is None or t.task_id in on_node)
        )

    within: store.Within | None = None  # the narrowest group the filters name
    if service_object_names is not None:
        within = ("service", service_object_names)
    elif started_by:
        within = ("startedBy", [started_by])
    elif family:
        within = ("family", [family])
    lister = _Lister(ctx, cluster)
    chunk, token = page_from(
        lambda after, size: lister.page(keep, after, size, within),
        lambda t: t.task_id,
        request.get("nextToken"),
        request.get("maxResults"),
        100,
    )
    found_arns = [ctx.partition.task(cluster.name, t.task_id, t.long_arn) for t in chunk]
    return cast(ListTasksResponse, paged("taskArns", found_arns, token))


def _service_object_names(ctx: Context, cluster: ClusterRef, reference: str) -> set[str]:
    """The EcsServices `serviceName` names: the live one, or a deleted one the cluster keeps on record."""
    from ecs_operator.ecsapi.services import find_service

    name = identifiers.name_in(reference, "service")
    obj = find_service(ctx, cluster, name)
    if obj is not None:
        return {str(obj["metadata"]["name"])}
    found = {str(r["metadata"]["name"]) for r in _inactive_services(cluster) if service_name(r) == name}
    if not found:
        raise ServiceNotFoundException("Service not found.")
    return found


def run_task(ctx: Context, request: RunTaskRequest) -> RunTaskResponse:
    cluster = cluster_for_write(ctx, request.get("cluster"))
    reference = request["taskDefinition"]
    revision = resolve_revision(ctx, reference)
    if revision is None:
        raise ClientException("TaskDefinition not found.")
    if not revision.active:  # ECS runs no new task of a deregistered revision
        raise ClientException("TaskDefinition is inactive.")
    spec: dict[str, Any] = {
        k: v for k, v in request.items() if k not in ("cluster", "clientToken") and v is not None
    }
    spec["taskDefinition"] = revision.task_definition
    check_strategy_of(cluster, spec)
    check_tagging(ctx, store.TASK, cluster.namespace, spec.get("tags"))
    try:
        check_task_request(spec)
    except SpecError as error:
        raise refusal(error, InvalidParameterException) from None
    count = int(spec.get("count") or 1)
    name = task_object_name(revision.family, secrets.token_hex(4))
    body = {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": store.TASK,
        "metadata": {
            "name": name,
            "namespace": cluster.namespace,
            "annotations": {
                labels.EXPIRE_AFTER_STOPPED: str(int(STOPPED_KEPT_SECONDS)),
                **short_arns(ctx, "taskLongArnFormat"),
            },
        },
        "spec": spec,
    }
    with kube_errors(f"task of {revision.task_definition}"):
        created = ctx.kube.create(body)
    await_cached(ctx, store.TASK, cluster.namespace, name, created)

    def started() -> list[str]:
        """The ids of the EcsTask's tasks: its Pods' (the operator creates them at once; its status comes
        later), then any its status remembers whose Pod is gone already."""
        owner = ctx.store.get(store.TASK, cluster.namespace, name)
        from_status = [
            identifiers.name_in(str(e["taskArn"]), "task")
            for e in ((owner or {}).get("status") or {}).get("tasks") or ()
            if e.get("taskArn")
        ]
        from_pods = [
            str(p["id"]) for p in ctx.store.task_summaries(cluster.namespace) if p.get("task") == name
        ]
        return list(dict.fromkeys([*sorted(from_pods), *from_status]))

    if not ctx.store.wait(lambda: len(started()) >= count, RUN_SECONDS):
        detail = (
            f"The operator did not start the tasks of EcsTask {name} within {RUN_SECONDS:.0f}s "
            "(is it running?)."
        )
        return cast(
            RunTaskResponse, {"tasks": [], "failures": [{"reason": "RESOURCE:OPERATOR", "detail": detail}]}
        )
    tasks = []
    for task_id in started():
        found = find_task(ctx, cluster, task_id)
        if found is not None:
            tasks.append(description(ctx, cluster, found))
    return cast(RunTaskResponse, {"tasks": tasks, "failures": []})


def start_task(ctx: Context, request: StartTaskRequest) -> StartTaskResponse:
    """RunTask placed on the named container instances (one task each), as ECS's StartTask."""
    from ecs_operator.ecsapi.instances import find_instance

    cluster = find_cluster(ctx, request.get("cluster"))
    tasks: list[Any] = []
    failures: list[Any] = []
    for reference in request["containerInstances"]:
        node = find_instance(ctx, cluster, reference)
        if node is None:
            failures.append({"arn": reference, "reason": "MISSING"})
            continue
        run: dict[str, Any] = {k: v for k, v in request.items() if k != "containerInstances"}
        run["count"] = 1
        run["launchType"] = "EC2"
        run["placementConstraints"] = [
            {
                "type": "memberOf",
                "expression": f"attribute:kubernetes.io/hostname == {node['metadata']['name']}",
            }
        ]
        response = run_task(ctx, cast(RunTaskRequest, run))
        tasks += response.get("tasks") or []
        failures += response.get("failures") or []
    return cast(StartTaskResponse, {"tasks": tasks, "failures": failures})


def stop_task(ctx: Context, request: StopTaskRequest) -> StopTaskResponse:
    cluster = find_cluster(ctx, request.get("cluster"))
    found = find_task(ctx, cluster, request["task"])
    if found is None:
        raise InvalidParameterException("The referenced task was not found.")
    reason = request.get("reason") or USER_STOPPED_REASON
    owner = found.owner
    if owner is not None and found.entry.get("lastStatus") != "STOPPED":
        requests = stop_requests(owner or {})
        live = {store.task_id(p) for p in ctx.store.in_namespace(store.POD, cluster.namespace)}
        requests = {k: v for k, v in requests.items() if k in live or k == found.task_id}
        requests[found.task_id] = reason
        patch: dict[str, Any] = {
            "metadata": {"annotations": {labels.STOP_TASKS: json.dumps(requests, sort_keys=True)}}
        }
        if found.owner_kind == store.TASK:
            count = int((owner.get("spec") or {}).get("count") or 1)
            if len(requests) >= count:
                patch["spec"] = {"desiredStatus": "STOPPED"}
        name = str(owner["metadata"]["name"])
        with kube_errors(f"task {found.task_id}"):
            written = ctx.kube.merge_patch(found.owner_kind, name, cluster.namespace, patch)
        await_cached(ctx, found.owner_kind, cluster.namespace, name, written)
        found = find_task(ctx, cluster, found.task_id) or found
    result = description(ctx, cluster, found)
    if result.get("lastStatus") != "STOPPED":
        result.update(desiredStatus="STOPPED", stopCode="UserInitiated", stoppedReason=reason)
    return cast(StopTaskResponse, {"task": result})
