"""How `kubectl ecs` prints a response: a readable table, the ECS JSON as `aws ecs` prints it, or YAML."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from ecs_operator import identifiers
from ecs_operator.status.deployments import primary_deployment

Row = list[str]


def table(rows: Sequence[Row]) -> str:
    if len(rows) <= 1:
        return "No resources found."
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _name(arn: object) -> str:
    return identifiers.last_part(arn) or "-"


def _when(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _arns(key: str, header: str) -> Callable[[Mapping[str, Any]], list[Row]]:
    return lambda response: [[header], *([_name(a)] for a in response.get(key) or ())]


def _services(response: Mapping[str, Any]) -> list[Row]:
    rows = [["SERVICE", "STATUS", "DESIRED", "RUNNING", "PENDING", "TASK DEFINITION", "ROLLOUT"]]
    for s in response.get("services") or ():
        primary: Mapping[str, Any] = primary_deployment(s.get("deployments")) or {}
        rows.append(
            [
                _text(s.get("serviceName")), _text(s.get("status")), _text(s.get("desiredCount")),
                _text(s.get("runningCount")), _text(s.get("pendingCount")), _name(s.get("taskDefinition")),
                _text(primary.get("rolloutState")),
            ]
        )  # fmt: skip
    return rows


def _tasks(response: Mapping[str, Any]) -> list[Row]:
    rows = [["TASK", "LAST STATUS", "DESIRED", "TASK DEFINITION", "GROUP", "STARTED", "STOP CODE", "REASON"]]
    tasks = response.get("tasks") or ([response["task"]] if response.get("task") else [])
    for t in tasks:
        rows.append(
            [
                _name(t.get("taskArn")), _text(t.get("lastStatus")), _text(t.get("desiredStatus")),
                _name(t.get("taskDefinitionArn")), _text(t.get("group")), _when(t.get("startedAt")),
                _text(t.get("stopCode")), _text(t.get("stoppedReason")),
            ]
        )  # fmt: skip
    return rows


def _clusters(response: Mapping[str, Any]) -> list[Row]:
    rows = [["CLUSTER", "STATUS", "INSTANCES", "SERVICES", "RUNNING", "PENDING"]]
    clusters = response.get("clusters") or ([response["cluster"]] if response.get("cluster") else [])
    for c in clusters:
        rows.append(
            [
                _text(c.get("clusterName")), _text(c.get("status")),
                _text(c.get("registeredContainerInstancesCount")), _text(c.get("activeServicesCount")),
                _text(c.get("runningTasksCount")), _text(c.get("pendingTasksCount")),
            ]
        )  # fmt: skip
    return rows


def _task_definition(response: Mapping[str, Any]) -> list[Row]:
    td = response.get("taskDefinition") or {}
    rows = [["TASK DEFINITION", "STATUS", "CPU", "MEMORY", "NETWORK MODE", "CONTAINERS"]]
    containers = ",".join(str(c.get("name")) for c in td.get("containerDefinitions") or ())
    rows.append(
        [
            f"{td.get('family')}:{td.get('revision')}", _text(td.get("status")), _text(td.get("cpu")),
            _text(td.get("memory")), _text(td.get("networkMode")), containers or "-",
        ]
    )  # fmt: skip
    return rows


def _instances(response: Mapping[str, Any]) -> list[Row]:
    rows = [["CONTAINER INSTANCE", "NODE", "STATUS", "RUNNING", "PENDING", "CPU FREE", "MEMORY FREE"]]
    for i in response.get("containerInstances") or ():
        free = {r["name"]: r.get("integerValue") for r in i.get("remainingResources") or ()}
        rows.append(
            [
                _name(i.get("containerInstanceArn")), _text(i.get("ec2InstanceId")), _text(i.get("status")),
                _text(i.get("runningTasksCount")), _text(i.get("pendingTasksCount")), _text(free.get("CPU")),
                _text(free.get("MEMORY")),
            ]
        )  # fmt: skip
    return rows


def _settings(response: Mapping[str, Any]) -> list[Row]:
    rows = [["SETTING", "VALUE", "PRINCIPAL"]]
    settings = response.get("settings") or ([response["setting"]] if response.get("setting") else [])
    for setting in settings:
        rows.append(
            [_text(setting.get("name")), _text(setting.get("value")), _text(setting.get("principalArn"))]
        )
    return rows


def _providers(response: Mapping[str, Any]) -> list[Row]:
    rows = [["CAPACITY PROVIDER", "STATUS", "TYPE", "AUTO SCALING GROUP"]]
    found = response.get("capacityProviders") or (
        [response["capacityProvider"]] if response.get("capacityProvider") else []
    )
    for provider in found:
        group = (provider.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
        rows.append(
            [
                _text(provider.get("name")),
                _text(provider.get("status")),
                _text(provider.get("type")),
                _text(group),
            ]
        )
    return rows


SCALING = "DescribeScaling"  # `kubectl ecs describe-scaling`: three Application Auto Scaling answers in one


def _scaling(response: Mapping[str, Any]) -> str:
    target = response.get("ScalableTarget")
    if not target:
        return (
            "Not auto scaled (no scalable target: RegisterScalableTarget, or kubectl autoscale ecsservice)."
        )
    suspended = target.get("SuspendedState") or {}
    halted = [
        what
        for what, key in (
            ("scale-in", "DynamicScalingInSuspended"),
            ("scale-out", "DynamicScalingOutSuspended"),
        )
        if suspended.get(key)
    ]
    sections = [
        table(
            [
                ["RESOURCE", "MIN", "MAX", "SUSPENDED", "CREATED"],
                [
                    _text(target.get("ResourceId")), _text(target.get("MinCapacity")),
                    _text(target.get("MaxCapacity")), ",".join(halted) or "no",
                    _when(target.get("CreationTime")),
                ],
            ]
        ),
    ]  # fmt: skip
    policies = [["POLICY", "METRIC", "TARGET", "SCALE-IN COOLDOWN", "SCALE-OUT COOLDOWN", "SCALE-IN"]]
    for p in response.get("ScalingPolicies") or ():
        c = p.get("TargetTrackingScalingPolicyConfiguration") or {}
        metric = (c.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
        policies.append(
            [
                _text(p.get("PolicyName")), _text(metric), _text(c.get("TargetValue")),
                f"{c.get('ScaleInCooldown', 300)}s", f"{c.get('ScaleOutCooldown', 300)}s",
                "disabled" if c.get("DisableScaleIn") else "enabled",
            ]
        )  # fmt: skip
    sections.append(
        table(policies) if len(policies) > 1 else "No scaling policy: the count stays within the bounds."
    )
    activities = [["STARTED", "STATUS", "ACTIVITY", "CAUSE"]]
    for a in response.get("ScalingActivities") or ():
        activities.append(
            [
                _when(a.get("StartTime")),
                _text(a.get("StatusCode")),
                _text(a.get("Description")),
                _text(a.get("Cause")),
            ]
        )
    sections.append(table(activities) if len(activities) > 1 else "No scaling activity yet.")
    return "\n\n".join(sections)


TABLES: dict[str, Callable[[Mapping[str, Any]], list[Row]]] = {
    "ListAccountSettings": _settings,
    "PutAccountSetting": _settings,
    "PutAccountSettingDefault": _settings,
    "DeleteAccountSetting": _settings,
    "DescribeCapacityProviders": _providers,
    "CreateCapacityProvider": _providers,
    "UpdateCapacityProvider": _providers,
    "DeleteCapacityProvider": _providers,
    "UpdateCluster": _clusters,
    "UpdateClusterSettings": _clusters,
    "PutClusterCapacityProviders": _clusters,
    "ListClusters": _arns("clusterArns", "CLUSTER"),
    "ListServices": _arns("serviceArns", "SERVICE"),
    "ListTasks": _arns("taskArns", "TASK"),
    "ListTaskDefinitions": _arns("taskDefinitionArns", "TASK DEFINITION"),
    "ListTaskDefinitionFamilies": lambda r: [["FAMILY"], *([f] for f in r.get("families") or ())],
    "ListContainerInstances": _arns("containerInstanceArns", "CONTAINER INSTANCE"),
    "DescribeClusters": _clusters,
    "CreateCluster": _clusters,
    "DeleteCluster": _clusters,
    "DescribeServices": _services,
    "CreateService": lambda r: _services({"services": [r["service"]]}),
    "UpdateService": lambda r: _services({"services": [r["service"]]}),
    "DeleteService": lambda r: _services({"services": [r["service"]]}),
    "DescribeTasks": _tasks,
    "RunTask": _tasks,
    "StartTask": _tasks,
    "StopTask": _tasks,
    "DescribeTaskDefinition": _task_definition,
    "RegisterTaskDefinition": _task_definition,
    "DeregisterTaskDefinition": _task_definition,
    "DescribeContainerInstances": _instances,
    "UpdateContainerInstancesState": _instances,
}


def render(operation: str, response: Mapping[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(response, indent=4, ensure_ascii=False)
    if output == "yaml" or operation not in (*TABLES, SCALING):
        return yaml.safe_dump(json.loads(json.dumps(response)), sort_keys=False).rstrip()
    if operation == SCALING:
        return _scaling(response)
    text = table(TABLES[operation](response))
    failures = [f"{f.get('arn')}: {f.get('reason')}" for f in response.get("failures") or ()]
    return "\n".join([text, *(f"failure: {line}" for line in failures)])
