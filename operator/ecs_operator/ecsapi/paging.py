"""ECS's paging: `maxResults` within its bounds and an opaque `nextToken` that marks the position after
the last item answered."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ecs_operator.ecsapi.errors import InvalidParameterException

T = TypeVar("T")


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
