"""Bad input through HTTP, as no SDK would send it (hypothesis, `ECS_API_BAD_INPUT` requests, default 1200):
malformed JSON, bodies that are not objects, wrong types, unknown members, missing required members,
unknown operations, a missing target header, oversized bodies. Each is answered with an ECS exception in
a 4xx that names the member at fault; the server stays up and no custom resource changes.

Requests are signed with botocore's SigV4 signer (so they pass authentication) and sent with urllib."""

from __future__ import annotations

import json
import os
import string
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from ecs_operator.awsmodel.ecs import INPUTS, OPERATIONS, SHAPES, TARGET_PREFIX
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.api_helpers import REGION, AccessKey

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
EXAMPLES = int(os.environ.get("ECS_API_BAD_INPUT", "1200"))
TOO_LARGE = 2 * 1024 * 1024


@dataclass(frozen=True)
class Bad:
    how: str
    body: bytes
    operation: str | None  # None: no X-Amz-Target header
    codes: frozenset[str]
    names: str = ""  # text the message must contain (the member at fault)


JSON_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=20),
    "number": st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "list": st.lists(st.integers(), max_size=3),
    "object": st.dictionaries(
        st.text(string.ascii_letters, min_size=1, max_size=5), st.integers(), max_size=3
    ),
}
ACCEPTS = {
    "string": {"string"},
    "blob": {"string"},
    "integer": {"number"},
    "long": {"number"},
    "double": {"number"},
    "float": {"number"},
    "timestamp": {"number"},
    "boolean": {"boolean"},
    "list": {"list"},
    "map": {"object"},
    "structure": {"object"},
}


def members(operation: str) -> dict[str, str]:
    return dict(SHAPES[INPUTS[operation]][1])


@st.composite
def wrong_type(draw: st.DrawFn) -> Bad:
    operation = draw(st.sampled_from([o for o in OPERATIONS if members(o)]))
    member, shape = draw(st.sampled_from(sorted(members(operation).items())))
    kind = SHAPES[shape][0]
    wrong = draw(st.sampled_from(sorted(set(JSON_TYPES) - ACCEPTS[kind])))
    value = draw(JSON_TYPES[wrong])
    if kind in ("integer", "long") and wrong == "number" and isinstance(value, float) and value.is_integer():
        value += 0.5
    return Bad(
        "wrong type",
        json.dumps({member: value}).encode(),
        operation,
        frozenset({"InvalidParameterException"}),
        member,
    )


@st.composite
def nested_wrong_type(draw: st.DrawFn) -> Bad:
    field = draw(st.sampled_from(["cpu", "memory", "essential", "portMappings", "environment", "image"]))
    kinds = {"cpu": "number", "memory": "number", "essential": "boolean", "portMappings": "list",
             "environment": "list", "image": "string"}  # fmt: skip
    wrong = draw(st.sampled_from(sorted(set(JSON_TYPES) - {kinds[field]})))
    container = {"name": "app", "image": "nginx", field: draw(JSON_TYPES[wrong])}
    body = {"family": "bad", "containerDefinitions": [container]}
    return Bad(
        "nested wrong type",
        json.dumps(body).encode(),
        "RegisterTaskDefinition",
        frozenset({"InvalidParameterException"}),
        f"containerDefinitions[0].{field}",
    )


@st.composite
def unknown_member(draw: st.DrawFn) -> Bad:
    operation = draw(st.sampled_from(OPERATIONS))
    name = draw(
        st.text(string.ascii_letters + "_-", min_size=1, max_size=12).filter(
            lambda n: n not in members(operation)
        )
    )
    body = {name: draw(st.one_of(*JSON_TYPES.values()))}
    return Bad(
        "unknown member", json.dumps(body).encode(), operation, frozenset({"InvalidParameterException"}), name
    )


@st.composite
def missing_required(draw: st.DrawFn) -> Bad:
    operation = draw(st.sampled_from([o for o in OPERATIONS if SHAPES[INPUTS[o]][2]]))
    required = SHAPES[INPUTS[operation]][2]
    return Bad("missing required", b"{}", operation, frozenset({"InvalidParameterException"}), required[0])


