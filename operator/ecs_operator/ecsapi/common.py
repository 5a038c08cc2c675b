"""What the operations share: resolving the cluster a request names, object names, paging, waiting for
the caches to show a write, and reading revisions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ecs_operator import arns
from ecs_operator.api import SpecError
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.describe import cluster_namespace
from ecs_operator.ecsapi.errors import ClusterNotFoundException, EcsError, InvalidParameterException, named
from ecs_operator.revisions import Revision, from_controller_revision, parse_reference, resolve
from ecs_operator.translate.names import dns_label

DEFAULT_CLUSTER = "default"
T = TypeVar("T")


@dataclass(frozen=True)
class ClusterRef:
    name: str
    namespace: str
    obj: Mapping[str, Any]


def cluster_name(reference: str | None) -> str:
    """`cluster` as a request gives it (name, ARN or nothing) -> the name; nothing means `default`."""
    if not reference:
        return DEFAULT_CLUSTER
    return arns.last_part(reference, "cluster")


def find_cluster(ctx: Context, reference: str | None) -> ClusterRef:
    name = cluster_name(reference)
    obj = ctx.store.get(store.CLUSTER, "", name)
    if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
        raise ClusterNotFoundException("Cluster not found.")
    return ClusterRef(name, cluster_namespace(obj), obj)


def object_name(ecs_name: str) -> str:
    """The metadata.name of an object an ECS name makes: the name itself when Kubernetes allows it, else
    a DNS label of it with a digest of the original (so `My_Service` and `my-service` never collide)."""
    label = dns_label(ecs_name)
    if label == ecs_name:
        return label
    digest = hashlib.sha256(ecs_name.encode()).hexdigest()[:8]
    return f"{dns_label(ecs_name, limit=54)}-{digest}"


def check_name(member: str, value: str, limit: int = 255) -> None:
    """ECS's name rule (up to 255 letters, numbers, hyphens and underscores)."""
    if (
        not value
        or len(value) > limit
        or not all(c.isalnum() or c in "-_" for c in value)
        or not value.isascii()
    ):
        raise InvalidParameterException(
            f"{member}: {value!r} is not a valid name "
            f"(up to {limit} letters, numbers, hyphens and underscores)"
        )


def refusal(error: SpecError, usual: type[EcsError]) -> EcsError:
    """A spec the models refuse, as the ECS exception the operation answers with (every broken rule)."""
    exception = named(error.ecs_exception) if error.ecs_exception else usual
    return exception("; ".join(str(e) for e in error.errors))


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
    if max_results is not None and not 1 <= max_results <= limit:
        raise InvalidParameterException(f"maxResults: {max_results} is outside 1..{limit}")
    size = max_results or default
    ordered = sorted(items, key=key, reverse=descending)
    after = _decode_token(next_token) if next_token else None
    if after is not None:
        ordered = [item for item in ordered if (key(item) < after if descending else key(item) > after)]
    chunk = ordered[:size]
    more = len(ordered) > size
    return chunk, (_encode_token(key(chunk[-1])) if more and chunk else None)


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


# --- reads ----------------------------------------------------------------------------------------


def revisions(ctx: Context, namespace: str, family: str) -> list[Revision]:
    found = [from_controller_revision(o) for o in ctx.store.find(store.REVISION, (namespace, family))]
    return sorted((r for r in found if r.family == family), key=lambda r: r.number)


def resolve_revision(ctx: Context, namespace: str, reference: str) -> Revision | None:
    family, _ = parse_reference(arns.last_part(reference, "task-definition"))
    return resolve(revisions(ctx, namespace, family), reference)


def revision_created(ctx: Context, namespace: str, revision: Revision) -> object:
    obj = ctx.store.get(store.REVISION, namespace, revision.name)
    return ((obj or {}).get("metadata") or {}).get("creationTimestamp")


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
