"""How a kind registers with the runtime: its key, what it watches, how it gathers and plans one pass.

Every kind is the same shape:
- `gather_<kind>(key, view) -> Snapshot` reads everything one pass needs from the watch caches;
- `reconcile_<kind>(key, snapshot) -> Plan | None` is pure: it parses the spec, translates, and decides the
  children to apply and prune, the status and the Events (None: the object is gone, nothing to do);
- the runtime performs the plan (`execute`) and schedules the key again if the plan asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ecs_operator.plans.plan import Plan
from ecs_operator.runtime.informer import Change

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds
S = TypeVar("S")


class View(Protocol):
    """What a gather function may read: the caches, with the operator's own writes standing in."""

    def cached(self, kind: str, key: Key) -> dict[str, Any] | None: ...

    def custom_resource(self, kind: str, key: Key) -> dict[str, Any] | None: ...

    def children(
        self, kinds: Iterable[str], index: str, value: Any
    ) -> dict[tuple[str, str], dict[str, Any]]: ...

    def by_index(self, kind: str, index: str, value: Any) -> list[dict[str, Any]]: ...

    def count(self, kind: str, index: str, value: Any) -> int: ...

    def gone(self, kind: str, index: str, value: Any) -> list[dict[str, Any]]:
        """The last state of recently deleted objects (what their deletion's pass records)."""
        ...

    def names(self, kind: str, index: str, value: Any) -> list[Key]: ...


KeysOf = Callable[[Mapping[str, Any], View], Iterable[Key]]


@dataclass(frozen=True)
class Watch:
    """A kind whose changes concern this controller's keys: `keys(object, view)` says which. With `reads`,
    only changes to what `reads(object)` returns do (the part of the object the controller uses), so a
    busy object's other fields (an EcsCluster's counts) do not wake every key that looks at it."""

    kind: str
    keys: KeysOf
    reads: Callable[[Mapping[str, Any]], Any] | None = None

    def unchanged(self, change: Change) -> bool:
        """The change leaves what this controller reads as it was."""
        if self.reads is None or change.old is None or change.new is None:
            return False
        return bool(self.reads(change.old) == self.reads(change.new))


def own_key(obj: Mapping[str, Any], view: View) -> Iterable[Key]:
    metadata = obj.get("metadata") or {}
    return [(str(metadata.get("namespace", "")), str(metadata["name"]))]


def via_index(kind: str, index: str, of: Callable[[Mapping[str, Any]], Iterable[Any]]) -> KeysOf:
    """Keys of `kind` that its `index` maps each value `of(object)` gives to (e.g. a child's owner label)."""

    def keys(obj: Mapping[str, Any], view: View) -> Iterable[Key]:
        return [key for value in of(obj) for key in view.names(kind, index, value)]

    return keys


@dataclass(frozen=True)
class Controller(Generic[S]):
    kind: str  # the custom resource this controller reconciles (watched implicitly, keyed by own_key)
    gather: Callable[[Key, View], S]
    reconcile: Callable[[Key, S], Plan | None]
    watches: tuple[Watch, ...] = ()
    # What its plans may write besides the custom resource's status (the executor refuses anything else,
    # so this declaration is what the least-privilege ClusterRole is checked against):
    applies: tuple[str, ...] = ()  # kinds of children it server-side applies
    deletes: tuple[str, ...] = ()  # kinds of children it deletes
    patches: tuple[str, ...] = ()  # kinds it merge-patches (`Plan.patches`)
    finalizers: tuple[str, ...] = ()  # finalizers it adds or removes on the custom resource
    workers: int = 4
    # Changes other than a new spec or a deletion fold into one pass this long after the first of them;
    # with `settle`, into one pass once they have stopped for `settle` seconds (`debounce` at the latest).
    debounce: float = 0.5
    settle: float | None = None
    # Called when the object is gone, to drop what the process remembers of it.
    forget: Callable[[Key], None] = field(default=lambda _: None)


REGISTRY: dict[str, Controller[Any]] = {}


def register(controller: Controller[Any]) -> Controller[Any]:
    REGISTRY[controller.kind] = controller
    return controller
