"""What the operations share: resolving the cluster a request names, the regional task definitions and their
revisions, paging, and waiting for the caches to show a write."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ecs_operator import identifiers
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.errors import ClusterNotFoundException, EcsError, InvalidParameterException, named
from ecs_operator.naming import cluster_namespace, is_ecs_name
from ecs_operator.resources import SpecError, parse_task_definition
from ecs_operator.revisions import (
    NumbersError,
    Revision,
    claimed,
    family_state,
    from_controller_revision,
    resolve,
)
from ecs_operator.status.conditions import READY, condition_status

DEFAULT_CLUSTER = "default"
# A cluster's namespace is made by the operator within a second or two of CreateCluster; a write into a
# cluster younger than this waits for it, so any call right after CreateCluster works.
NEW_CLUSTER_SECONDS = 30.0
T = TypeVar("T")
Obj = Mapping[str, Any]


def _oldest_live(objects: Sequence[Obj]) -> Obj | None:
    """Of several objects claiming one ECS name, the one that has it: live before deleting, then oldest."""
    ordered = sorted(
        objects,
        key=lambda o: (
            bool((o.get("metadata") or {}).get("deletionTimestamp")),
            str((o.get("metadata") or {}).get("creationTimestamp") or ""),
            str((o.get("metadata") or {}).get("name")),
        ),
    )
    return ordered[0] if ordered else None


# --- clusters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterRef:
    name: str  # the ECS name
    namespace: str
    obj: Obj


def cluster_name(reference: str | None) -> str:
    """`cluster` as a request gives it (name, ARN or nothing) -> the name; nothing means `default`."""
    if not reference:
        return DEFAULT_CLUSTER
    return identifiers.name_in(reference, "cluster")


def cluster_object(ctx: Context, name: str) -> Obj | None:
    """The EcsCluster an ECS cluster name names (whatever its metadata.name), deleting or not."""
    return _oldest_live(ctx.store.find(store.CLUSTER, name))


def find_cluster(ctx: Context, reference: str | None) -> ClusterRef:
    name = cluster_name(reference)
    obj = cluster_object(ctx, name)
    if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
        raise ClusterNotFoundException("Cluster not found.")
    return ClusterRef(name, cluster_namespace(obj), obj)


def cluster_for_write(ctx: Context, reference: str | None) -> ClusterRef:
    """`find_cluster`, waiting for a cluster created moments ago to have its namespace (the operator makes
    it), so that a write right after CreateCluster lands."""
    cluster = find_cluster(ctx, reference)
    if condition_status((cluster.obj.get("status") or {}).get("conditions"), READY) == "True":
        return cluster
    created = (cluster.obj.get("metadata") or {}).get("creationTimestamp")
    if created and ctx.clock() - _epoch(created) > NEW_CLUSTER_SECONDS:
        return cluster

    def ready() -> bool:
        current = cluster_object(ctx, cluster.name) or {}
        return condition_status((current.get("status") or {}).get("conditions"), READY) == "True"

    ctx.store.wait(ready, NEW_CLUSTER_SECONDS)
    return find_cluster(ctx, reference)


def _epoch(timestamp: object) -> float:
    from ecs_operator.ecsapi.describe import epoch

    return epoch(timestamp) or 0.0


NOT_ASSOCIATED = (
    "The specified capacity provider strategy cannot contain a capacity provider that is not associated "
    "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
    "provider and try again."
)


def check_strategy_of(cluster: ClusterRef, request: Mapping[str, Any]) -> None:
    """A service's or task's capacity provider strategy names only the cluster's providers, as ECS requires
    (PutClusterCapacityProviders associates them)."""
    associated = set((cluster.obj.get("spec") or {}).get("capacityProviders") or ())
    for index, item in enumerate(request.get("capacityProviderStrategy") or ()):
        if item.get("capacityProvider") not in associated:
            raise InvalidParameterException(
                f"capacityProviderStrategy[{index}].capacityProvider: {NOT_ASSOCIATED}"
            )


def check_name(member: str, value: str, limit: int = 255) -> None:
    """ECS's name rule (up to 255 letters, numbers, hyphens and underscores)."""
    if not is_ecs_name(value) or len(value) > limit:
        raise InvalidParameterException(
            f"{member}: {value!r} is not a valid name "
            f"(up to {limit} letters, numbers, hyphens and underscores)"
        )


def refusal(error: SpecError, usual: type[EcsError]) -> EcsError:
    """A spec the models refuse, as the ECS exception the operation answers with (every broken rule)."""
    exception = named(error.ecs_exception) if error.ecs_exception else usual
    return exception("; ".join(str(e) for e in error.errors))


