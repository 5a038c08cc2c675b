"""Web identity tokens (JWTs) verified without the internet, for AssumeRoleWithWebIdentity.

- An issuer registered as an IamOidcProvider: its discovery document (`<url>/.well-known/
  openid-configuration`, or the provider's `discoveryURL`) names its keys (`jwks_uri`); both are fetched
  over https (the provider's CA, else the system's), remembered, and the token's signature, issuer,
  audience (one of the provider's `clientIDList`) and lifetime are checked by PyJWT.
- Any other token is given to the cluster's own TokenReview with the configured audience (default
  `sts.amazonaws.com`): the API server vouches for its ServiceAccount tokens (signature, expiry, the Pod
  or Secret they are bound to still existing).

Tokens are never logged; the errors say what failed, not what the token held.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

from ecs_operator.ecsapi.errors import EcsError
from ecs_operator.ecsapi.roles import Directory, OidcProvider, provider_name
from ecs_operator.ecsapi.sts import DEFAULT_AUDIENCE
from ecs_operator.kube import Kube, KubeError

DISCOVERY_CACHE_SECONDS = 3600.0
FETCH_TIMEOUT_SECONDS = 5.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"]
LEEWAY_SECONDS = 30


class InvalidIdentityToken(EcsError):
    @property
    def code(self) -> str:
        return "InvalidIdentityToken"


class ExpiredWebIdentityToken(EcsError):
    @property
    def code(self) -> str:
        return "ExpiredTokenException"


class IdpCommunicationError(EcsError):
    @property
    def code(self) -> str:
        return "IDPCommunicationError"


@dataclass(frozen=True)
class WebIdentity:
    """A verified token: its issuer, subject, audiences and the IAM name of its provider."""

    issuer: str
    subject: str
    audiences: tuple[str, ...]

    @property
    def provider(self) -> str:
        return provider_name(self.issuer)


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidIdentityToken("The web identity token is not a readable JWT.") from None
    if not isinstance(claims.get("iss"), str) or not isinstance(claims.get("sub"), str):
        raise InvalidIdentityToken("The web identity token has no iss or sub claim.")
    return claims


def audiences_of(claims: dict[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list):
        return tuple(a for a in aud if isinstance(a, str))
    return ()


def _ssl_context(provider: OidcProvider) -> ssl.SSLContext:
    if provider.certificate_authority:
        return ssl.create_default_context(cadata=provider.certificate_authority)
    return ssl.create_default_context()


def _fetch_json(url: str, context: ssl.SSLContext) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS, context=context) as response:
            found = json.loads(response.read(1024 * 1024))
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise IdpCommunicationError(f"Could not read {url}: {reason}") from None
    if not isinstance(found, dict):
        raise IdpCommunicationError(f"{url} did not answer a JSON object.")
    return found


@dataclass
class _Issuer:
    until: float
    keys: jwt.PyJWKClient


@dataclass
class Verifier:
    """Verifies tokens: registered OIDC providers by their keys, the rest by TokenReview (`kube` is the
    API's own client: creating a TokenReview needs `create tokenreviews`)."""

    kube: Kube
    directory: Directory
    audience: str = DEFAULT_AUDIENCE
    clock: Callable[[], float] = time.monotonic
    _issuers: dict[str, _Issuer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, token: str) -> WebIdentity:
        claims = unverified_claims(token)
        provider = self.directory.provider(claims["iss"])
        if provider is not None:
            return self._by_keys(token, provider)
        return self._by_token_review(token, claims)

    def _keys(self, provider: OidcProvider) -> jwt.PyJWKClient:
        now = self.clock()
        with self._lock:
            known = self._issuers.get(provider.issuer)
            if known is not None and known.until > now:
                return known.keys
        context = _ssl_context(provider)
        discovery = _fetch_json(provider.discovery_url, context)
        if str(discovery.get("issuer", "")).rstrip("/") != provider.issuer:
            raise IdpCommunicationError(
                f"The discovery document at {provider.discovery_url} names another issuer "
                f"({str(discovery.get('issuer'))[:200]!r})."
            )
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise IdpCommunicationError(f"The discovery document of {provider.issuer} has no https jwks_uri.")
        keys = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=300, timeout=5, ssl_context=context)
        with self._lock:
            self._issuers[provider.issuer] = _Issuer(now + DISCOVERY_CACHE_SECONDS, keys)
        return keys

    def _by_keys(self, token: str, provider: OidcProvider) -> WebIdentity:
        keys = self._keys(provider)
        try:
            signing_key = keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise IdpCommunicationError(f"Could not read the keys of {provider.issuer}: {error}") from None
        except jwt.PyJWTError:
            raise InvalidIdentityToken(
                f"No key of {provider.issuer} matches the web identity token's key id."
            ) from None
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=ALGORITHMS,
                audience=list(provider.audiences),
                issuer=provider.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ExpiredWebIdentityToken("Token expired: the web identity token's exp has passed.") from None
        except jwt.InvalidAudienceError:
            raise InvalidIdentityToken("Incorrect token audience.") from None
        except jwt.PyJWTError as error:
            raise InvalidIdentityToken(f"The web identity token is not valid: {error}") from None
        return WebIdentity(provider.issuer, str(claims["sub"]), audiences_of(claims))

    def _by_token_review(self, token: str, claims: dict[str, Any]) -> WebIdentity:
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": [self.audience]},
        }
        try:
            answer = self.kube.create(review)
        except KubeError as error:
            raise IdpCommunicationError(f"The cluster's TokenReview failed: {error}") from None
        status = answer.get("status") or {}
        if not status.get("authenticated"):
            reason = str(status.get("error") or "")
            if "expired" in reason:
                raise ExpiredWebIdentityToken("Token expired: the ServiceAccount token's exp has passed.")
            raise InvalidIdentityToken(
                f"No OpenIDConnect provider found for {str(claims['iss'])[:200]}, and the cluster does "
                f"not accept the token for the audience {self.audience!r}."
            )
        username = str((status.get("user") or {}).get("username", ""))
        audiences = tuple(status.get("audiences") or audiences_of(claims))
        # The API server vouched for the token, so its claims are the issuer's; sub is the username.
        return WebIdentity(str(claims["iss"]).rstrip("/"), username or str(claims["sub"]), audiences)
