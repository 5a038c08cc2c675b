"""Hypothesis-made STS and Application Auto Scaling requests over HTTP (`ECS_API_BAD_INPUT_STS`
requests each, default 300): random Query parameters and actions, random web identity tokens (unsigned),
random session tokens, random JSON for every Application Auto Scaling operation. None may yield a 500, and
each answer is the protocol's own error envelope (XML for STS, `__type` for JSON)."""

from __future__ import annotations

import base64
import json
import os
import string
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from ecs_operator.awsmodel import autoscaling as aas
from ecs_operator.awsmodel import sts as sts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.api_helpers import REGION, AccessKey

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("ECS_API_BAD_INPUT_STS", "300"))
TEXT = st.text(max_size=40) | st.text(string.ascii_letters + string.digits + "+=,.@-_:/*", max_size=80)


def send(url: str, body: bytes, headers: dict[str, str], key: AccessKey | None, service: str,
         token: str | None = None) -> tuple[int, bytes]:  # fmt: skip
    request = AWSRequest(method="POST", url=f"{url}/", data=body, headers=headers)
    if key is not None:
        SigV4Auth(Credentials(key.access_key_id, key.secret_access_key, token), service, REGION).add_auth(
            request
        )
    prepared = urllib.request.Request(
        f"{url}/", data=body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=60) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def jwtish() -> st.SearchStrategy[str]:
    def segment(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = st.fixed_dictionaries(
        {"iss": TEXT, "sub": TEXT},
        optional={"aud": TEXT | st.lists(TEXT, max_size=3), "exp": st.integers(-(2**40), 2**40)},
    )
    headers = st.fixed_dictionaries({"alg": st.sampled_from(["RS256", "none", "HS256", "ES256"])},
                                    optional={"kid": TEXT})  # fmt: skip
    return st.builds(lambda h, c, s: f"{segment(h)}.{segment(c)}.{s}", headers, claims, TEXT) | TEXT


@st.composite
def sts_request(draw: st.DrawFn) -> tuple[bytes, bool]:
    action = draw(st.sampled_from([*sts.OPERATIONS, "AssumeRoot", "GetFederationToken", ""]) | TEXT)
    params: dict[str, str] = {"Action": action, "Version": draw(st.sampled_from(["2011-06-15", "x"]))}
    members = [
        "RoleArn", "RoleSessionName", "DurationSeconds", "WebIdentityToken", "ExternalId", "Policy",
        "Tags.member.1.Key", "PolicyArns.member.1.arn", "SourceIdentity", "ProviderId", "Bogus",
    ]  # fmt: skip
    for name in draw(st.lists(st.sampled_from(members), max_size=6, unique=True)):
        if name == "WebIdentityToken":
            params[name] = draw(jwtish())
        elif name == "DurationSeconds":
            params[name] = draw(st.integers(-5, 200000).map(str) | TEXT)
        else:
            params[name] = draw(TEXT)
    signed = draw(st.booleans())
    return urllib.parse.urlencode(params).encode(), signed


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    request=sts_request(),
    token=st.none() | st.text(string.ascii_letters + string.digits + "._-+/=", max_size=200),
)
def test_sts_never_answers_500(
    ecs_api: Any, admin_key: AccessKey, request: tuple[bytes, bool], token: str | None
) -> None:
    body, signed = request
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, answer = send(ecs_api.url, body, headers, admin_key if signed else None, "sts",
                          token if signed else None)  # fmt: skip
    assert status < 500, answer
    assert answer.startswith(b"<?xml"), answer
    if status >= 400:
        assert b"<ErrorResponse" in answer and b"<Code>" in answer, answer


def json_value(depth: int = 0) -> st.SearchStrategy[Any]:
    scalar = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | TEXT
    if depth > 1:
        return scalar
    return (
        scalar
        | st.lists(json_value(depth + 1), max_size=3)
        | st.dictionaries(TEXT, json_value(depth + 1), max_size=3)
    )


@st.composite
def aas_request(draw: st.DrawFn) -> tuple[str, bytes]:
    operation = draw(st.sampled_from(aas.OPERATIONS))
    members = dict(aas.SHAPES[aas.INPUTS[operation]][1])
    body: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(members)), max_size=6, unique=True)):
        body[name] = draw(
            st.sampled_from(
                ["ecs", "dynamodb", "service/a/b", "ecs:service:DesiredCount", "TargetTrackingScaling"]
            )
            | json_value()
        )
    if draw(st.booleans()):
        body["ServiceNamespace"] = "ecs"
    raw = json.dumps(body).encode() if draw(st.integers(0, 9)) else draw(st.binary(max_size=40))
    return operation, raw


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=aas_request())
def test_application_auto_scaling_never_answers_500(
    ecs_api: Any, admin_key: AccessKey, request: tuple[str, bytes]
) -> None:
    operation, body = request
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"{aas.TARGET_PREFIX}.{operation}",
    }
    status, answer = send(ecs_api.url, body, headers, admin_key, "application-autoscaling")
    assert status < 500, answer
    parsed = json.loads(answer)
    if status >= 400:
        assert parsed["__type"] and parsed["message"], parsed
