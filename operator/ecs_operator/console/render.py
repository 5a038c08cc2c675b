"""Templates (Jinja2, autoescaped: every value from the cluster is user input and renders as text) and the
filters pages share: times, ARNs, statuses and their colours, resources, JSON."""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2

from ecs_operator.console import urls
from ecs_operator.identifiers import last_part

# ECS's statuses, grouped by the colour the ECS console shows them in.
STATUS_COLOURS = {
    "ok": ("ACTIVE", "RUNNING", "COMPLETED", "HEALTHY", "PRIMARY", "SUCCESSFUL"),
    "progress": ("PROVISIONING", "PENDING", "ACTIVATING", "IN_PROGRESS", "STOPPING", "DEACTIVATING"),
    "warn": ("DRAINING", "DEPROVISIONING", "UNHEALTHY"),
    "error": ("FAILED", "ROLLBACK_FAILED"),
    "off": ("STOPPED", "INACTIVE", "UNKNOWN"),
}
_COLOUR_OF = {status: colour for colour, statuses in STATUS_COLOURS.items() for status in statuses}


def colour(status: object) -> str:
    return _COLOUR_OF.get(str(status or "").upper(), "off")


def when(epoch: object) -> str:
    """Seconds since the epoch (as the operations answer) as a UTC time a person reads."""
    if epoch is None or epoch == "":
        return "—"
    try:
        moment = datetime.datetime.fromtimestamp(float(str(epoch)), datetime.UTC)
    except (TypeError, ValueError, OverflowError):
        return str(epoch)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def resource(resources: Iterable[Mapping[str, Any]] | None, name: str) -> int:
    """A container instance resource's integer value (CPU units, memory MiB)."""
    for entry in resources or ():
        if entry.get("name") == name:
            return int(entry.get("integerValue") or 0)
    return 0


def percent(part: object, whole: object) -> int:
    try:
        total = float(str(whole))
        return 0 if total <= 0 else max(0, min(100, round(float(str(part)) * 100 / total)))
    except ValueError:
        return 0


def css_token(value: object) -> str:
    return re.sub(r"[^a-z0-9-]", "", str(value).lower())


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ecs_operator.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(urls.GLOBALS)
    env.filters.update(
        colour=colour,
        when=when,
        last_part=last_part,
        pretty_json=pretty_json,
        resource=resource,
        percent=percent,
        css_token=css_token,
    )
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(context)
