import argparse
import json
import logging

import pytest
from ecs_operator import logs, metrics, run
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


def test_run_command_options() -> None:
    parser = argparse.ArgumentParser()
    run.register(parser.add_subparsers())
    args = parser.parse_args(["run", "--namespace", "a", "--namespace", "b-*", "--metrics-port", "0"])
    assert (args.namespace, args.metrics_port, args.liveness_port) == (["a", "b-*"], 0, 8081)
    assert args.handler is run.run
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--namespace", "a", "--all-namespaces"])


def test_json_log_lines_carry_the_object() -> None:
    record = logging.LogRecord("kopf.objects", logging.WARNING, __file__, 1, "failed %s", ("x",), None)
    record.k8s_ref = {"kind": "EcsService", "namespace": "demo", "name": "web", "uid": "u"}
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["level"] == "warning" and line["message"] == "failed x"
    assert line["object"] == {"kind": "EcsService", "namespace": "demo", "name": "web"}


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
        ("ecs_operator.runtime", "something will retry", "ERROR"),
    ],
)
def test_kopf_retries_are_logged_as_warnings_and_real_errors_stay_errors(
    logger: str, message: str, level: str
) -> None:
    record = logging.LogRecord(logger, logging.ERROR, __file__, 1, message, None, None)
    assert logs.RetriesAreWarnings().filter(record)
    assert record.levelname == level


def test_every_kind_has_one_controller_registered_the_same_way() -> None:
    import ecs_operator.controllers  # noqa: F401  (registers the controllers)
    from ecs_operator.controllers.sources import SOURCES
    from ecs_operator.runtime.controller import REGISTRY

    # The four custom resources, and the container instances (Nodes) the ECS API may ask to drain.
    assert sorted(REGISTRY) == ["EcsCluster", "EcsService", "EcsTask", "EcsTaskDefinition", "Node"]
    watched = {source.kind for source in SOURCES}
    for controller in REGISTRY.values():
        assert controller.kind in watched
        assert {watch.kind for watch in controller.watches} <= watched
        assert set(controller.applies) <= watched, "the executor's stand-ins need the applied kinds watched"
