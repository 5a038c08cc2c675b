import argparse
import json
import logging

import pytest
from ecs_operator import metrics, runner
from ecs_operator.handlers._sync import Coalescer
from prometheus_client import REGISTRY


def value(name: str, **labels: str) -> float:
    return float(REGISTRY.get_sample_value(name, labels) or 0.0)


def test_observe_counts_ok_errors_and_retries_separately() -> None:
    kind = "UnitTestKind"
    with metrics.observe(kind):
        pass
    with pytest.raises(ValueError), metrics.observe(kind):
        raise ValueError("boom")

    class TemporaryError(Exception):
        pass

    with pytest.raises(TemporaryError), metrics.observe(kind):
        raise TemporaryError("later")
    assert value("ecs_operator_reconcile_total", kind=kind, result="ok") == 1
    assert value("ecs_operator_reconcile_total", kind=kind, result="error") == 1
    assert value("ecs_operator_reconcile_total", kind=kind, result="retry") == 1
    assert value("ecs_operator_reconcile_errors_total", kind=kind) == 1
    assert value("ecs_operator_reconcile_duration_seconds_count", kind=kind) == 3


def test_managed_set_gauge_follows_adds_and_removals() -> None:
    managed = metrics.ManagedSet("UnitTestManaged")
    managed.add("ns", "a")
    managed.add("ns", "a")
    managed.add("ns", "b")
    assert value("ecs_operator_managed_objects", kind="UnitTestManaged") == 2
    managed.discard("ns", "a")
    assert value("ecs_operator_managed_objects", kind="UnitTestManaged") == 1


def test_run_command_options() -> None:
    parser = argparse.ArgumentParser()
    runner.register(parser.add_subparsers())
    args = parser.parse_args(["run", "--namespace", "a", "--namespace", "b-*", "--metrics-port", "0"])
    assert (args.namespace, args.metrics_port, args.liveness_port) == (["a", "b-*"], 0, 8081)
    assert args.handler is runner.run
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--namespace", "a", "--all-namespaces"])


def test_json_log_lines_carry_the_object() -> None:
    record = logging.LogRecord("kopf.objects", logging.WARNING, __file__, 1, "failed %s", ("x",), None)
    record.k8s_ref = {"kind": "EcsService", "namespace": "demo", "name": "web", "uid": "u"}
    line = json.loads(runner.JsonFormatter().format(record))
    assert line["level"] == "warning" and line["message"] == "failed x"
    assert line["object"] == {"kind": "EcsService", "namespace": "demo", "name": "web"}


def test_coalescer_reruns_once_for_triggers_that_arrive_while_running() -> None:
    coalescer = Coalescer()
    calls: list[int] = []

    def work() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            coalescer.run("k", work)  # arrives while running: marks dirty, returns at once
            coalescer.run("k", work)  # a second trigger in the same burst adds nothing

    coalescer.run("k", work)
    assert calls == [0, 1]
    coalescer.run("k", work)
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("logger", "message", "level"),
    [
        ("kopf._cogs.clients.watching", "Request attempt #1/9 failed; will retry: GET … 429", "WARNING"),
        (
            "kopf.objects",
            "Handler 'delete_cluster' failed temporarily: The cluster cannot be deleted",
            "WARNING",
        ),
        ("kopf.objects", "Handler 'x' failed with an exception. Will retry.", "ERROR"),
        ("ecs_operator.handlers", "something will retry", "ERROR"),
    ],
)
def test_kopf_retries_are_logged_as_warnings_and_real_errors_stay_errors(
    logger: str, message: str, level: str
) -> None:
    record = logging.LogRecord(logger, logging.ERROR, __file__, 1, message, None, None)
    assert runner.RetriesAreWarnings().filter(record)
    assert record.levelname == level


def test_the_diff_base_is_built_exactly_for_the_kinds_with_change_handlers() -> None:
    import kopf
    from ecs_operator import API_GROUP, API_VERSION
    from ecs_operator.handlers import settings
    from kopf._cogs.structs import references

    registry = kopf.get_default_registry()
    handled = {
        kind
        for kind, plural in (
            ("EcsCluster", "ecsclusters"),
            ("EcsTaskDefinition", "ecstaskdefinitions"),
            ("EcsService", "ecsservices"),
            ("EcsTask", "ecstasks"),
        )
        if registry._changing.has_handlers(resource=references.Resource(API_GROUP, API_VERSION, plural))
    }
    assert handled == settings.CHANGE_HANDLED_KINDS

    storage = settings.ChangeHandledKindsDiffBase(prefix=API_GROUP, key="last-handled-configuration")
    pod = kopf.Body({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}})
    task = kopf.Body({"kind": "EcsTask", "metadata": {"name": "t"}, "spec": {"count": 1}})
    assert storage.build(body=pod) == {}
    assert storage.build(body=task) == {"spec": {"count": 1}}
