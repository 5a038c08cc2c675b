"""What the List calls and a cluster's statistics read, kept per namespace as the caches change.

ECS answers ListServices and ListTasks a page at a time, in the order of the ARNs (task ids), after the
position a nextToken names. At ECS's quota of 5000 services in a cluster, sorting and decoding every
object for each page costs several times what the page itself does: the watch caches' store keeps each
namespace's services and task Pods as small immutable rows in the order pages are read (`Ordered`), so a
page costs the rows it returns, and the counts DescribeClusters' statistics need (`Tally`).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ecs_operator import identifiers
from ecs_operator.naming import service_name
from ecs_operator.status.pods import task_state

V = TypeVar("V")


@dataclass(frozen=True)
class ServiceRow:
    """An EcsService as ListServices and the cluster's statistics read it."""

    name: str  # its ECS name
    object_name: str
    long_arn: bool
    launch_type: str
    scheduling_strategy: str
    fargate: bool  # runs on the Fargate pool (its launch type or capacity provider strategy)
    draining: bool


RowOrder = Callable[[ServiceRow], str]  # a row's position in a list (ListServices: its ARN)
RowFilter = Callable[[ServiceRow], bool]


def fargate(spec: Mapping[str, Any]) -> bool:
    """Whether a service or task spec sends its tasks to the Fargate pool."""
    strategy = spec.get("capacityProviderStrategy") or ()
    if strategy:
        return all(str(s.get("capacityProvider", "")).startswith("FARGATE") for s in strategy)
    return spec.get("launchType") == "FARGATE"


def service_row(obj: Mapping[str, Any]) -> ServiceRow:
    spec = obj.get("spec") or {}
    metadata = obj.get("metadata") or {}
    return ServiceRow(
        name=service_name(obj),
        object_name=str(metadata.get("name") or ""),
        long_arn=identifiers.long_format(obj),
        launch_type=str(spec.get("launchType") or "EC2"),
        scheduling_strategy=str(spec.get("schedulingStrategy") or "REPLICA"),
        fargate=fargate(spec),
        draining=bool(metadata.get("deletionTimestamp")),
    )


class Ordered(Generic[V]):
    """Rows of one namespace in groups, each group kept sorted by a string (bisect), found by an id.

    Pages merge the groups in the order of `key(row)`, which must follow each group's own order (a
    service's ARN follows its name within one ARN format)."""

    def __init__(self) -> None:
        self._groups: dict[Hashable, list[tuple[str, str]]] = {}  # group -> sorted (sort, id)
        self._rows: dict[str, tuple[Hashable, str, V]] = {}  # id -> (group, sort, row)

    def put(self, ident: str, group: Hashable, sort: str, row: V) -> None:
        self.discard(ident)
        bisect.insort(self._groups.setdefault(group, []), (sort, ident))
        self._rows[ident] = (group, sort, row)

    def discard(self, ident: str) -> None:
        found = self._rows.pop(ident, None)
        if found is None:
            return
        group, sort, _ = found
        entries = self._groups[group]
        del entries[bisect.bisect_left(entries, (sort, ident))]
        if not entries:
            del self._groups[group]

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, ident: str) -> V | None:
        found = self._rows.get(ident)
        return found[2] if found is not None else None

    def rows(self) -> Iterator[V]:
        return (row for _, _, row in self._rows.values())

    def page(
        self,
        key: Callable[[V], str],
        after: str | None,
        keep: Callable[[V], bool],
        size: int,
        groups: Collection[Hashable] | None = None,
    ) -> list[V]:
        """Up to `size` rows that `keep` keeps, in the order of `key`, from the first whose key is past
        `after`; of the `groups` named only, when named."""

        def ordered(entries: list[tuple[str, str]]) -> Iterator[V]:
            start = 0
            if after is not None:
                start = bisect.bisect_right(entries, after, key=lambda entry: key(self._rows[entry[1]][2]))
            return (self._rows[ident][2] for _, ident in itertools.islice(entries, start, None))

        chosen = (
            self._groups.values()
            if groups is None
            else [self._groups[g] for g in groups if g in self._groups]
        )
        merged = heapq.merge(*(ordered(entries) for entries in chosen), key=key)
        return list(itertools.islice((row for row in merged if keep(row)), size))


def page_of(
    rows: Iterable[V], key: Callable[[V], str], after: str | None, keep: Callable[[V], bool], size: int
) -> list[V]:
    """`Ordered.page` over rows listed at once (a store that lists instead of watching)."""
    chosen = sorted((row for row in rows if keep(row)), key=key)
    if after is not None:
        chosen = [row for row in chosen if key(row) > after]
    return chosen[:size]


class Tally:
    """Counts of one namespace: task Pods by (state, node), services by (fargate, draining)."""

    def __init__(self) -> None:
        self.tasks: dict[tuple[str, str | None], int] = {}
        self.services: dict[tuple[bool, bool], int] = {}

    @staticmethod
    def _add(counts: dict[Any, int], key: Any, step: int) -> None:
        value = counts.get(key, 0) + step
        if value:
            counts[key] = value
        else:
            counts.pop(key, None)

    def pod(self, pod: Mapping[str, Any], step: int) -> None:
        self._add(self.tasks, (task_state(pod), (pod.get("spec") or {}).get("nodeName")), step)

    def service(self, row: ServiceRow, step: int) -> None:
        self._add(self.services, (row.fargate, row.draining), step)

    def copy(self) -> Tally:
        result = Tally()
        result.tasks, result.services = dict(self.tasks), dict(self.services)
        return result
