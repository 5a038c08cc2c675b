"""Templates: every one compiles, values render as text, statuses get ECS's colours."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from ecs_operator.console import render


def test_every_template_compiles() -> None:
    env = render.environment()
    names = env.list_templates()
    assert "base.html" in names and len(names) > 30
    for name in names:
        env.get_template(name)


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        ("ACTIVE", "ok"), ("RUNNING", "ok"), ("COMPLETED", "ok"), ("DRAINING", "warn"),
        ("STOPPED", "off"), ("INACTIVE", "off"), ("FAILED", "error"), ("PENDING", "progress"),
        ("IN_PROGRESS", "progress"), (None, "off"), ("something-else", "off"),
    ],
)  # fmt: skip
def test_statuses_take_the_ecs_consoles_colours(status: str | None, colour: str) -> None:
    assert render.colour(status) == colour


def test_an_event_message_renders_as_text() -> None:
    message = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    html = render.render("_events.html", {"events": [{"id": "e1", "createdAt": 0, "message": message}]})
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("img") is None
    assert soup.select_one("tr[data-event=e1] .message").get_text() == message  # type: ignore[union-attr]


def test_filters() -> None:
    assert render.when(0) == "1970-01-01 00:00:00 UTC" and render.when(None) == "—"
    assert render.last_part("arn:aws:ecs:us-east-1:0:task-definition/web:3") == "web:3"
    assert render.resource([{"name": "CPU", "integerValue": 4096}], "CPU") == 4096
    assert (render.percent(3, 4), render.percent(5, 0), render.percent(9, 3)) == (75, 0, 100)
    assert render.css_token("<b>OK</b>") == "bokb"


def test_a_long_list_pages_and_keeps_its_query() -> None:
    service = {
        "serviceName": "svc-0001", "status": "ACTIVE", "schedulingStrategy": "REPLICA", "runningCount": 1,
        "desiredCount": 1, "primary": {"rolloutState": "COMPLETED"}, "taskDefinition": "arn:…/app:1",
    }  # fmt: skip
    context = {"services": [service], "cluster": {"clusterName": "c"}, "page": 2, "more": True}
    soup = BeautifulSoup(render.render("_services.html", {**context, "query": {"page": "2"}}), "html.parser")
    assert [a["href"] for a in soup.select(".pager a")] == ["?page=1", "?page=3"]
