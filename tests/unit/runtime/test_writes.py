"""Stand-ins for the operator's own writes until the watch shows them, on a fake clock."""

from collections.abc import Mapping
from typing import Any

from ecs_operator.labels import INTENT_ANNOTATION
from ecs_operator.runtime.informer import Change
from ecs_operator.runtime.writes import STANDS_IN_SECONDS, OwnWrites

KEY = ("Deployment", "demo", "web")


def by_namespace(obj: Mapping[str, Any]) -> tuple[str, ...]:
    return (obj["metadata"]["namespace"],)


def pending(writes: OwnWrites, namespace: str = "demo") -> list[dict[str, Any]]:
    return writes.pending("Deployment", "namespace", namespace, by_namespace)


def deployment(intent: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "demo",
            "annotations": {INTENT_ANNOTATION: intent},
            "managedFields": [{"manager": "ecs-operator"}],
        },
        "spec": {"replicas": replicas},
    }


def service(resource_version: str) -> dict[str, Any]:
    return {
        "kind": "EcsService",
        "metadata": {"name": "web", "namespace": "demo", "resourceVersion": resource_version},
    }


def test_an_own_apply_stands_in_until_the_watch_shows_it() -> None:
    writes = OwnWrites()
    writes.applied(deployment("h2", replicas=2))
    live = writes.live(deployment("h1"), KEY)
    assert live is not None and live["spec"]["replicas"] == 2, "the watch still shows h1"
    assert "managedFields" not in live["metadata"]
    assert [o["metadata"]["name"] for o in pending(writes)] == ["web"]
    assert pending(writes, "other") == [], "only the children the index maps to the value asked for"

    writes.child_seen(Change("Deployment", deployment("h1"), deployment("h2", replicas=5)))
    assert writes.live(deployment("h2", replicas=5), KEY) == deployment("h2", replicas=5)
    assert pending(writes) == []


def test_a_stand_in_is_indexed_once_however_many_passes_look() -> None:
    writes = OwnWrites()
    writes.applied(deployment("h2"))
    calls: list[str] = []

    def counted(obj: Mapping[str, Any]) -> tuple[str, ...]:
        calls.append(obj["metadata"]["name"])
        return by_namespace(obj)

    for namespace in ("demo", "other", "demo"):
        writes.pending("Deployment", "namespace", namespace, counted)
    assert calls == ["web"]


def test_a_stand_in_expires() -> None:
    now = [0.0]
    writes = OwnWrites(clock=lambda: now[0])
    writes.applied(deployment("h2"))
    now[0] = STANDS_IN_SECONDS + 1
    assert writes.live(None, KEY) is None
    assert pending(writes) == []


def test_a_deleted_child_is_missing_even_right_after_an_own_apply() -> None:
    writes = OwnWrites()
    writes.applied(deployment("h3"))
    assert writes.live(None, KEY) is not None
    writes.child_seen(Change("Deployment", deployment("h3"), None))
    assert writes.live(None, KEY) is None
    writes.applied(deployment("h4"))
    writes.deleted(KEY)
    assert writes.live(None, KEY) is None


def test_the_cached_resource_is_used_unless_an_own_write_is_newer() -> None:
    writes = OwnWrites()
    key = ("EcsService", "demo", "web")
    reads: list[str] = []

    def read() -> dict[str, Any]:
        reads.append("GET")
        return service("9")

    assert writes.current(service("5"), key, read) == service("5")
    writes.wrote(service("7"))
    assert writes.current(service("7"), key, read) == service("7")
    assert writes.current(service("5"), key, read) == service("9"), "the cache lags: read it"
    assert reads == ["GET"]


def test_a_read_showing_the_cache_current_forgets_a_write_whose_echo_went_unseen() -> None:
    writes = OwnWrites()
    key = ("EcsService", "demo", "web")
    writes.wrote(service("7"))
    reads: list[str] = []

    def read() -> dict[str, Any]:
        reads.append("GET")
        return service("8")

    assert writes.current(service("8"), key, read) == service("8")
    assert writes.current(service("8"), key, read) == service("8")
    assert reads == ["GET"]


def test_the_echo_of_an_own_write_is_recognised_once() -> None:
    writes = OwnWrites()
    writes.wrote(service("7"))
    assert not writes.is_echo(Change("EcsService", service("5"), service("6")))
    assert writes.is_echo(Change("EcsService", service("6"), service("7")))
    assert not writes.is_echo(Change("EcsService", service("6"), service("7")))
    assert not writes.is_echo(Change("EcsService", service("7"), None))


def test_two_writes_in_one_pass_are_both_recognised_as_echoes() -> None:
    writes = OwnWrites()
    key = ("EcsService", "demo", "web")
    writes.wrote(service("7"))  # finalizers
    writes.wrote(service("8"))  # status
    reads: list[str] = []
    assert writes.current(service("7"), key, lambda: reads.append("GET") or service("8")) == service("8")
    assert writes.is_echo(Change("EcsService", service("6"), service("7")))
    assert writes.is_echo(Change("EcsService", service("7"), service("8")))
    assert writes.current(service("8"), key, lambda: reads.append("GET") or service("9")) == service("8")
    assert reads == ["GET"]


def test_a_stand_in_applied_again_is_found_under_its_new_index_value_only() -> None:
    writes = OwnWrites()

    def by_intent(obj: Mapping[str, Any]) -> tuple[str, ...]:
        return (obj["metadata"]["annotations"][INTENT_ANNOTATION],)

    def names(intent: str) -> list[str]:
        return [o["metadata"]["name"] for o in writes.pending("Deployment", "intent", intent, by_intent)]

    writes.applied(deployment("h1"))
    assert names("h1") == ["web"]
    writes.applied(deployment("h2"))
    assert names("h1") == [], "the earlier apply of the same object no longer stands in"
    assert names("h2") == ["web"]
    writes.deleted(KEY)
    assert names("h2") == []
    writes.applied(deployment("h3"))
    assert names("h3") == ["web"]
    writes.clear()
    assert names("h3") == []
