"""One endpoint for three AWS services over HTTP, told apart as the SDKs address them:

- ECS (AWS JSON 1.1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`, signing name `ecs`);
- Application Auto Scaling (AWS JSON 1.1, `X-Amz-Target: AnyScaleFrontendService.<Op>`, signing name
  `application-autoscaling`);
- STS (the Query protocol: `POST /` form-encoded `Action=<Op>&Version=2011-06-15`, XML answers, signing
  name `sts`).

Every request is SigV4-verified against an access key (a Secret) or a session token (sealed, stateless:
`sessions.py`); AssumeRoleWithWebIdentity alone may come unsigned, its web identity token being the
credential. The credential scope must name the service addressed. The skeleton only parses,
authenticates, dispatches (on a worker thread: the Kubernetes client blocks) and serializes; errors are
each protocol's (`__type` + `X-Amzn-ErrorType` for JSON, `<ErrorResponse>` for Query). Nothing a client
sends yields a 500: a 500 is a bug here, logged as such. Tokens and secrets are never logged.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from ecs_operator.awsmodel import autoscaling as aas_model
from ecs_operator.awsmodel import sts as sts_model
from ecs_operator.awsmodel.ecs import SIGNING_NAME as ECS_SIGNING_NAME
from ecs_operator.awsmodel.ecs import TARGET_PREFIX
from ecs_operator.ecsapi import operations, query_protocol
from ecs_operator.ecsapi.access import ReviewAuthorizer, ReviewCache
from ecs_operator.ecsapi.autoscaling import operations as aas_operations
from ecs_operator.ecsapi.callers import Authenticator, Caller
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.errors import (
    EcsError,
    InvalidSignatureException,
    RequestEntityTooLargeException,
    SerializationException,
    ServerException,
    ServiceUnavailableException,
    UnknownOperationException,
)
from ecs_operator.ecsapi.keys import Identity
from ecs_operator.ecsapi.store import Store
from ecs_operator.ecsapi.sts import protocol as sts_protocol
from ecs_operator.ecsapi.sts.operations import StsContext
from ecs_operator.ecsapi.webidentity import Verifier
from ecs_operator.identifiers import Partition
from ecs_operator.kube import Kube, impersonating

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
# ECS's largest request (RegisterTaskDefinition) is bounded far below this.
MAX_BODY_BYTES = 1024 * 1024
IDENTITY_CLIENTS = 256
FIELD_MANAGER = "ecs-api"
UNSIGNED_OPERATIONS = ("AssumeRoleWithWebIdentity",)


class Caches(Store, Protocol):
    def synced(self) -> bool:
        """Whether every cache has listed once (until then requests are answered 503)."""


def impersonated(api_client: Any) -> Callable[[Identity], Kube]:
    """A client per identity, acting as it (Impersonate-User/Group) over `api_client`'s connections."""
    return lambda identity: Kube(impersonating(api_client, identity.user, identity.groups), FIELD_MANAGER)


@dataclass
class Server:
    """What every request shares: the caches, the authenticator, and how to get a client acting as an
    identity (`impersonated` in production)."""

    store: Caches
    authenticator: Authenticator
    verifier: Verifier
    client_for: Callable[[Identity], Kube]
    partition: Partition = field(default_factory=Partition.from_env)
    registry: Kube | None = None
    reviews: ReviewCache = field(default_factory=ReviewCache)
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
    _clients: OrderedDict[Identity, Kube] = field(default_factory=OrderedDict)

    def kube_for(self, identity: Identity) -> Kube:
        kube = self._clients.get(identity)
        if kube is None:
            kube = self.client_for(identity)
            self._clients[identity] = kube
            if len(self._clients) > IDENTITY_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(identity)
        return kube

    def context(self, identity: Identity, caller_arn: str = "") -> Context:
        kube = self.kube_for(identity)
        return Context(
            store=self.store,
            kube=kube,
            authorizer=ReviewAuthorizer(kube, identity, self.reviews),
            registry=self.registry,
            caller=lambda: identity.user,
            caller_arn=caller_arn,
            partition=self.partition,
        )

    def sts_context(self, caller: Caller | None) -> StsContext:
        auth = self.authenticator
        return StsContext(caller, auth.sealing, auth.directory, self.verifier, self.partition)


SERVER = web.AppKey("server", Server)


@dataclass(frozen=True)
class JsonService:
    """An AWS JSON 1.1 service: its target prefix, signing name, operations and the names its clients
    read for the errors the endpoint raises under another name."""

    target_prefix: str
    signing_name: str
    operations: Mapping[str, Any]
    call: Callable[[Context, str, Mapping[str, Any]], dict[str, Any]]
    renamed: Mapping[str, str]


JSON_SERVICES = {
    TARGET_PREFIX: JsonService(TARGET_PREFIX, ECS_SIGNING_NAME, operations.OPERATIONS, operations.call, {}),
    aas_model.TARGET_PREFIX: JsonService(
        aas_model.TARGET_PREFIX,
        aas_model.SIGNING_NAME,
        aas_operations.OPERATIONS,
        aas_operations.call,
        aas_operations.RENAMED,
    ),
}


