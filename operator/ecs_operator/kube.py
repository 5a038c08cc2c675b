"""The only module that talks to the Kubernetes API.

Everything the operator reads or writes goes through `Kube`, so the set of resources and verbs it uses is
declared once (`RESOURCES`, `VERBS`) and the least-privilege ClusterRole can be checked against it.
Writes are server-side apply under one field manager (`FIELD_MANAGER`, forced), merge patches of
`/status`, deletes and Events; every write is counted in the metrics. A client given a `fence` sends no
write while the fence is down: the operator's replicas write only while they hold the leader Lease.
"""

from __future__ import annotations

import datetime
import logging
import os
import ssl
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from ecs_operator import API_GROUP, API_VERSION, FIELD_MANAGER, NAMESPACE, kubehttp, metrics

log = logging.getLogger(__name__)

ECS_API_VERSION = f"{API_GROUP}/{API_VERSION}"
REQUEST_TIMEOUT = 60


@dataclass(frozen=True)
class Resource:
    api_version: str
    plural: str
    namespaced: bool


RESOURCES: dict[str, Resource] = {
    "EcsCluster": Resource(ECS_API_VERSION, "ecsclusters", False),
    "EcsTaskDefinition": Resource(ECS_API_VERSION, "ecstaskdefinitions", False),
    "EcsService": Resource(ECS_API_VERSION, "ecsservices", True),
    "EcsTask": Resource(ECS_API_VERSION, "ecstasks", True),
    "Namespace": Resource("v1", "namespaces", False),
    "Node": Resource("v1", "nodes", False),
    "Pod": Resource("v1", "pods", True),
    "Service": Resource("v1", "services", True),
    "ServiceAccount": Resource("v1", "serviceaccounts", True),
    "Event": Resource("v1", "events", True),
    "Deployment": Resource("apps/v1", "deployments", True),
    "DaemonSet": Resource("apps/v1", "daemonsets", True),
    "ReplicaSet": Resource("apps/v1", "replicasets", True),
    "ControllerRevision": Resource("apps/v1", "controllerrevisions", True),
}

# What the operator does with each kind: its runtime lists and watches every kind it reads, reads a custom
# resource itself only while its cache lags behind the operator's own write, and server-side applies (create
# and patch) and deletes children. The RBAC test checks this table against the runtime's declarations and
# the ClusterRole; status writes (`<plural>/status`) are declared by the controllers.
VERBS: dict[str, tuple[str, ...]] = {
    "EcsCluster": ("get", "list", "watch", "patch"),
    "EcsTaskDefinition": ("get", "list", "watch", "patch"),
    "EcsService": ("get", "list", "watch", "patch"),
    "EcsTask": ("get", "list", "watch", "delete"),
    "Namespace": ("list", "watch", "create", "patch"),
    "Node": ("list", "watch", "patch"),
    "Pod": ("list", "watch", "create", "patch", "delete"),
    "Service": ("list", "watch", "create", "patch", "delete"),
    "ServiceAccount": ("list", "watch", "create", "patch", "delete"),
    "Event": ("create",),
    "Deployment": ("list", "watch", "create", "patch", "delete"),
    "DaemonSet": ("list", "watch", "create", "patch", "delete"),
    "ReplicaSet": ("list", "watch"),
    "ControllerRevision": ("list", "watch", "create", "patch", "delete"),
}


# The operator's leader election: one Lease in its own namespace, granted by a Role there (not the
# ClusterRole). Only `runtime/leader.py` uses it; the RBAC test checks the Role against these verbs.
ELECTION_RESOURCES: dict[str, Resource] = {"Lease": Resource("coordination.k8s.io/v1", "leases", True)}
ELECTION_VERBS: tuple[str, ...] = ("get", "create", "update")

# Kinds only the ECS API uses (`ecs_operator.ecsapi`, a process with its own role), not the operator.
API_ONLY_RESOURCES: dict[str, Resource] = {
    "Secret": Resource("v1", "secrets", True),
    "ConfigMap": Resource("v1", "configmaps", True),
    "EcsCapacityProvider": Resource(ECS_API_VERSION, "ecscapacityproviders", False),
    "SelfSubjectAccessReview": Resource("authorization.k8s.io/v1", "selfsubjectaccessreviews", False),
    "SelfSubjectReview": Resource("authentication.k8s.io/v1", "selfsubjectreviews", False),
    "TokenReview": Resource("authentication.k8s.io/v1", "tokenreviews", False),
    "IamRole": Resource(ECS_API_VERSION, "iamroles", False),
    "IamOidcProvider": Resource(ECS_API_VERSION, "iamoidcproviders", False),
    "HorizontalPodAutoscaler": Resource("autoscaling/v2", "horizontalpodautoscalers", True),
}


