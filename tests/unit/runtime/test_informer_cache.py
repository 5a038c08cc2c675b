"""The informer's cache, fed with watch events directly: projections, indexes, and what it reports."""

import tracemalloc
from collections.abc import Mapping
from typing import Any

from ecs_operator.kube import Kube
from ecs_operator.runtime.informer import Change, Informer


def pod(
    name: str, owner: str, phase: str = "Pending", namespace: str = "demo", **extra: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": {"owner": owner}, **extra},
        "spec": {"containers": [{"name": "c", "image": "x" * 100}]},
        "status": {"phase": phase},
    }


def keep_phase(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {k: obj["metadata"][k] for k in ("name", "namespace", "labels")},
        "status": obj["status"],
    }


def owner_index(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(obj["metadata"]["namespace"], obj["metadata"]["labels"]["owner"])]


def informer() -> tuple[Informer, list[Change]]:
    changes: list[Change] = []
    cache = Informer(Kube(None), "Pod", project=keep_phase, indexes={"owner": owner_index})
    cache.subscribe(changes.append)
    return cache, changes


def test_objects_are_kept_projected_and_found_by_index_and_namespace() -> None:
    cache, _ = informer()
    cache.handle("ADDED", pod("a", "web"))
    cache.handle("ADDED", pod("b", "web"))
    cache.handle("ADDED", pod("c", "db", namespace="other"))
    assert cache.get("demo", "a") == keep_phase(pod("a", "web"))
    assert sorted(p["metadata"]["name"] for p in cache.by_index("owner", ("demo", "web"))) == ["a", "b"]
    assert cache.names("owner", ("other", "db")) == [("other", "c")]
    assert cache.count("owner", ("demo", "web")) == 2
    assert [p["metadata"]["name"] for p in cache.objects("other")] == ["c"]
    assert len(cache) == 3


def test_reads_are_copies_that_cannot_change_the_cache() -> None:
    cache, _ = informer()
    cache.handle("ADDED", pod("a", "web"))
    found = cache.get("demo", "a")
    assert found is not None
    found["status"]["phase"] = "Running"
    assert cache.get("demo", "a")["status"]["phase"] == "Pending"  # type: ignore[index]


def test_relabelling_moves_an_object_between_index_values_and_reports_both_sides() -> None:
    cache, changes = informer()
    cache.handle("ADDED", pod("a", "web"))
    cache.handle("MODIFIED", pod("a", "api"))
    assert cache.count("owner", ("demo", "web")) == 0
    assert cache.names("owner", ("demo", "api")) == [("demo", "a")]
    assert changes[-1].old is not None and changes[-1].old["metadata"]["labels"] == {"owner": "web"}
    assert changes[-1].new is not None and changes[-1].new["metadata"]["labels"] == {"owner": "api"}


def test_a_change_outside_the_projection_is_not_reported() -> None:
    cache, changes = informer()
    cache.handle("ADDED", pod("a", "web"))
    cache.handle("MODIFIED", pod("a", "web", resourceVersion="2", annotations={"noise": "1"}))
    assert len(changes) == 1


def test_deletion_removes_the_object_and_its_index_entries() -> None:
    cache, changes = informer()
    cache.handle("ADDED", pod("a", "web"))
    cache.handle("DELETED", pod("a", "web"))
    assert cache.get("demo", "a") is None
    assert cache.index_values("owner") == []
    assert cache.objects("demo") == []
    assert changes[-1].new is None and changes[-1].old is not None


def test_a_projection_may_leave_objects_out() -> None:
    cache = Informer(
        Kube(None), "Pod", project=lambda o: None if o["metadata"]["namespace"] == "skip" else dict(o)
    )
    cache.handle("ADDED", pod("a", "web", namespace="skip"))
    assert len(cache) == 0


def test_index_values_of_an_object_outside_the_cache() -> None:
    cache, _ = informer()
    assert cache.indexed_by("owner", pod("x", "web")) == (("demo", "web"),)


def test_the_cache_holds_each_projection_in_its_own_size() -> None:
    cache, _ = informer()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(1000):
            cache.handle("ADDED", pod(f"web-{number}", "web"))
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < 2_000_000, f"{used / 1000:.0f} bytes per cached Pod of about 120 bytes of JSON"


def test_a_deleted_object_is_found_among_the_gone_by_its_index_until_it_comes_back_or_expires() -> None:
    from ecs_operator.runtime import informer as informer_module

    now = [0.0]
    cache = Informer(
        Kube(None), "Pod", project=keep_phase, indexes={"owner": owner_index}, clock=lambda: now[0]
    )
    cache.handle("ADDED", pod("a", "web"))
    cache.handle("ADDED", pod("b", "db"))
    cache.handle("DELETED", pod("a", "web", phase="Succeeded"))
    assert [p["status"]["phase"] for p in cache.gone("owner", ("demo", "web"))] == ["Succeeded"]
    assert cache.gone("owner", ("demo", "db")) == []
    cache.handle("ADDED", pod("a", "web"))
    assert cache.gone("owner", ("demo", "web")) == [], "back again: no longer gone"
    cache.handle("DELETED", pod("b", "db"))
    now[0] = informer_module.TOMBSTONE_SECONDS + 1
    assert cache.gone("owner", ("demo", "db")) == [], "expired"
