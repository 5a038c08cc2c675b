"""The runtime's workers run only while the replica leads, and its writes go through a fenced client."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from ecs_operator.kube import Kube, NotLeading, Transport
from ecs_operator.runtime import Caches, Controller, Plan, Runtime, Source
from ecs_operator.runtime.queue import DONE

SOURCES = (Source("EcsService"),)


class Recording(Transport):
    """A transport that records the requests it would send."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def send(self, method: str, path: str, *_: Any, **__: Any) -> Any:
        self.calls.append(f"{method} {path}")
        raise AssertionError("no request reaches the API server in these tests")


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": name, "namespace": "demo", "generation": 1, "resourceVersion": "1"},
        "spec": {},
    }


def runtime(client: Kube, reconcile: Any = lambda key, snapshot: None) -> Runtime:
    controller = Controller(
        "EcsService", gather=lambda key, view: view.cached("EcsService", key), reconcile=reconcile
    )
    caches = Caches(SOURCES, client_factory=lambda: Kube(None))
    result = Runtime([controller], SOURCES, client, caches=caches)
    result.wire()
    return result


def test_a_fenced_client_sends_no_write_while_its_fence_is_down_and_reads_still_go() -> None:
    api = Recording()
    up = threading.Event()
    client = Kube(api, fence=up.is_set)
    with pytest.raises(NotLeading, match="not the leader"):
        client.apply({"kind": "Service", "metadata": {"name": "web", "namespace": "demo"}})
    with pytest.raises(NotLeading):
        client.patch_status("EcsService", "web", "demo", {"runningCount": 1})
    with pytest.raises(NotLeading):
        client.delete("Pod", "web-1", "demo")
    with pytest.raises(NotLeading):  # other failures to post an Event are only logged
        client.post_event(service("web"), "Reason", "message")
    assert api.calls == []
    with pytest.raises(AssertionError, match="no request"):
        client.get("EcsService", "web", "demo")
    assert api.calls == ["GET /apis/ecs.operator.dev/v1alpha1/namespaces/demo/ecsservices/web"]


class Passes(list[tuple[str, str]]):
    """A reconcile that plans nothing and records its keys; `seen(n)` waits for n passes."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()

    def __call__(self, key: tuple[str, str], snapshot: Any) -> Plan | None:
        with self._changed:
            self.append(key)
            self._changed.notify_all()
        return None

    def seen(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self) >= count, timeout=10)


def test_a_standby_queues_keys_but_runs_no_worker_until_it_leads_and_stops_them_when_it_follows() -> None:
    passes = Passes()
    rt = runtime(Kube(Recording()), passes)
    informer = rt.caches["EcsService"]
    informer.handle("ADDED", service("web"))
    informer.handle("ADDED", service("api"))
    informer.synced.set()
    assert len(rt.queues["EcsService"]) == 2 and not rt.leading()
    rt.lead()
    assert passes.seen(2) and sorted(passes) == [("demo", "api"), ("demo", "web")]
    rt.follow()
    assert not rt.leading()
    informer.handle(
        "MODIFIED", {**service("web"), "metadata": {**service("web")["metadata"], "generation": 2}}
    )
    assert rt.queues["EcsService"].pop()[0] == ("demo", "web"), "the standby still queues what changes"
    rt.queues["EcsService"].done(("demo", "web"), DONE)
    assert len(passes) == 2


def test_taking_the_lease_reconciles_every_cached_key_once() -> None:
    seen = Passes()
    rt = runtime(Kube(Recording()), seen)
    informer = rt.caches["EcsService"]
    for name in ("a", "b", "c"):
        informer.handle("ADDED", service(name))
    for queue in rt.queues.values():  # what a standby had queued was, say, already taken: lead() queues all
        while (key := queue.pop()[0]) is not None:
            queue.done(key, DONE)
    informer.synced.set()
    rt.lead()
    try:
        assert seen.seen(3)
    finally:
        rt.stop()
    assert sorted(seen) == [("demo", "a"), ("demo", "b"), ("demo", "c")]


def test_a_pass_whose_write_is_refused_by_the_fence_waits_for_the_next_leader() -> None:
    refused = threading.Event()

    def reconcile(key: tuple[str, str], snapshot: Any) -> Plan:
        return Plan(body=snapshot, status={"runningCount": 1})

    class Fence:
        def __call__(self) -> bool:
            refused.set()
            return False

    rt = runtime(Kube(Recording(), fence=Fence()), reconcile)
    rt.caches["EcsService"].handle("ADDED", service("web"))
    rt.caches["EcsService"].synced.set()
    rt.lead()
    try:
        assert refused.wait(10)
    finally:
        rt.follow()
    queue = rt.queues["EcsService"]
    assert len(queue) == 1 and queue.failures(("demo", "web")) == 0, "requeued, not counted as a failure"