class KubeError(Exception):
    """An API call failed with a status other than the ones the caller handles."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status

    @classmethod
    def of(cls, error: Any) -> KubeError:
        """The kubernetes client's ApiException as a KubeError with the API server's own message (its
        Status object's) when there is one."""
        body = error.body if isinstance(error.body, bytes) else str(error.body or "").encode()
        return cls(int(error.status or 0), _reason(body, error.reason))


def _reason(body: bytes, reason: str | None) -> str:
    """The API server's own message (a Status object) when there is one."""
    try:
        message = orjson.loads(body).get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return str(message or reason or body.decode(errors="replace"))


class NotLeading(KubeError, metrics.Retry):
    """A write refused before it was sent: this replica does not hold the leader Lease (any more)."""

    def __init__(self, what: str) -> None:
        super().__init__(0, f"{what} not sent: this replica is not the leader")


def resource_for(kind: str) -> Resource:
    found = RESOURCES.get(kind) or API_ONLY_RESOURCES.get(kind) or ELECTION_RESOURCES.get(kind)
    if found is None:
        raise KubeError(0, f"the operator does not manage objects of kind {kind}")
    return found


def path_for(kind: str, namespace: str | None = None, name: str | None = None, subresource: str = "") -> str:
    resource = resource_for(kind)
    base = "/api/v1" if resource.api_version == "v1" else f"/apis/{resource.api_version}"
    parts = [base]
    if resource.namespaced and namespace:
        parts.append(f"namespaces/{namespace}")
    parts.append(resource.plural)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def own_namespace(given: str | None = None) -> str:
    """The namespace a process keeps its own objects in (a Lease, a Secret): `given`, else its Pod's
    ($POD_NAMESPACE, else the in-cluster ServiceAccount's), else NAMESPACE."""
    if given:
        return given
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    if os.path.exists(IN_CLUSTER_NAMESPACE):
        with open(IN_CLUSTER_NAMESPACE, encoding="utf-8") as namespace:
            return namespace.read().strip()
    return NAMESPACE


def new_api_client(
    config_file: str | None = None, context: str | None = None, user_agent: str | None = None
) -> Any:
    """An ApiClient from `config_file` (default $KUBECONFIG / ~/.kube/config) and `context`, or, when
    neither is given, the in-cluster ServiceAccount if there is one; `user_agent` names the caller in the
    API server's audit log."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        if config_file or context:
            raise config.ConfigException("a kubeconfig was asked for")
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(
            config_file=config_file or os.environ.get("KUBECONFIG"),
            context=context,
            client_configuration=configuration,
        )
    configuration.connection_pool_maxsize = 32
    api_client = client.ApiClient(configuration)
    if user_agent:
        api_client.user_agent = user_agent
    return api_client


def _impersonating_rest(inner: Any, user: str, groups: tuple[str, ...]) -> Any:
    """A copy of an ApiClient's REST layer that adds Impersonate-User and one Impersonate-Group header per
    group (the client's own header handling keeps one value per name), sharing its connection pool. Its
    `impersonation` headers are what `Transport` adds to every request it sends."""
    from kubernetes.client.rest import RESTClientObject
    from urllib3 import HTTPHeaderDict

    impersonation = (("Impersonate-User", user), *(("Impersonate-Group", group) for group in groups))

    class Impersonating(RESTClientObject):  # type: ignore[misc]
        def __init__(self) -> None:
            self.__dict__.update(inner.__dict__)
            self.impersonation = impersonation

        def request(self, method: str, url: str, *args: Any, headers: Any = None, **kwargs: Any) -> Any:
            merged = HTTPHeaderDict(dict(headers or {}))
            for name, value in impersonation:
                merged.add(name, value)
            return super().request(method, url, *args, headers=merged, **kwargs)

    return Impersonating()


def impersonating(api_client: Any, user: str, groups: tuple[str, ...] = ()) -> Any:
    """An ApiClient that acts as `user` in `groups`, sharing `api_client`'s configuration and connections."""
    from kubernetes import client

    http_of(api_client)  # made before the copy, so that the copy shares it
    result = client.ApiClient.__new__(client.ApiClient)
    result.__dict__.update(api_client.__dict__)
    result.default_headers = dict(api_client.default_headers)
    result.rest_client = _impersonating_rest(api_client.rest_client, user, groups)
    return result


Timeout = float | tuple[float, float]


class Transport:
    """How a request travels: the ApiClient's credentials (a bearer token refreshed by its hook, client
    certificates, exec plugins) and headers (user agent, impersonation), without the generated client's
    request path, which walks every body to sanitize it and every parameter to format it, nor urllib3's,
    which spends close to a millisecond of Python per request: `kubehttp.Http` keeps its own connections
    (shared by the ApiClient's copies, as its pool was), and the ApiClient's urllib3 pool is used only when
    a proxy is configured. Bodies are encoded with orjson; answers are left to the caller."""

    def __init__(self, api_client: Any) -> None:
        self._api = api_client

    def send(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        content_type: str,
        body: Any,
        timeout: Timeout,
        stream: bool = False,
    ) -> Any:
        """The body of a 2xx answer, or with `stream` the answer unread (`.stream()`, `.release_conn()`);
        KubeError for any other status."""
        configuration = self._api.configuration
        rest = self._api.rest_client
        headers = [*self._api.default_headers.items(), ("Accept", "application/json")]
        headers += [("Content-Type", content_type), *getattr(rest, "impersonation", ())]
        token = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers.append(("Authorization", token))
        target = path + (f"?{urlencode(query)}" if query else "")
        data = orjson.dumps(body) if body is not None else None
        if configuration.proxy:
            return self._send_pooled(method, configuration.host + target, headers, data, timeout, stream)
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        try:
            if stream:
                streamed = http_of(self._api).stream(method, target, headers, connect, read)
                if 200 <= streamed.status < 300:
                    return streamed
                try:
                    answer = kubehttp.Response(streamed.status, streamed.reason, streamed.read())
                finally:
                    streamed.release_conn()
            else:
                answer = http_of(self._api).request(method, target, headers, data, connect)
        except ssl.SSLError as error:
            raise KubeError(0, f"{type(error).__name__}: {error}") from None
        if not 200 <= answer.status < 300:
            raise KubeError(answer.status, _reason(answer.data, answer.reason))
        return answer.data

    def _send_pooled(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        data: bytes | None,
        timeout: Timeout,
        stream: bool,
    ) -> Any:
        """Through the ApiClient's urllib3 pool (its proxy settings)."""
        import urllib3

        try:
            response = self._api.rest_client.pool_manager.request(
                method,
                url,
                body=data,
                headers=urllib3.HTTPHeaderDict(headers),
                preload_content=False,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1])
                if isinstance(timeout, tuple)
                else urllib3.Timeout(total=timeout),
            )
        except urllib3.exceptions.SSLError as error:
            raise KubeError(0, f"{type(error).__name__}: {error}") from None
        if stream and 200 <= response.status < 300:
            return response
        try:
            answer = response.read()
        finally:
            response.release_conn()
        if not 200 <= response.status < 300:
            raise KubeError(response.status, _reason(answer, response.reason))
        return answer


