"""`kubectl ecs`: the `aws ecs` verbs on the operations layer, acting with the user's own kubeconfig.

Each verb takes the flags `aws ecs` takes (every input member as `--kebab-case`; lists as several
values; structures as JSON; booleans as `--flag` / `--no-flag`; `--cli-input-json file://…`), plus
`wait services-stable|services-inactive|tasks-running|tasks-stopped` with the AWS CLI waiter rules, and
`logs` / `execute-command`, which hand over to `kubectl logs` / `kubectl exec` on the task's Pod, and
`describe-scaling --service S`: the service's Application Auto Scaling target, policies and recent activities.
Output: a table (default), `--output json` (what `aws ecs` prints) or `yaml`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecs_operator.awsmodel.ecs import INPUTS, SHAPES

VERBS = (
    "CreateCluster", "DescribeClusters", "ListClusters", "DeleteCluster", "UpdateCluster",
    "UpdateClusterSettings", "PutClusterCapacityProviders",
    "CreateCapacityProvider", "DescribeCapacityProviders", "UpdateCapacityProvider", "DeleteCapacityProvider",
    "PutAccountSetting", "PutAccountSettingDefault", "ListAccountSettings", "DeleteAccountSetting",
    "RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies",
    "DeregisterTaskDefinition", "DeleteTaskDefinitions",
    "CreateService", "DescribeServices", "ListServices", "UpdateService", "DeleteService",
    "ListServiceDeployments", "DescribeServiceDeployments",
    "RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
    "ListContainerInstances", "DescribeContainerInstances", "UpdateContainerInstancesState",
    "TagResource", "UntagResource", "ListTagsForResource",
)  # fmt: skip
EXIT_SERVICE_ERROR = 254
EXIT_USAGE = 252
FIELD_MANAGER = "kubectl-ecs"


def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def _add_member(parser: argparse.ArgumentParser, member: str, shape_name: str) -> None:
    shape = SHAPES[shape_name]
    flag = f"--{kebab(member)}"
    kind = shape[0]
    if member == "cluster":
        return  # the global --cluster
    if kind == "boolean":
        parser.add_argument(flag, dest=member, action=argparse.BooleanOptionalAction, default=None)
    elif kind in ("integer", "long"):
        parser.add_argument(flag, dest=member, type=int)
    elif kind in ("double", "float"):
        parser.add_argument(flag, dest=member, type=float)
    elif kind == "list" and SHAPES[shape[1]][0] == "string":
        parser.add_argument(flag, dest=member, nargs="+", metavar=member.upper())
    elif kind in ("list", "map", "structure"):
        parser.add_argument(flag, dest=member, type=json.loads, metavar="JSON")
    else:
        parser.add_argument(flag, dest=member)


def _global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """The options every verb takes, before the verb or after it (as `aws ecs` takes them): on a verb's
    parser they default to nothing, so one given before the verb is kept."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--kubeconfig",
        default=default(None),
        help="kubeconfig file (default $KUBECONFIG or ~/.kube/config)",
    )
    parser.add_argument("--context", default=default(None), help="kubeconfig context")
    parser.add_argument("--cluster", default=default(None), help="the ECS cluster (default: default)")
    parser.add_argument(
        "--output", "-o", choices=("table", "json", "yaml"), default=default("table"), help="output format"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubectl ecs", description=__doc__.split("\n\n")[0])
    _global_options(parser, defaults=True)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for operation in VERBS:
        sub = verbs.add_parser(kebab(operation), help=f"ECS {operation}")
        _global_options(sub, defaults=False)
        sub.add_argument(
            "--cli-input-json", dest="cli_input_json", help="the request as JSON (or file://PATH)"
        )
        for member, shape_name in SHAPES[INPUTS[operation]][1].items():
            _add_member(sub, member, shape_name)
        sub.set_defaults(operation=operation)
    wait = verbs.add_parser("wait", help="wait as the AWS CLI does (services-stable, tasks-running, …)")
    _global_options(wait, defaults=False)
    wait.add_argument(
        "waiter", choices=("services-stable", "services-inactive", "tasks-running", "tasks-stopped")
    )
    wait.add_argument("--services", nargs="+")
    wait.add_argument("--tasks", nargs="+")
    wait.add_argument("--delay", type=float, help="seconds between polls (default: the AWS CLI's)")
    wait.add_argument("--max-attempts", type=int, help="polls before giving up (default: the AWS CLI's)")
    logs = verbs.add_parser("logs", help="kubectl logs of a task's Pod")
    _global_options(logs, defaults=False)
    logs.add_argument("--task", required=True)
    logs.add_argument("--container")
    logs.add_argument("--follow", "-f", action="store_true")
    scaling = verbs.add_parser(
        "describe-scaling", help="a service's auto scaling: target, policies, recent activities"
    )
    scaling.add_argument("--service", required=True)
    scaling.add_argument("--max-activities", type=int, default=10, help="activities shown (default 10)")
    execute = verbs.add_parser("execute-command", help="kubectl exec into a task's container")
    _global_options(execute, defaults=False)
    execute.add_argument("--task", required=True)
    execute.add_argument("--container")
    execute.add_argument("--command", required=True)
    execute.add_argument("--interactive", action="store_true")
    return parser


def request_of(args: argparse.Namespace) -> dict[str, Any]:
    request: dict[str, Any] = {}
    if args.cli_input_json:
        text = args.cli_input_json
        if text.startswith("file://"):
            text = Path(text.removeprefix("file://")).read_text()
        request.update(json.loads(text))
    for member in SHAPES[INPUTS[args.operation]][1]:
        value = getattr(args, member, None)
        if value is not None and member != "cluster":
            request[member] = value
    if args.cluster and "cluster" in SHAPES[INPUTS[args.operation]][1]:
        request["cluster"] = args.cluster
    return request


def _context(args: argparse.Namespace) -> Any:
    from ecs_operator.ecsapi.context import Context
    from ecs_operator.ecsapi.store import ListStore
    from ecs_operator.kube import Kube, new_api_client, who_am_i

    kube = Kube(new_api_client(args.kubeconfig or os.environ.get("KUBECONFIG"), args.context), FIELD_MANAGER)
    return Context(store=ListStore(kube), kube=kube, caller=functools.cache(lambda: who_am_i(kube)))


def _call(ctx: Any, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    from ecs_operator.ecsapi.operations import call

    ctx.store.refresh()
    return call(ctx, operation, request)


def _pod_of(ctx: Any, cluster: str | None, task: str) -> tuple[str, str]:
    from ecs_operator.ecsapi.clusterref import find_cluster
    from ecs_operator.ecsapi.errors import InvalidParameterException
    from ecs_operator.ecsapi.tasks import find_task

    ref = find_cluster(ctx, cluster)
    found = find_task(ctx, ref, task)
    if found is None or found.pod is None:
        raise InvalidParameterException(f"task {task}: no running Pod (the task is stopped or unknown)")
    return ref.namespace, str(found.pod["metadata"]["name"])


def _scaling(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    """What `describe-scaling` prints; a service with no scalable target answers empty members."""
    from ecs_operator.ecsapi.autoscaling.summary import service_scaling
    from ecs_operator.ecsapi.clusterref import find_cluster
    from ecs_operator.ecsapi.errors import ServiceNotFoundException
    from ecs_operator.ecsapi.services import find_service

    ctx.store.refresh()
    ref = find_cluster(ctx, args.cluster)
    if find_service(ctx, ref, args.service) is None:
        raise ServiceNotFoundException("Service not found.")
    found = service_scaling(ctx, ref.name, args.service, args.max_activities)
    return found or {"ScalableTarget": None, "ScalingPolicies": [], "ScalingActivities": []}


def _kubectl(args: argparse.Namespace, *rest: str) -> list[str]:
    command = [os.environ.get("KUBECTL", "kubectl")]
    if args.kubeconfig:
        command.append(f"--kubeconfig={args.kubeconfig}")
    if args.context:
        command.append(f"--context={args.context}")
    return [*command, *rest]


def run(args: argparse.Namespace) -> int:
    from ecs_operator.ecsapi.errors import EcsError
    from ecs_operator.ecsapi.output import SCALING, render
    from ecs_operator.ecsapi.waiters import NAMES, WaiterError, wait

    ctx = _context(args)
    try:
        if args.verb == "wait":
            request: dict[str, Any] = {"cluster": args.cluster} if args.cluster else {}
            if args.waiter.startswith("services"):
                request["services"] = args.services or []
            else:
                request["tasks"] = args.tasks or []
            wait(
                NAMES[args.waiter],
                lambda op, req: _call(ctx, op, req),
                request,
                args.delay,
                args.max_attempts,
            )
            return 0
        if args.verb == "describe-scaling":
            print(render(SCALING, _scaling(ctx, args), args.output))
            return 0
        if args.verb in ("logs", "execute-command"):
            namespace, pod = _pod_of(ctx, args.cluster, args.task)
            container = ["-c", args.container] if args.container else []
            if args.verb == "logs":
                command = _kubectl(
                    args, "logs", "-n", namespace, pod, *container, *(["-f"] if args.follow else [])
                )
            else:
                tty = ["-it"] if args.interactive else []
                command = _kubectl(
                    args, "exec", *tty, "-n", namespace, pod, *container, "--", *shlex.split(args.command)
                )
            os.execvp(command[0], command)
        operation = args.operation
        response = _call(ctx, operation, request_of(args))
        print(render(operation, response, args.output))
        return 0
    except EcsError as error:
        operation = getattr(args, "operation", args.verb)
        print(
            f"An error occurred ({error.code}) when calling the {operation} operation: {error.message}",
            file=sys.stderr,
        )
        return EXIT_SERVICE_ERROR
    except WaiterError as error:
        print(str(error), file=sys.stderr)
        return 255


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
