"""SigV4 verification against requests signed by botocore itself (the signer every AWS SDK mirrors)."""

from __future__ import annotations

import datetime

import pytest
from ecs_operator.ecsapi import errors, sigv4

botocore = pytest.importorskip("botocore")
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

KEY_ID = "AKIAEXAMPLE000000001"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXM="
BODY = b'{"cluster": "demo", "services": ["web"]}'


def signed(body: bytes = BODY, secret: str = SECRET) -> dict[str, list[str]]:
    """Headers of a request botocore signs now (its signer reads the clock itself)."""
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8000/",
        data=body,
        headers={
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeServices",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    signer = SigV4Auth(Credentials(KEY_ID, secret), "ecs", "us-east-1")
    signer.add_auth(request)
    headers = {name.lower(): [value] for name, value in request.headers.items()}
    headers["host"] = ["127.0.0.1:8000"]
    return headers


def secrets_of(key_id: str) -> str | None:
    return SECRET if key_id == KEY_ID else None


def signed_at(headers: dict[str, list[str]]) -> datetime.datetime:
    return datetime.datetime.strptime(headers["x-amz-date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)


def verify(
    headers: dict[str, list[str]], body: bytes = BODY, skew: datetime.timedelta = datetime.timedelta(0)
) -> sigv4.Authorization:
    """Verify as a server whose clock reads the signing time plus `skew`."""
    return sigv4.verify("POST", "/", headers, body, secrets_of, signed_at(headers) + skew)


def test_a_request_botocore_signed_verifies() -> None:
    auth = verify(signed())
    assert (auth.access_key, auth.region, auth.service) == (KEY_ID, "us-east-1", "ecs")


def test_a_changed_body_does_not_verify() -> None:
    with pytest.raises(errors.InvalidSignatureException, match="does not match"):
        verify(signed(), body=BODY.replace(b"web", b"api"))


def test_a_wrong_secret_does_not_verify() -> None:
    with pytest.raises(errors.InvalidSignatureException, match="signature we calculated does not match"):
        verify(signed(secret="another-secret"))


def test_an_unknown_key_is_unrecognized() -> None:
    headers = signed()
    headers["authorization"] = [headers["authorization"][0].replace(KEY_ID, "AKIAUNKNOWN000000000")]
    with pytest.raises(
        errors.UnrecognizedClientException, match="security token included in the request is invalid"
    ):
        verify(headers)


def test_a_stale_date_is_expired() -> None:
    with pytest.raises(errors.InvalidSignatureException, match="Signature expired"):
        verify(signed(), skew=datetime.timedelta(minutes=16))


def test_a_future_date_is_not_yet_current() -> None:
    with pytest.raises(errors.InvalidSignatureException, match="not yet current"):
        verify(signed(), skew=-datetime.timedelta(minutes=16))


def test_no_authorization_is_a_missing_token() -> None:
    headers = signed()
    del headers["authorization"]
    with pytest.raises(errors.MissingAuthenticationTokenException):
        verify(headers)


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=x",
        "Basic abc",
        "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=0",
    ],
)
def test_a_malformed_authorization_is_incomplete(authorization: str) -> None:
    headers = signed()
    headers["authorization"] = [authorization]
    with pytest.raises(errors.IncompleteSignatureException):
        verify(headers)


def test_the_signing_key_matches_awss_documented_example() -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html (the IAM example).
    key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
