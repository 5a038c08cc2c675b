"""The console's own API calls beyond the operations layer: reviews (TokenReview, SubjectAccessReview,
SelfSubjectAccessReview, SelfSubjectReview) and a container's log, made with a given ApiClient (the
console's own, or the signed-in user's), plus the ApiClient of a bearer token."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ecs_operator.kube import KubeError

REQUEST_TIMEOUT = 30
LOG_LINES = 500
LOG_BYTES = 256 * 1024


def _reason(error: Any) -> str:
    try:
        return str(json.loads(error.body).get("message") or error.reason)
    except (TypeError, ValueError, AttributeError):
        return str(error.reason)


def request(
    api_client: Any,
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    query: list[tuple[str, str]] | None = None,
    accept: str = "application/json",
) -> bytes:
    """The raw answer; a refusal as `KubeError(status, the API server's message)`."""
    from kubernetes.client.exceptions import ApiException

    try:
        response = api_client.call_api(
            path,
            method,
            query_params=query or [],
            header_params={"Content-Type": "application/json", "Accept": accept},
            body=dict(body) if body is not None else None,
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT,
        )
    except ApiException as error:
        raise KubeError(int(error.status or 0), _reason(error)) from None
    return bytes(response.data or b"")


def create(api_client: Any, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(request(api_client, "POST", path, body=body) or b"{}")
    return answer


def container_log(api_client: Any, namespace: str, pod: str, container: str) -> str:
    """The last `LOG_LINES` lines of a container's log, as the node's kubelet serves them."""
    raw = request(
        api_client,
        "GET",
        f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
        query=[("container", container), ("tailLines", str(LOG_LINES)), ("limitBytes", str(LOG_BYTES))],
        accept="text/plain",
    )
    return raw.decode("utf-8", errors="replace")


def token_client(base: Any, token: str) -> Any:
    """An ApiClient for `base`'s API server (its address and CA) that authenticates with `token` only."""
    from kubernetes import client

    source = base.configuration
    configuration = client.Configuration()
    configuration.host = source.host
    configuration.ssl_ca_cert = source.ssl_ca_cert
    configuration.verify_ssl = source.verify_ssl
    configuration.assert_hostname = source.assert_hostname
    configuration.tls_server_name = getattr(source, "tls_server_name", None)
    configuration.proxy = source.proxy
    # "authorization" is read by every client version (36 renamed the key and kept this one as its alias).
    configuration.api_key = {"authorization": f"Bearer {token}"}
    configuration.connection_pool_maxsize = 4
    return client.ApiClient(configuration)