@st.composite
def malformed_json(draw: st.DrawFn) -> Bad:
    text = draw(st.text(max_size=40).filter(lambda t: t.strip() and not _is_json(t)))
    return Bad(
        "malformed JSON",
        text.encode(),
        draw(st.sampled_from(OPERATIONS)),
        frozenset({"SerializationException"}),
    )


@st.composite
def not_an_object(draw: st.DrawFn) -> Bad:
    value = draw(st.one_of(JSON_TYPES["string"], JSON_TYPES["number"], JSON_TYPES["list"], st.none()))
    return Bad(
        "not an object",
        json.dumps(value).encode(),
        draw(st.sampled_from(OPERATIONS)),
        frozenset({"SerializationException"}),
    )


@st.composite
def unknown_operation(draw: st.DrawFn) -> Bad:
    name = draw(
        st.text(string.ascii_letters + ".", min_size=1, max_size=30).filter(lambda n: n not in OPERATIONS)
    )
    return Bad("unknown operation", b"{}", name, frozenset({"UnknownOperationException"}))


def missing_target() -> st.SearchStrategy[Bad]:
    return st.just(
        Bad("missing target", b"{}", None, frozenset({"UnknownOperationException"}), "X-Amz-Target")
    )


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


BAD = st.one_of(
    wrong_type(), nested_wrong_type(), unknown_member(), missing_required(),
    malformed_json(), not_an_object(), unknown_operation(), missing_target(),
)  # fmt: skip


def send(
    url: str, key: AccessKey, body: bytes, operation: str | None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if operation is not None:
        headers["X-Amz-Target"] = f"{TARGET_PREFIX}.{operation}"
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "ecs", REGION).add_auth(request)
    prepared = urllib.request.Request(
        url + "/", data=body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def custom_resources(kubectl: Kubectl) -> dict[tuple[str, str, str], tuple[str, bool]]:
    """Every ECS custom resource: (resourceVersion, being deleted)."""
    listed = kubectl("get", "ecsclusters,ecsservices,ecstasks,ecstaskdefinitions", "-A", "-o", "json").stdout
    return {
        (i["kind"], i["metadata"].get("namespace", ""), i["metadata"]["name"]): (
            i["metadata"]["resourceVersion"],
            bool(i["metadata"].get("deletionTimestamp")),
        )
        for i in json.loads(listed)["items"]
    }


def changed_since(before: dict[tuple[str, str, str], tuple[str, bool]], kubectl: Kubectl) -> list[str]:
    """What appeared or changed; earlier tests' objects still being deleted around us do not count."""
    after = custom_resources(kubectl)
    created = [f"created {k}" for k in after.keys() - before.keys()]
    changed = [
        f"changed {k}" for k in after.keys() & before.keys() if after[k] != before[k] and not after[k][1]
    ]
    return created + changed


def test_bad_requests_get_named_ecs_errors_and_change_nothing(
    ecs_api: Any, admin_key: AccessKey, kubectl: Kubectl
) -> None:
    before = custom_resources(kubectl)
    seen: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(BAD)
    def check(bad: Bad) -> None:
        status, headers, body = send(ecs_api.url, admin_key, bad.body, bad.operation)
        seen[bad.how] = seen.get(bad.how, 0) + 1
        assert 400 <= status < 500, (bad, status, body)
        assert body.get("__type") in bad.codes, (bad, body)
        assert headers.get("X-Amzn-ErrorType") == body["__type"]
        assert bad.names in body["message"], (bad, body)

    check()
    assert sum(seen.values()) >= EXAMPLES and len(seen) == 8, seen
    for operation in ("CreateService", "RegisterTaskDefinition"):
        status, _, body = send(ecs_api.url, admin_key, b"{" + b" " * TOO_LARGE + b"}", operation)
        assert (status, body["__type"]) == (413, "RequestEntityTooLargeException")
    assert ecs_api.alive(), ecs_api.log_tail()
    assert "Traceback" not in ecs_api.log_text()
    assert changed_since(before, kubectl) == []