_HTTP_LOCK = threading.Lock()


def http_of(api_client: Any) -> kubehttp.Http:
    """The connections of an ApiClient, kept on its REST layer (its impersonating copies share them)."""
    rest = api_client.rest_client
    http = getattr(rest, "ecs_http", None)
    if http is None:
        with _HTTP_LOCK:
            http = getattr(rest, "ecs_http", None)
            if http is None:
                http = rest.ecs_http = kubehttp.Http(api_client.configuration)
                # Closed with the client, as its urllib3 pool was: a socket left to the collector warns.
                weakref.finalize(rest, http.close)
    return http


class Kube:
    """Typed-by-kind access to the API server with plain dicts in and out."""

    def __init__(
        self,
        api_client: Any,
        field_manager: str = FIELD_MANAGER,
        fence: Callable[[], bool] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self._http = api_client if isinstance(api_client, Transport) else Transport(api_client)
        self.field_manager = field_manager
        self._fence = fence
        self._timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        if method != "GET" and self._fence is not None and not self._fence():
            raise NotLeading(f"{method} {path}")
        raw = self._http.send(method, path, query or (), content_type, body, self._timeout)
        return orjson.loads(raw) if raw else None

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = self._call("GET", path_for(kind, namespace, name))
        except KubeError as error:
            if error.status == 404:
                return None
            raise
        return obj

    def list(
        self, kind: str, namespace: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        query = []
        if labels:
            query.append(("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))))
        try:
            result = self._call("GET", path_for(kind, namespace), query=query)
        except KubeError as error:
            if error.status == 404:
                return []
            raise
        items: list[dict[str, Any]] = result.get("items") or []
        return items

    def list_chunk(
        self,
        kind: str,
        label_selector: str,
        limit: int,
        continue_token: str = "",
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """One page of a list, cluster-wide or in `namespace` (items, metadata.continue, .resourceVersion)."""
        query = [("labelSelector", label_selector), ("limit", str(limit))]
        if continue_token:
            query.append(("continue", continue_token))
        result: dict[str, Any] = self._call("GET", path_for(kind, namespace), query=query)
        return result

    def watch(
        self,
        kind: str,
        label_selector: str,
        resource_version: str,
        timeout_seconds: int,
        namespace: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Watch events (type, object) from `resource_version`, cluster-wide or in `namespace`, with
        bookmarks."""
        query = [
            ("watch", "1"),
            ("labelSelector", label_selector),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        response = self._http.send(
            "GET",
            path_for(kind, namespace),
            query,
            "application/json",
            None,
            (REQUEST_TIMEOUT, timeout_seconds + REQUEST_TIMEOUT),
            stream=True,
        )
        try:
            for line in _lines(response):
                if line:
                    yield orjson.loads(line)
        finally:
            response.release_conn()

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply of a complete object, forcing our field manager's ownership."""
        kind = obj["kind"]
        metadata = obj["metadata"]
        result: dict[str, Any] = self._call(
            "PATCH",
            path_for(kind, metadata.get("namespace"), metadata["name"]),
            query=[("fieldManager", self.field_manager), ("force", "true")],
            body=dict(obj),
            content_type="application/apply-patch+yaml",
        )
        metrics.API_WRITES.labels(kind=kind, verb="apply").inc()
        log.info("applied %s %s/%s", kind, metadata.get("namespace", ""), metadata["name"])
        return result

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create an object (409 when it exists: the caller decides what that means)."""
        kind = obj["kind"]
        result: dict[str, Any] = self._call(
            "POST",
            path_for(kind, obj.get("metadata", {}).get("namespace")),
            query=[("fieldManager", self.field_manager)],
            body=dict(obj),
        )
        metrics.API_WRITES.labels(kind=kind, verb="create").inc()
        return result

    def update(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Replace an object (PUT); its metadata.resourceVersion makes it conditional (409 when stale)."""
        metadata = obj["metadata"]
        result: dict[str, Any] = self._call(
            "PUT",
            path_for(obj["kind"], metadata.get("namespace"), metadata["name"]),
            query=[("fieldManager", self.field_manager)],
            body=dict(obj),
        )
        metrics.API_WRITES.labels(kind=obj["kind"], verb="update").inc()
        return result

    def patch_status(
        self, kind: str, name: str, namespace: str | None, status: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge-patch `/status`; returns None when the object is gone."""
        try:
            result: dict[str, Any] = self._call(
                "PATCH",
                path_for(kind, namespace, name, "status"),
                body={"status": dict(status)},
                content_type="application/merge-patch+json",
            )
        except KubeError as error:
            if error.status == 404:
                return None
            raise
        metrics.API_WRITES.labels(kind=kind, verb="patch-status").inc()
        return result

    def merge_patch(
        self, kind: str, name: str, namespace: str | None, patch: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._call(
                "PATCH",
                path_for(kind, namespace, name),
                query=[("fieldManager", self.field_manager)],
                body=dict(patch),
                content_type="application/merge-patch+json",
            )
        except KubeError as error:
            if error.status == 404:
                return None
            raise
        metrics.API_WRITES.labels(kind=kind, verb="patch").inc()
        return result

    def delete(
        self, kind: str, name: str, namespace: str | None = None, propagation: str = "Background"
    ) -> bool:
        """Delete an object; False when it was already gone."""
        try:
            self._call(
                "DELETE",
                path_for(kind, namespace, name),
                body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
            )
        except KubeError as error:
            if error.status == 404:
                return False
            raise
        metrics.API_WRITES.labels(kind=kind, verb="delete").inc()
        log.info("deleted %s %s/%s", kind, namespace or "", name)
        return True

    def post_event(
        self, involved: Mapping[str, Any], reason: str, message: str, event_type: str = "Normal"
    ) -> None:
        """A core/v1 Event on `involved` (a custom resource body). Failures are logged, not raised, but
        for NotLeading."""
        metadata = involved["metadata"]
        namespace = metadata.get("namespace") or "default"
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{metadata['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", ECS_API_VERSION),
                "kind": involved["kind"],
                "name": metadata["name"],
                "namespace": metadata.get("namespace"),
                "uid": metadata.get("uid"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": event_type,
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
            "reportingInstance": os.environ.get("HOSTNAME", FIELD_MANAGER),
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self._call("POST", path_for("Event", namespace), body=event)
        except NotLeading:
            raise  # the pass stops here: its other writes would be refused too
        except KubeError as error:
            log.warning("could not post event %s on %s: %s", reason, metadata["name"], error)
            return
        metrics.API_WRITES.labels(kind="Event", verb="create").inc()


def _lines(response: Any) -> Iterator[bytes]:
    """The lines of a streamed response, as bytes (a watch sends one JSON event per line)."""
    partial = b""
    for chunk in response.stream(amt=None, decode_content=False):
        *complete, partial = (partial + chunk).split(b"\n")
        yield from complete
    if partial:
        yield partial


def who_am_i(client: Kube) -> str:
    """The username the API server authenticates `client`'s credentials as (a SelfSubjectReview)."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    answer = client.create(body)
    return str(((answer.get("status") or {}).get("userInfo") or {}).get("username") or "")
