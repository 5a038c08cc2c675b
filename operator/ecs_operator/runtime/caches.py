"""The watch caches of one process: one informer per kind it reads, started together, synced together."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.kube import Kube, new_api_client, resource_for
from ecs_operator.runtime.informer import IndexFunction, Informer, Projection, without_managed_fields


@dataclass(frozen=True)
class Source:
    """What a process watches of a kind: which objects (label selector), what it keeps, how it finds them."""

    kind: str
    selector: str = ""
    project: Projection = without_managed_fields
    indexes: Mapping[str, IndexFunction] = field(default_factory=dict)
    namespace: str | None = None  # only this namespace (account-level objects), else every one


def namespace_filter(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a namespace is served: every one without patterns, else those matching one (globs)."""
    if not patterns:
        return lambda _: True
    return lambda namespace: any(fnmatch.fnmatchcase(namespace, p) for p in patterns)


def _served(project: Projection, serves: Callable[[str], bool]) -> Projection:
    def projection(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return project(obj) if serves(str((obj.get("metadata") or {}).get("namespace", ""))) else None

    return projection


class Caches:
    def __init__(
        self,
        sources: Iterable[Source],
        *,
        client_factory: Callable[[], Kube] = lambda: Kube(new_api_client()),
        serves: Callable[[str], bool] = lambda _: True,
    ) -> None:
        self._informers: dict[str, Informer] = {}
        for source in sources:
            namespaced = resource_for(source.kind).namespaced and source.namespace is None
            project = _served(source.project, serves) if namespaced else source.project
            # Each informer has its own client: a watch holds its connection for minutes.
            self._informers[source.kind] = Informer(
                client_factory(),
                source.kind,
                source.selector,
                project=project,
                indexes=source.indexes,
                namespace=source.namespace,
            )

    def __getitem__(self, kind: str) -> Informer:
        return self._informers[kind]

    def __contains__(self, kind: str) -> bool:
        return kind in self._informers

    def index_of(self, kind: str, index: str, obj: Mapping[str, Any]) -> tuple[Any, ...]:
        return self._informers[kind].indexed_by(index, obj)

    @property
    def kinds(self) -> list[str]:
        return list(self._informers)

    def start(self) -> None:
        for informer in self._informers.values():
            informer.start()

    def stop(self) -> None:
        for informer in self._informers.values():
            informer.stop()

    def synced(self) -> bool:
        return all(i.synced.is_set() for i in self._informers.values())

    def wait_synced(self, stop: threading.Event) -> bool:
        """Block until every informer has listed once (True), or `stop` is set (False)."""
        for informer in self._informers.values():
            while not informer.synced.wait(0.1):
                if stop.is_set():
                    return False
        return True
