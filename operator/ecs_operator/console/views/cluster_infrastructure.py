"""Cluster, Infrastructure tab: the container instances (the cluster's Nodes) with registered and
remaining CPU and memory, running tasks and status (ListContainerInstances, then
DescribeContainerInstances); Drain and Activate (UpdateContainerInstancesState) for a user who may
patch the Node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.console import reads
from ecs_operator.console.pages import Form, Page, View
from ecs_operator.console.views import cluster
from ecs_operator.ecsapi.errors import InvalidParameterException

DESCRIBE_CHUNK = 100  # DescribeContainerInstances' limit
STATES = ("ACTIVE", "DRAINING")


def load(view: View) -> dict[str, Any]:
    context = cluster.header(view, "infrastructure")
    name = view.params["cluster"]
    arns = reads.every(view, "ListContainerInstances", "containerInstanceArns", cluster=name)
    instances = reads.described(
        view,
        "DescribeContainerInstances",
        "containerInstances",
        arns,
        DESCRIBE_CHUNK,
        "containerInstances",
        cluster=name,
    )
    rows = [
        {**i, "can_change": view.may_call("UpdateContainerInstancesState", "", str(i["ec2InstanceId"]))}
        for i in sorted(instances, key=lambda i: str(i.get("ec2InstanceId")))
    ]
    return {**context, "instances": rows}


def submit(view: View, values: Mapping[str, str]) -> str:
    instance = values.get("containerInstance", "")
    status = values.get("status", "")
    if status not in STATES:
        raise InvalidParameterException(f"status: {status!r} is not one of {', '.join(STATES)}")
    if not instance:
        raise InvalidParameterException("containerInstance: required member is missing")
    answer = view.call(
        "UpdateContainerInstancesState",
        cluster=view.params["cluster"],
        containerInstances=[instance],
        status=status,
    )
    if answer.get("failures"):
        failure = answer["failures"][0]
        raise InvalidParameterException(f"containerInstance: {failure.get('arn')} {failure.get('reason')}")
    done = "draining" if status == "DRAINING" else "active again"
    view.session.flash("ok", f"Container instance {instance.rsplit('/', 1)[-1]} is {done}.")
    return view.path


PAGE = Page(
    "cluster_infrastructure.html", load, fragments=("cluster_summary", "instances"), topics=cluster.topics
)
STATE = Form(PAGE, submit)
