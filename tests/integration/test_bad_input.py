"""Generated malformed specs through the real API server, with the operator running.

Each malformed EcsTaskDefinition or EcsService is either refused at admission with a message naming the
broken field, or accepted and refused by the operator's parser with such a message (the message the
operator writes into the Degraded condition). A sample of the accepted ones is created for real and must
turn Degraded naming the field. Meanwhile a healthy service stays Ready, the operator keeps running, and at
the end it still reconciles (a scale of the healthy service converges).

Size: `ECS_BAD_INPUT_EXAMPLES` malformed specs through server-side dry run (default 1000) and up to
`ECS_BAD_INPUT_CREATED` of the admitted ones created for real (default 12); `make bench` runs more.
Unknown members are sent with `fieldValidation=Strict`, as kubectl and Argo CD send them.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.operator_helpers import API, Cluster, service, task_definition
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.operator_fixtures"]
pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("ECS_BAD_INPUT_EXAMPLES", "1000"))
CREATED = int(os.environ.get("ECS_BAD_INPUT_CREATED", "12"))
GROUP, VERSION = API.split("/")
HEALTHY = "healthy"  # the healthy service; its family is the test's own (families are account-wide)

Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class Malformed:
    kind: str
    spec: dict[str, Any]
    path: Path
    how: str

    @property
    def field(self) -> str:
        return path_text(self.path)


def with_change(spec: dict[str, Any], path: Path, value: Any, delete: bool = False) -> dict[str, Any]:
    result = json.loads(json.dumps(spec))
    parent = result
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def valid_task_definition(family: str, containers: int) -> dict[str, Any]:
    return {
        "family": family,
        "containerDefinitions": [
            {
                "name": f"c{i}",
                "image": "nginx:1.27",
                "essential": i == 0,
                "cpu": 64,
                "memory": 128,
                "portMappings": [{"containerPort": 8080 + i, "protocol": "tcp"}],
                "environment": [{"name": "MODE", "value": "bench"}],
            }
            for i in range(containers)
        ],
    }


def valid_service(name: str, family: str) -> dict[str, Any]:
    return {
        "serviceName": name,
        "taskDefinition": family,
        "desiredCount": 1,
        "loadBalancers": [{"containerName": "c0", "containerPort": 8080}],
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 50},
    }


words = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
NOT_INTEGER = st.one_of(
    words, st.booleans(), st.lists(st.integers(), max_size=2), st.just({"a": 1}), st.just(1.5)
)
NOT_STRING = st.one_of(st.integers(), st.booleans(), st.lists(words, max_size=2), st.just({"a": "b"}))
NOT_BOOLEAN = st.one_of(words, st.integers(), st.lists(st.booleans(), max_size=2))
NOT_ARRAY = st.one_of(words, st.integers(), st.just({"a": 1}))
NOT_OBJECT = st.one_of(words, st.integers(), st.lists(st.integers(), max_size=2))
WRONG_TYPE = {"integer": NOT_INTEGER, "string": NOT_STRING, "boolean": NOT_BOOLEAN, "array": NOT_ARRAY}
WRONG_TYPE["object"] = NOT_OBJECT
UNKNOWN_MEMBER = words.map(lambda w: f"bogus{w.capitalize()}")
BAD_ENUM = st.text(alphabet=string.ascii_uppercase + "_", min_size=2, max_size=10).map(lambda w: f"X{w}")


def task_definition_fields(i: int) -> list[tuple[Path, str]]:
    c: Path = ("containerDefinitions", i)
    return [
        (("family",), "string"),
        (("containerDefinitions",), "array"),
        ((*c, "name"), "string"),
        ((*c, "image"), "string"),
        ((*c, "memory"), "integer"),
        ((*c, "cpu"), "integer"),
        ((*c, "essential"), "boolean"),
        ((*c, "portMappings"), "array"),
        ((*c, "portMappings", 0, "containerPort"), "integer"),
        ((*c, "environment", 0, "name"), "string"),
    ]


SHAPE_ERRORS = ("wrong type", "unknown member", "bad enum", "missing")
RANGE_ERRORS = ("out of range",)
# References into other lists: admission rules over them would exceed the API server's cost budget, so only
# the operator's parser finds them (the path through Degraded).
REFERENCE_ERRORS = ("dangling reference",)


@st.composite
def malformed_task_definitions(draw: st.DrawFn, hows: tuple[str, ...] = SHAPE_ERRORS) -> Malformed:
    containers = draw(st.integers(1, 3))
    i = draw(st.integers(0, containers - 1))
    family = f"bad-{draw(words)}"
    spec = valid_task_definition(family, containers)
    c: Path = ("containerDefinitions", i)
    how = draw(st.sampled_from(hows))
    if how == "wrong type":
        path, type_name = draw(st.sampled_from(task_definition_fields(i)))
        return Malformed("EcsTaskDefinition", with_change(spec, path, draw(WRONG_TYPE[type_name])), path, how)
    if how == "unknown member":
        prefix: Path = draw(st.sampled_from([(), c, (*c, "portMappings", 0)]))
        path = (*prefix, draw(UNKNOWN_MEMBER))
        return Malformed("EcsTaskDefinition", with_change(spec, path, draw(st.integers())), path, how)
    if how == "bad enum":
        path = draw(st.sampled_from([("networkMode",), (*c, "portMappings", 0, "protocol")]))
        return Malformed("EcsTaskDefinition", with_change(spec, path, draw(BAD_ENUM)), path, how)
    if how == "out of range":
        path, values = draw(
            st.sampled_from(
                [
                    (
                        (*c, "portMappings", 0, "containerPort"),
                        st.one_of(st.integers(max_value=-1), st.integers(65536)),
                    ),
                    ((*c, "memory"), st.integers(max_value=-1)),
                    ((*c, "cpu"), st.integers(max_value=-1)),
                ]
            )
        )
        return Malformed("EcsTaskDefinition", with_change(spec, path, draw(values)), path, how)
    if how == "dangling reference":
        mount = {"sourceVolume": f"no-{draw(words)}", "containerPath": "/data"}
        path = (*c, "mountPoints", 0, "sourceVolume")
        return Malformed("EcsTaskDefinition", with_change(spec, (*c, "mountPoints"), [mount]), path, how)
    path = draw(st.sampled_from([("containerDefinitions",), (*c, "name"), (*c, "image")]))
    return Malformed("EcsTaskDefinition", with_change(spec, path, None, delete=True), path, how)


@st.composite
def malformed_services(
    draw: st.DrawFn, hows: tuple[str, ...] = SHAPE_ERRORS, family: str = HEALTHY
) -> Malformed:
    spec = valid_service(f"bad-{draw(words)}", family)
    lb: Path = ("loadBalancers", 0)
    how = draw(st.sampled_from([h for h in hows if h != "missing"]))
    if how == "wrong type":
        path, type_name = draw(
            st.sampled_from(
                [
                    (("desiredCount",), "integer"),
                    (("serviceName",), "string"),
                    (("taskDefinition",), "string"),
                    (("loadBalancers",), "array"),
                    ((*lb, "containerPort"), "integer"),
                    ((*lb, "containerName"), "string"),
                    (("deploymentConfiguration",), "object"),
                    (("deploymentConfiguration", "maximumPercent"), "integer"),
                ]
            )
        )
        return Malformed("EcsService", with_change(spec, path, draw(WRONG_TYPE[type_name])), path, how)
    if how == "unknown member":
        prefix: Path = draw(st.sampled_from([(), lb, ("deploymentConfiguration",)]))
        path = (*prefix, draw(UNKNOWN_MEMBER))
        return Malformed("EcsService", with_change(spec, path, draw(words)), path, how)
    if how == "bad enum":
        path = draw(st.sampled_from([("launchType",), ("schedulingStrategy",), ("propagateTags",)]))
        return Malformed("EcsService", with_change(spec, path, draw(BAD_ENUM)), path, how)
    path, values = draw(
        st.sampled_from(
            [
                (("desiredCount",), st.integers(max_value=-1)),
                ((*lb, "containerPort"), st.one_of(st.integers(max_value=-1), st.integers(65536))),
                (("deploymentConfiguration", "maximumPercent"), st.integers(max_value=-1)),
            ]
        )
    )
    return Malformed("EcsService", with_change(spec, path, draw(values)), path, how)


PLURALS = {"EcsTaskDefinition": "ecstaskdefinitions", "EcsService": "ecsservices"}


def parser_message(bad: Malformed) -> str | None:
    """What the operator's parser says about the spec (the Degraded message), or None when it accepts."""
    from ecs_operator.api import SpecError, parse_service, parse_task_definition

    parse: Callable[[dict[str, Any]], Any] = (
        parse_task_definition if bad.kind == "EcsTaskDefinition" else parse_service
    )
    try:
        parse(bad.spec)
    except SpecError as error:
        return str(error)
    return None