# --- task definitions (regional) ------------------------------------------------------------------


def family_object(ctx: Context, family: str) -> Obj | None:
    """The EcsTaskDefinition that defines `family` (the oldest, when two claim it)."""
    return _oldest_live(ctx.store.find(store.TASK_DEFINITION, family))


def revisions(ctx: Context, family: str) -> list[Revision]:
    """A family's revisions, oldest first, each with the status its EcsTaskDefinition gives it now (the
    records follow within a moment); a number claimed whose record is not written yet reads as its spec."""
    records = [from_controller_revision(o) for o in ctx.store.find(store.REVISION, family)]
    found = {r.number: r for r in records if r.family == family}
    owner = family_object(ctx, family)
    if owner is not None:
        try:
            state = family_state(owner)
        except NumbersError:
            state = None
        if state is not None:
            found = {
                n: Revision(r.family, r.number, r.data, state.status_of(n), r.name, r.registered_at)
                for n, r in found.items()
            }
            if state.latest and state.latest not in found and state.latest not in state.deleted:
                try:
                    request = parse_task_definition(owner.get("spec") or {})
                    found[state.latest] = claimed(owner, state, request)
                except SpecError:
                    pass
    return [found[n] for n in sorted(found)]


def resolve_revision(ctx: Context, reference: str) -> Revision | None:
    """`family`, `family:N` or an ARN -> the revision (`family` alone: the latest ACTIVE one)."""
    family, _ = identifiers.task_definition_reference(reference)
    return resolve(revisions(ctx, family), reference)


# --- paging ---------------------------------------------------------------------------------------


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    next_token: str | None,
    max_results: int | None,
    default: int,
    limit: int = 100,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of `items` in the order of `key`, after the position `next_token` encodes."""
    size = _page_size(max_results, default, limit)
    ordered = sorted(items, key=key, reverse=descending)
    after = _decode_token(next_token) if next_token else None
    if after is not None:
        ordered = [item for item in ordered if (key(item) < after if descending else key(item) > after)]
    chunk = ordered[:size]
    more = len(ordered) > size
    return chunk, (_encode_token(key(chunk[-1])) if more and chunk else None)


def _page_size(max_results: int | None, default: int, limit: int) -> int:
    if max_results is not None and not 1 <= max_results <= limit:
        raise InvalidParameterException(f"maxResults: {max_results} is outside 1..{limit}")
    return max_results or default


def page_from(
    fetch: Callable[[str | None, int], list[T]],
    key: Callable[[T], str],
    next_token: str | None,
    max_results: int | None,
    default: int,
    limit: int = 100,
) -> tuple[list[T], str | None]:
    """`page` over items kept in order: `fetch(after, n)` gives the first n past the position `after`."""
    size = _page_size(max_results, default, limit)
    found = fetch(_decode_token(next_token) if next_token else None, size + 1)
    chunk = found[:size]
    return chunk, (_encode_token(key(chunk[-1])) if len(found) > size and chunk else None)


def paged(member: str, chunk: Sequence[Any], token: str | None) -> dict[str, Any]:
    """A List response: the page under `member`, and `nextToken` when there is more."""
    response: dict[str, Any] = {member: list(chunk)}
    if token:
        response["nextToken"] = token
    return response


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(value["after"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidParameterException("nextToken: not a token this API issued") from None


# --- writes ---------------------------------------------------------------------------------------


def resource_version(obj: Mapping[str, Any] | None) -> str | None:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "") or None


def await_cached(
    ctx: Context, kind: str, namespace: str, name: str, written: Mapping[str, Any] | None
) -> None:
    """Wait until the cache shows `written` (or a later version, or the object gone when None), so the
    caller's next request reads its own write. Gives up quietly after `ctx.wait_seconds`."""
    version = resource_version(written)

    def shown() -> bool:
        cached = ctx.store.get(kind, namespace, name)
        if version is None:
            return cached is None or bool((cached.get("metadata") or {}).get("deletionTimestamp"))
        return cached is not None and _not_older(resource_version(cached), version)

    ctx.store.wait(shown, ctx.wait_seconds)


def _not_older(cached: str | None, written: str) -> bool:
    # resourceVersions are opaque, but etcd's are integers: compare them as such when they are.
    if cached is None:
        return False
    if cached.isdigit() and written.isdigit():
        return int(cached) >= int(written)
    return cached == written
