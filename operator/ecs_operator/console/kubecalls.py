"""The console's own API calls beyond the operations layer: reviews (TokenReview, SubjectAccessReview,
SelfSubjectAccessReview, SelfSubjectReview) and a container's log, made with a given ApiClient (the
console's own, or the signed-in user's), plus the ApiClient of a bearer token."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ecs_operator.kube import KubeError

REQUEST_TIMEOUT = 30
# Every request the console makes says so (audit logs, the benchmark), whoever's credentials it carries.
USER_AGENT = "ecs-console/0.1.0"
LOG_LINES = 500
LOG_BYTES = 256 * 1024


def _answer(call: Callable[..., Any]) -> bytes:
    """The raw answer of a typed client call; a refusal as `KubeError(status, the API server's message)`."""
    from kubernetes.client.exceptions import ApiException

    try:
        response = call(_preload_content=False, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as error:
        raise KubeError.of(error) from None
    return bytes(response.data or b"")


def review(api_client: Any, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a review (`kind`: TokenReview, SelfSubjectReview, SubjectAccessReview or
    SelfSubjectAccessReview) and return it with the API server's answer in `status`."""
    from kubernetes import client

    group = (
        client.AuthenticationV1Api
        if kind in ("TokenReview", "SelfSubjectReview")
        else client.AuthorizationV1Api
    )
    create = getattr(group(api_client), "create_" + re.sub(r"(?<!^)([A-Z])", r"_\1", kind).lower())
    answer: dict[str, Any] = json.loads(_answer(lambda **options: create(dict(body), **options)) or b"{}")
    return answer


def container_log(api_client: Any, namespace: str, pod: str, container: str) -> str:
    """The last `LOG_LINES` lines of a container's log, as the node's kubelet serves them."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    raw = _answer(
        lambda **options: core.read_namespaced_pod_log(
            pod, namespace, container=container, tail_lines=LOG_LINES, limit_bytes=LOG_BYTES, **options
        )
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
    return named(client.ApiClient(configuration))


def named(api_client: Any) -> Any:
    api_client.user_agent = USER_AGENT
    return api_client