def error_response(
    error: EcsError, request_id: str, renamed: Mapping[str, str] | None = None
) -> web.Response:
    code = (renamed or {}).get(type(error).__name__, error.code)
    return web.Response(
        status=error.status,
        body=json.dumps({"__type": code, "message": error.message}).encode(),
        content_type=CONTENT_TYPE,
        headers={"X-Amzn-ErrorType": code, "x-amzn-RequestId": request_id},
    )


def _headers(request: web.Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        found.setdefault(name.lower(), []).append(value)
    return found


def _json_service(target: str) -> tuple[JsonService, str]:
    prefix, _, operation = target.partition(".")
    service = JSON_SERVICES.get(prefix)
    if service is None or operation not in service.operations:
        raise UnknownOperationException(f"Unknown operation {target[:100]!r}.")
    return service, operation


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise SerializationException("The request body must be a JSON object.")
    return parsed


def _scoped(caller: Caller, signing_name: str) -> Caller:
    if caller.service != signing_name:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{signing_name}'.")
    return caller


@dataclass
class _Log:
    """What the log line of a request says: never a key, a token or a body."""

    request_id: str
    operation: str = "-"
    principal: str = "-"
    user: str = "-"
    status: int = 200


async def _authenticate(server: Server, request: web.Request, raw: bytes) -> Caller:
    return await asyncio.to_thread(
        server.authenticator.authenticate,
        request.method,
        request.raw_path,
        _headers(request),
        raw,
        server.now(),
    )


async def _read(request: web.Request) -> bytes:
    too_large = RequestEntityTooLargeException(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


async def _json(request: web.Request, raw: bytes, target: str, line: _Log) -> web.Response:
    server = request.app[SERVER]
    caller = await _authenticate(server, request, raw)
    line.principal = caller.arn
    service, line.operation = _json_service(target)
    _scoped(caller, service.signing_name)
    identity = caller.acting_as()
    line.user = identity.user
    body = _body(raw)
    if not server.store.synced():
        raise ServiceUnavailableException("The API is starting: its caches are still listing.")
    ctx = server.context(identity, caller.arn)
    result = await asyncio.to_thread(service.call, ctx, line.operation, body)
    return web.Response(
        body=json.dumps(result, separators=(",", ":"), default=str).encode(),
        content_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": line.request_id},
    )


async def _sts(request: web.Request, raw: bytes, line: _Log) -> web.Response:
    server = request.app[SERVER]
    params = query_protocol.form_parameters(raw, request.query_string)
    line.operation = sts_protocol.operation(params)
    caller = None
    if request.headers.get("Authorization") or line.operation not in UNSIGNED_OPERATIONS:
        caller = _scoped(await _authenticate(server, request, raw), sts_model.SIGNING_NAME)
        line.principal = caller.arn
    parsed = sts_protocol.parse(line.operation, params)
    result = await asyncio.to_thread(sts_protocol.call, server.sts_context(caller), line.operation, parsed)
    return web.Response(
        body=sts_protocol.response(line.operation, result, line.request_id),
        content_type=query_protocol.XML_CONTENT_TYPE,
        headers={"x-amzn-RequestId": line.request_id},
    )


async def handle(request: web.Request) -> web.Response:
    request_id = str(uuid.uuid4())
    started = time.monotonic()
    line = _Log(request_id)
    target = request.headers.get("X-Amz-Target")
    renamed: Mapping[str, str] = {}
    if target:
        renamed = JSON_SERVICES.get(target.partition(".")[0], JSON_SERVICES[TARGET_PREFIX]).renamed
    try:
        raw = await _read(request)
        if target:
            return await _json(request, raw, target, line)
        if _is_form(request):
            return await _sts(request, raw, line)
        raise UnknownOperationException("Missing the X-Amz-Target header naming the operation.")
    except EcsError as error:
        line.status = error.status
        if not target and _is_form(request):
            return sts_protocol.error_response(error, request_id)
        return error_response(error, request_id, renamed)
    except Exception:
        line.status = 500
        log.exception("%s failed (request %s)", line.operation, request_id)
        failure = ServerException("Internal error; the server log has the details.")
        if not target and _is_form(request):
            return sts_protocol.error_response(failure, request_id)
        return error_response(failure, request_id, renamed)
    finally:
        log.info(
            "%s principal=%s user=%s status=%s ms=%.1f request=%s",
            line.operation,
            line.principal,
            line.user,
            line.status,
            (time.monotonic() - started) * 1000,
            request_id,
        )


def _is_form(request: web.Request) -> bool:
    """A Query-protocol (STS) request: form data, or an `Action` in the query string."""
    return request.content_type == "application/x-www-form-urlencoded" or "Action" in request.query


async def not_allowed(request: web.Request) -> web.Response:
    error = UnknownOperationException(
        f"{request.method} {request.path[:100]} is not an operation: POST / (ECS, Application Auto "
        "Scaling, STS)."
    )
    return error_response(error, str(uuid.uuid4()))


async def healthz(request: web.Request) -> web.Response:
    synced = request.app[SERVER].store.synced()
    return web.Response(status=200 if synced else 503, text="ok\n" if synced else "listing\n")


def build_app(server: Server) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SERVER] = server
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/", handle)
    app.router.add_route("*", "/{tail:.*}", not_allowed)
    return app
