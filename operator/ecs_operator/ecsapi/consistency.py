"""Read your writes: an operation that wrote waits until the caches show the write, so the caller's next
request sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.ecsapi.context import Context


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
