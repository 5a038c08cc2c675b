"""Where a POST may come from, where a sign-in may lead, and an address the console listens on."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from ecs_operator.console.command import parse_address
from ecs_operator.console.security import same_origin
from ecs_operator.console.views.signin_page import safe_next


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, True),  # not a browser: nothing to forge
        ({"Origin": "http://console.example:8080"}, True),
        ({"Referer": "http://console.example:8080/clusters"}, True),
        ({"Origin": "http://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Referer": "https://console.example.evil.example/"}, False),
    ],
)
def test_a_post_must_come_from_the_consoles_own_pages(headers: dict[str, str], allowed: bool) -> None:
    request = make_mocked_request("POST", "/x", headers={"Host": "console.example:8080", **headers})
    assert same_origin(request) is allowed


@pytest.mark.parametrize(
    ("given", "followed"),
    [
        ("/clusters/demo/services", "/clusters/demo/services"),
        ("//evil.example/", "/clusters"),
        ("https://evil.example/", "/clusters"),
        ("/\\evil.example", "/clusters"),
        (None, "/clusters"),
    ],
)
def test_sign_in_leads_only_to_the_consoles_own_pages(given: str | None, followed: str) -> None:
    assert safe_next(given) == followed


def test_addresses() -> None:
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_address("[::1]:8080") == ("::1", 8080)
    for bad in ("8080", "host:", "host:http", "host:70000"):
        with pytest.raises(ValueError, match="--address"):
            parse_address(bad)