class Admission:
    """Create custom resources through the API server (dry run or for real), as a strict client does."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        from kubernetes import client

        self.api = client.CustomObjectsApi(api_client)
        self.namespace = namespace
        self.created = 0

    def create(self, bad: Malformed, name: str, dry_run: bool) -> str | None:
        """None when admitted, else the API server's message."""
        from kubernetes.client.exceptions import ApiException

        body = {"apiVersion": API, "kind": bad.kind, "metadata": {"name": name}, "spec": bad.spec}
        extra = (
            {"dry_run": "All", "field_validation": "Strict"} if dry_run else {"field_validation": "Strict"}
        )
        try:
            if bad.kind == "EcsTaskDefinition":  # cluster-scoped: task definitions are regional
                self.api.create_cluster_custom_object(GROUP, VERSION, PLURALS[bad.kind], body, **extra)
            else:
                self.api.create_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, PLURALS[bad.kind], body, **extra
                )
        except ApiException as error:
            if error.status not in (400, 422):
                raise
            try:
                return str(json.loads(error.body).get("message"))
            except (TypeError, ValueError):
                return str(error.body)
        return None

    def degraded_message(self, bad: Malformed, name: str) -> str:
        if bad.kind == "EcsTaskDefinition":
            obj = self.api.get_cluster_custom_object(GROUP, VERSION, PLURALS[bad.kind], name)
        else:
            obj = self.api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURALS[bad.kind], name
            )
        for condition in (obj.get("status") or {}).get("conditions") or ():
            if condition.get("type") == "Degraded" and condition.get("status") == "True":
                return str(condition.get("message") or "")
        return ""


