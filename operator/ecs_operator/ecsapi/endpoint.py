"""The ECS endpoint: AWS JSON 1.1 over HTTP (`POST /`,
`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`), SigV4 verified against the access keys, every
call acting as the key's Kubernetes identity.

The skeleton only parses, authenticates, dispatches to `operations.call` (on a worker thread: the
Kubernetes client blocks) and serializes; errors are `{"__type": <name>, "message": …}` with the
`X-Amzn-ErrorType` header. Nothing a client sends yields a 500: a 500 is a bug here, logged as such.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ecs_operator.ecsapi import operations, sigv4
from ecs_operator.ecsapi.access import ReviewAuthorizer, ReviewCache
from ecs_operator.ecsapi.context import Context
from ecs_operator.ecsapi.errors import (
    EcsError,
    RequestEntityTooLargeException,
    SerializationException,
    ServerException,
    ServiceUnavailableException,
    UnknownOperationException,
)
from ecs_operator.ecsapi.keys import Identity, Key, KeyRing
from ecs_operator.ecsapi.model import TARGET_PREFIX
from ecs_operator.ecsapi.store import InformerStore
from ecs_operator.identifiers import Partition
from ecs_operator.kube import Kube, impersonating

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
# ECS's largest request (RegisterTaskDefinition) is bounded far below this.
MAX_BODY_BYTES = 1024 * 1024
IDENTITY_CLIENTS = 256
FIELD_MANAGER = "ecs-api"


@dataclass
class Server:
    """What every request shares: the caches, the key ring, the API client the identities borrow."""

    store: InformerStore
    keys: KeyRing
    api_client: Any
    partition: Partition = field(default_factory=Partition.from_env)
    registry: Kube | None = None
    reviews: ReviewCache = field(default_factory=ReviewCache)
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
    _clients: OrderedDict[Identity, Kube] = field(default_factory=OrderedDict)

    def kube_for(self, identity: Identity) -> Kube:
        kube = self._clients.get(identity)
        if kube is None:
            kube = Kube(impersonating(self.api_client, identity.user, identity.groups), FIELD_MANAGER)
            self._clients[identity] = kube
            if len(self._clients) > IDENTITY_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(identity)
        return kube

    def context(self, identity: Identity) -> Context:
        kube = self.kube_for(identity)
        return Context(
            store=self.store,
            kube=kube,
            authorizer=ReviewAuthorizer(kube, identity, self.reviews),
            registry=self.registry,
            caller=lambda: identity.user,
            partition=self.partition,
        )


SERVER = web.AppKey("server", Server)


def error_response(error: EcsError, request_id: str) -> web.Response:
    return web.Response(
        status=error.status,
        body=json.dumps({"__type": error.code, "message": error.message}).encode(),
        content_type=CONTENT_TYPE,
        headers={"X-Amzn-ErrorType": error.code, "x-amzn-RequestId": request_id},
    )


def _headers(request: web.Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        found.setdefault(name.lower(), []).append(value)
    return found


def _operation(request: web.Request) -> str:
    target = request.headers.get("X-Amz-Target")
    if not target:
        raise UnknownOperationException("Missing the X-Amz-Target header naming the operation.")
    prefix, _, operation = target.partition(".")
    if prefix != TARGET_PREFIX or operation not in operations.OPERATIONS:
        raise UnknownOperationException(f"Unknown operation {target[:100]!r}.")
    return operation


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


def authenticate(
    server: Server, method: str, raw_path: str, headers: dict[str, list[str]], raw: bytes
) -> Key:
    """The key that signed the request (SigV4 verified), or the exception AWS answers with."""
    found: list[Key] = []

    def secret_of(key_id: str) -> str | None:
        key = server.keys.lookup(key_id)
        if key is None:
            return None
        found.append(key)
        return key.secret_access_key

    sigv4.verify(method, raw_path, headers, raw, secret_of, server.now())
    return found[0]


async def handle(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    request_id = str(uuid.uuid4())
    started = time.monotonic()
    operation = "-"
    user = "-"
    status = 200
    try:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise RequestEntityTooLargeException(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise RequestEntityTooLargeException(
                f"The request body is larger than {MAX_BODY_BYTES} bytes."
            ) from None
        key = await asyncio.to_thread(
            authenticate, server, request.method, request.raw_path, _headers(request), raw
        )
        user = key.identity.user
        operation = _operation(request)
        body = _body(raw)
        if not server.store.synced():
            raise ServiceUnavailableException("The API is starting: its caches are still listing.")
        ctx = server.context(key.identity)
        result = await asyncio.to_thread(operations.call, ctx, operation, body)
        return web.Response(
            body=json.dumps(result, separators=(",", ":")).encode(),
            content_type=CONTENT_TYPE,
            headers={"x-amzn-RequestId": request_id},
        )
    except EcsError as error:
        status = error.status
        return error_response(error, request_id)
    except Exception:
        status = 500
        log.exception("%s failed (request %s)", operation, request_id)
        return error_response(ServerException("Internal error; the server log has the details."), request_id)
    finally:
        log.info(
            "%s user=%s status=%s ms=%.1f request=%s",
            operation,
            user,
            status,
            (time.monotonic() - started) * 1000,
            request_id,
        )


async def not_allowed(request: web.Request) -> web.Response:
    error = UnknownOperationException(
        f"{request.method} {request.path[:100]} is not an ECS operation: POST /."
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
