"""Time stamps as statuses hold them (RFC 3339); the time itself is given to the status writers."""

from __future__ import annotations

import datetime


def seconds_between(earlier: str, later: str) -> float:
    """Seconds from one RFC 3339 time stamp to another (0 when either cannot be read)."""
    try:
        start = datetime.datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(later.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (end - start).total_seconds()
