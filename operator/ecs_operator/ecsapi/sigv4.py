"""AWS Signature Version 4, verified for real: the canonical request, the string to sign and the signing
key are rebuilt from the request as received, and the signature compared in constant time.

https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html is the reference; botocore's
`SigV4Auth` signs what `verify` checks (tests/unit/ecsapi/test_sigv4.py signs with it).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ecs_operator.ecsapi.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses a request signed more than 15 minutes before or after its own clock.
MAX_SKEW = datetime.timedelta(minutes=15)
_CREDENTIAL = re.compile(
    r"^(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$"
)


@dataclass(frozen=True)
class Authorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> Authorization:
    if not value:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field = part.strip().partition("=")
        if sep:
            fields[name] = field
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise IncompleteSignatureException(
            f"Authorization header requires '{missing[0]}' parameter. Authorization={value[:60]}…"
        )
    credential = _CREDENTIAL.match(fields["Credential"])
    if credential is None:
        raise IncompleteSignatureException(
            "Credential should be scoped to a valid region, service and date: "
            "<key>/<yyyymmdd>/<region>/<service>/aws4_request"
        )
    return Authorization(
        access_key=credential["key"],
        date=credential["date"],
        region=credential["region"],
        service=credential["service"],
        signed_headers=tuple(fields["SignedHeaders"].split(";")),
        signature=fields["Signature"],
    )


def _uri_encode(value: str, keep_slash: bool) -> str:
    return urllib.parse.quote(value, safe="/~" if keep_slash else "~")


def canonical_request(
    method: str,
    raw_path: str,
    headers: Mapping[str, Sequence[str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """`headers`: lowercase name -> every value received (repeated headers are joined with commas)."""
    path, _, query = raw_path.partition("?")
    canonical_path = _uri_encode(urllib.parse.unquote(path) or "/", keep_slash=True)
    pairs = sorted(
        (_uri_encode(k, False), _uri_encode(v, False))
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
    )
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = []
    for name in signed_headers:
        values = headers.get(name, ())
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    return "\n".join(
        [
            method,
            canonical_path,
            canonical_query,
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(secret: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    key = signing_key(secret, auth.date, auth.region, auth.service)
    return hmac.new(key, string_to_sign(amz_date, scope, canonical).encode(), hashlib.sha256).hexdigest()


def _parse_amz_date(value: str | None) -> datetime.datetime:
    try:
        return datetime.datetime.strptime(value or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ) from None


def verify(
    method: str,
    raw_path: str,
    headers: Mapping[str, Sequence[str]],
    body: bytes,
    secret_of: Callable[[str], str | None],
    now: datetime.datetime,
) -> Authorization:
    """The request's verified authorization; raises the exception AWS answers with otherwise."""
    auth = parse_authorization(next(iter(headers.get("authorization", ())), None))
    amz_date_text = next(iter(headers.get("x-amz-date", ())), None)
    amz_date = _parse_amz_date(amz_date_text)
    if "host" not in auth.signed_headers:
        raise IncompleteSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    secret = secret_of(auth.access_key)
    if secret is None:
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if amz_date < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise InvalidSignatureException(
            f"Signature expired: {amz_date_text} is now earlier than {earliest} ({stamp} - 15 min.)"
        )
    if amz_date > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise InvalidSignatureException(
            f"Signature not yet current: {amz_date_text} is still later than {latest} ({stamp} + 15 min.)"
        )
    # The body is always part of what is signed (an UNSIGNED-PAYLOAD would let anyone change it).
    payload_hash = hashlib.sha256(body).hexdigest()
    declared = next(iter(headers.get("x-amz-content-sha256", ())), payload_hash)
    if declared != payload_hash:
        raise InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    canonical = canonical_request(method, raw_path, headers, auth.signed_headers, payload_hash)
    expected = signature(secret, auth, amz_date_text or "", canonical)
    if not hmac.compare_digest(expected, auth.signature):
        raise InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details."
        )
    return auth