def operator_log_problems(operator: Any, start: int) -> list[str]:
    text = operator.log_path.read_bytes()[start:].decode(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or '"level": "error"' in line]


def test_malformed_specs_are_refused_naming_the_field_and_the_operator_stays_healthy(
    ecs_cluster: Cluster, ecs_operator: Any, api_client: Any
) -> None:
    healthy = ecs_cluster.family(HEALTHY)
    ecs_cluster.apply(
        task_definition(healthy),
        service(HEALTHY, healthy, desired=1, loadBalancers=[{"containerName": "app", "containerPort": 80}]),
    )
    ecs_cluster.wait_condition("ecsservice", HEALTHY, "Ready")
    log_start = ecs_operator.log_path.stat().st_size
    admission = Admission(api_client, ecs_cluster.namespace)
    outcomes: dict[str, int] = {
        "refused at admission": 0,
        "refused by the operator's parser": 0,
        "created": 0,
    }

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        bad=st.one_of(
            malformed_task_definitions(SHAPE_ERRORS + REFERENCE_ERRORS),
            malformed_services(SHAPE_ERRORS, healthy),
        )
    )
    def check(bad: Malformed) -> None:
        name = bad.spec.get("family") if bad.kind == "EcsTaskDefinition" else bad.spec.get("serviceName")
        name = name if isinstance(name, str) and name.startswith("bad-") else "bad-unnamed"
        refusal = admission.create(bad, name, dry_run=True)
        if refusal is not None:
            assert bad.field in refusal, f"{bad.how} at {bad.field}: the refusal does not name it: {refusal}"
            outcomes["refused at admission"] += 1
            return
        message = parser_message(bad)
        assert message is not None, (
            f"{bad.how} at {bad.field} was admitted and the operator accepts it: {bad.spec}"
        )
        assert bad.field in message, (
            f"{bad.how} at {bad.field}: the operator's message does not name it: {message}"
        )
        outcomes["refused by the operator's parser"] += 1
        if admission.created < CREATED:
            real_name = ecs_cluster.family(f"bad-created-{admission.created}")  # removed afterwards
            admission.created += 1
            assert admission.create(bad, real_name, dry_run=False) is None
            degraded = wait_for(
                lambda: admission.degraded_message(bad, real_name),
                timeout=60,
                message=f"{bad.kind}/{real_name} Degraded naming {bad.field}",
            )
            assert bad.field in degraded, degraded
            assert ecs_cluster.is_true("ecsservice", HEALTHY, "Ready"), ecs_cluster.status(
                "ecsservice", HEALTHY
            )
            outcomes["created"] += 1

    check()

    print(f"malformed specs: {EXAMPLES}; {outcomes}")
    assert outcomes["refused at admission"] + outcomes["refused by the operator's parser"] >= EXAMPLES
    if EXAMPLES >= 100 and CREATED:
        assert outcomes["created"] > 0, "no malformed spec got past admission to the operator"
    assert ecs_operator.process is not None and ecs_operator.process.poll() is None, ecs_operator.log_tail()
    # Not stalled: the healthy service still reconciles a change.
    ecs_cluster.kubectl("scale", "ecsservice", HEALTHY, "-n", ecs_cluster.namespace, "--replicas=2")
    wait_for(
        lambda: (
            ecs_cluster.status("ecsservice", HEALTHY).get("runningCount") == 2
            and ecs_cluster.is_true("ecsservice", HEALTHY, "Ready")
        ),
        timeout=90,
        message=f"healthy service scaled to 2 ({ecs_cluster.status('ecsservice', HEALTHY)})",
    )
    assert operator_log_problems(ecs_operator, log_start) == []


def test_out_of_range_numbers_are_refused_naming_the_field(
    ecs_crds: Any, namespace: str, api_client: Any
) -> None:
    admission = Admission(api_client, namespace)

    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(bad=st.one_of(malformed_task_definitions(RANGE_ERRORS), malformed_services(RANGE_ERRORS)))
    def check(bad: Malformed) -> None:
        refusal = admission.create(bad, "bad-range", dry_run=True)
        message = refusal if refusal is not None else parser_message(bad)
        assert message is not None and bad.field in message, f"{bad.field} = out of range was accepted"

    check()
