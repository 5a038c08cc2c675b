"""How a browser signs in, in the console's two modes.

- `kubeconfig` (`ecs-operator console` on a laptop, as a desktop Kubernetes UI): the console acts with the
  user's own kubeconfig. So that nobody else on the machine (or a web page rebinding a name to 127.0.0.1)
  can use it, the browser signs in with a random key printed in the console's URL, as Jupyter does.
- `token` (in the cluster, `manifests/console/`): the user pastes a Kubernetes bearer token
  (a ServiceAccount token or an OIDC id token); a TokenReview says who it is. Reads are reviewed for that
  user, writes are made with the token itself. The token is never logged nor sent back to the browser.
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol

from ecs_operator.console import kubecalls
from ecs_operator.console.authz import AccessReviewer, User
from ecs_operator.console.sessions import Session
from ecs_operator.kube import KubeError

TOKEN_LIMIT = 16384


class SignInError(Exception):
    """Why a sign-in was refused, in words for the sign-in page."""


class Authenticator(Protocol):
    mode: str

    def sign_in(self, secret: str) -> Session:
        """A session for `secret` (the key or a bearer token), or SignInError. Blocks (API calls)."""

    def still_valid(self, session: Session) -> bool:
        """Whether the API server still accepts the session's credentials. Blocks."""

    def restore(self, user: User, token: str | None) -> Session:
        """A session another replica (or an earlier process) signed in, rebuilt from its cookie; a token
        session is reviewed again before it is used."""


class KubeconfigSignIn:
    mode = "kubeconfig"

    def __init__(self, api_client: Any, key: str) -> None:
        self._client = api_client
        self._key = key

    def sign_in(self, secret: str) -> Session:
        if not hmac.compare_digest(secret.strip().encode(), self._key.encode()):
            raise SignInError("That is not this console's key: open the URL `ecs-operator console` printed.")
        return Session(
            user=self._whoami(), api_client=self._client, reviewer=AccessReviewer(self._client, None)
        )

    def still_valid(self, session: Session) -> bool:
        return True

    def restore(self, user: User, token: str | None) -> Session:
        return Session(user=user, api_client=self._client, reviewer=AccessReviewer(self._client, None))

    def _whoami(self) -> User:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            answer = kubecalls.review(self._client, "SelfSubjectReview", body)
        except KubeError:
            return User(name="(your kubeconfig's user)")
        return User.from_user_info((answer.get("status") or {}).get("userInfo") or {})


class TokenSignIn:
    mode = "token"

    def __init__(self, api_client: Any) -> None:
        self._client = api_client

    def sign_in(self, secret: str) -> Session:
        token = secret.strip()
        if not token:
            raise SignInError("token: paste a Kubernetes bearer token.")
        if len(token) > TOKEN_LIMIT or any(c.isspace() for c in token):
            raise SignInError("token: that is not a bearer token (one line, no spaces).")
        user = self._review(token)
        return Session(
            user=user,
            api_client=kubecalls.token_client(self._client, token),
            reviewer=AccessReviewer(self._client, user),
            token=token,
        )

    def restore(self, user: User, token: str | None) -> Session:
        return Session(
            user=user,
            api_client=kubecalls.token_client(self._client, token or ""),
            reviewer=AccessReviewer(self._client, user),
            token=token or "",
        )

    def still_valid(self, session: Session) -> bool:
        if not session.token:
            return False
        try:
            return self._review(session.token) == session.user
        except SignInError:
            return False

    def _review(self, token: str) -> User:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        try:
            answer = kubecalls.review(self._client, "TokenReview", body)
        except KubeError as error:
            raise SignInError(f"The console could not review the token: {error}") from None
        status = answer.get("status") or {}
        if not status.get("authenticated"):
            raise SignInError("The API server did not accept that token (expired, revoked or not a token).")
        return User.from_user_info(status.get("user") or {})
