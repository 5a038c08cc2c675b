"""Whether a child needs applying: intent hashes, drift, and quantities compared by value."""

from ecs_operator.labels import INTENT_ANNOTATION
from ecs_operator.plans.drift import matches, needs_apply, quantity, with_intent_hash

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "demo", "labels": {"a": "b"}},
    "spec": {
        "replicas": 3,
        "template": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "1024Mi"}}}]}},
    },
}


def live_of(intent: dict) -> dict:
    live = {**intent, "status": {"replicas": 3}}
    live["metadata"] = {**intent["metadata"], "uid": "x", "resourceVersion": "5"}
    containers = [{**intent["spec"]["template"]["spec"]["containers"][0], "imagePullPolicy": "Always"}]
    live["spec"] = {**intent["spec"], "strategy": {}, "template": {"spec": {"containers": containers}}}
    live["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "1Gi"}}
    return live


def test_server_defaults_and_canonical_quantities_are_not_drift() -> None:
    intent = with_intent_hash(DEPLOYMENT)
    assert not needs_apply(intent, live_of(intent))


def test_missing_object_changed_intent_and_manual_edits_need_apply() -> None:
    intent = with_intent_hash(DEPLOYMENT)
    assert needs_apply(intent, None)
    live = live_of(intent)
    live["spec"]["replicas"] = 1
    assert needs_apply(intent, live)
    changed = with_intent_hash({**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": 4}})
    assert (
        changed["metadata"]["annotations"][INTENT_ANNOTATION]
        != intent["metadata"]["annotations"][INTENT_ANNOTATION]
    )
    assert needs_apply(changed, live_of(intent))


def test_matches_compares_lists_by_length_and_items() -> None:
    assert matches({"a": [1, 2]}, {"a": [1, 2], "b": 3})
    assert not matches({"a": [1, 2]}, {"a": [1]})
    assert matches({"port": 80}, {"port": "80"})


def test_quantities_are_parsed_by_the_kubernetes_client() -> None:
    assert quantity("1Gi") == quantity("1024Mi") == 1073741824
    assert quantity("250m") == quantity("0.25")
    assert quantity(2) == quantity("2000m")
    assert quantity("nginx") is None
    assert quantity(True) is None
    assert matches({"cpu": "1"}, {"cpu": "1000m"})
    assert not matches({"name": "http"}, {"name": "https"})
