"""The watch cache the services' children are read from, against the real API server: it lists, follows
creations, relabelling and deletions, and reports each change under the key of the owning service."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from ecs_operator import kube, labels
from ecs_operator.runtime import Change, Informer

from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration

SELECTOR = f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE},{labels.SERVICE}"


def service_object(namespace: str, name: str, owner: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.SERVICE: owner},
        },
        "spec": {"ports": [{"port": 80}], "clusterIP": "None"},
    }


def project(obj: Mapping[str, Any]) -> dict[str, Any]:
    metadata = obj["metadata"]
    return {"name": metadata["name"], "namespace": metadata["namespace"], "labels": metadata.get("labels")}


def owner_key(projected: Mapping[str, Any]) -> list[tuple[str, str]]:
    owner = (projected.get("labels") or {}).get(labels.SERVICE)
    return [(projected["namespace"], owner)] if owner else []


class Changes:
    def __init__(self) -> None:
        self.keys: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, change: Change) -> None:
        keys = {key for obj in (change.old, change.new) if obj is not None for key in owner_key(obj)}
        with self.lock:
            self.keys.extend(sorted(keys))

    def seen(self, key: tuple[str, str]) -> bool:
        with self.lock:
            return key in self.keys


@pytest.fixture
def client(api_client: Any) -> kube.Kube:
    return kube.Kube(api_client)


@pytest.fixture
def informer(client: kube.Kube, namespace: str) -> Iterator[tuple[Informer, Changes]]:
    client.apply(service_object(namespace, "web-a", "web"))
    changes = Changes()
    watcher = Informer(client, "Service", SELECTOR, project=project, indexes={"owner": owner_key})
    watcher.subscribe(changes)
    watcher.start()
    yield watcher, changes
    watcher.stop()


def names(watcher: Informer, key: tuple[str, str]) -> set[str]:
    return {obj["name"] for obj in watcher.by_index("owner", key)}


def test_lists_then_follows_creation_relabelling_and_deletion(
    informer: tuple[Informer, Changes], client: kube.Kube, namespace: str
) -> None:
    watcher, changes = informer
    web, api = (namespace, "web"), (namespace, "api")
    wait_for(watcher.synced.is_set, timeout=30, message="the first list")
    assert names(watcher, web) == {"web-a"}
    assert changes.seen(web)

    client.apply(service_object(namespace, "api-a", "api"))
    wait_for(lambda: names(watcher, api) == {"api-a"}, timeout=30, message="the new Service under api")
    assert changes.seen(api)

    client.apply(service_object(namespace, "web-a", "api"))  # relabelled: it moves to the other service
    wait_for(lambda: names(watcher, api) == {"api-a", "web-a"}, timeout=30, message="web-a under api")
    assert names(watcher, web) == set()

    before = len(changes.keys)
    client.delete("Service", "api-a", namespace)
    wait_for(lambda: names(watcher, api) == {"web-a"}, timeout=30, message="api-a gone")
    assert len(changes.keys) > before


def test_an_unchanged_projection_is_not_reported(
    informer: tuple[Informer, Changes], client: kube.Kube, namespace: str
) -> None:
    watcher, changes = informer
    wait_for(watcher.synced.is_set, timeout=30, message="the first list")
    before = len(changes.keys)
    annotated = service_object(namespace, "web-a", "web")
    annotated["metadata"]["annotations"] = {"example.com/note": "not projected"}
    client.apply(annotated)
    client.apply(service_object(namespace, "web-b", "web"))  # a later change, to know the first arrived
    wait_for(lambda: names(watcher, (namespace, "web")) == {"web-a", "web-b"}, timeout=30, message="web-b")
    assert changes.keys[before:] == [(namespace, "web")]
