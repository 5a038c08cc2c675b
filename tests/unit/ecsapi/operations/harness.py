"""The endpoint as an SDK meets it, in-process: its aiohttp app behind aiohttp's test client, requests built
by botocore's own serializers from botocore's models (with or without botocore's client-side validation,
as `Config(parameter_validation=False)` would send them), SigV4-signed by botocore's signer as the AWS CLI
signs them, answers read by botocore's parsers; an error answer raises botocore's ClientError, as boto3
does. `caller.ecs.create_cluster(clusterName="x")` reads like boto3 and goes through exactly that.
"""

from __future__ import annotations

import asyncio
import functools
import io
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.session import Session
from ecs_operator.ecsapi.endpoint import Server, build_app

REGION = "us-east-1"
SERVICES = {"ecs": "ecs", "aas": "application-autoscaling", "sts": "sts"}


@functools.cache
def service_model(name: str) -> ServiceModel:
    return Session().get_service_model(name)


@functools.cache
def operation_names(service: str) -> dict[str, str]:
    """boto3's method names of a service's operations (create_cluster -> CreateCluster)."""
    return {xform_name(name): name for name in service_model(service).operation_names}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Endpoint:
    """The endpoint's app on aiohttp's test server, on an event loop of its own."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(build_app(server)), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        self.url = str(self.client.make_url("/"))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """One HTTP request as it is (`url` absolute or a path)."""
        split = urllib.parse.urlsplit(url)
        path = split.path + (f"?{split.query}" if split.query else "")

        async def exchange() -> Answer:
            data = io.BytesIO(body)  # aiohttp warns of large raw bytes
            async with self.client.request(method, path, headers=dict(headers), data=data) as response:
                return Answer(response.status, dict(response.headers), await response.read())

        return self.loop.run_until_complete(exchange())

    def call(
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        credentials: Credentials | None,
        validate: bool = True,
    ) -> dict[str, Any]:
        """What boto3 does for one call: serialize, sign, send, parse (ClientError on an error answer)."""
        model = service_model(service)
        operation_model = model.operation_model(operation)
        protocol = model.metadata["protocol"]
        request = create_serializer(protocol, include_validation=validate).serialize_to_request(
            dict(params), operation_model
        )
        prepare_request_dict(request, endpoint_url=self.url, user_agent="Boto3/in-process botocore")
        aws_request = create_request_object(request)
        if credentials is not None:
            SigV4Auth(credentials, model.signing_name, REGION).add_auth(aws_request)
        prepared = aws_request.prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else bytes(prepared.body or b"")
        answer = self.send(prepared.method, prepared.url, dict(prepared.headers.items()), body)
        parsed: dict[str, Any] = create_parser(protocol).parse(
            {"status_code": answer.status, "headers": answer.headers, "body": answer.body},
            operation_model.output_shape,
        )
        if answer.status >= 300:
            raise ClientError(parsed, operation)
        parsed.pop("ResponseMetadata", None)
        return parsed


class ServiceClient:
    """boto3's client of one service: `client.create_cluster(**params)`."""

    def __init__(self, caller: Caller, service: str, validate: bool = True) -> None:
        self._caller = caller
        self._service = service
        self._validate = validate

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        operation = operation_names(SERVICES[self._service]).get(method)
        if operation is None:
            raise AttributeError(f"{self._service} has no operation {method}")

        def call(**params: Any) -> dict[str, Any]:
            return self._caller.call(self._service, operation, params, self._validate)

        return call

    def unvalidated(self) -> ServiceClient:
        """The client as `Config(parameter_validation=False)` makes it: the server's checks answer."""
        return ServiceClient(self._caller, self._service, validate=False)


@dataclass
class Caller:
    """One set of credentials (an access key, or a session's) calling the endpoint."""

    endpoint: Endpoint
    access_key_id: str
    secret_access_key: str
    token: str | None = None
    user: str = ""

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, self.token)

    def call(
        self, service: str, operation: str, params: Mapping[str, Any], validate: bool = True
    ) -> dict[str, Any]:
        return self.endpoint.call(SERVICES[service], operation, params, self.credentials, validate)

    def raw(self, target: str | None, body: bytes, service: str = "ecs") -> Answer:
        """A request as no SDK would send it (any target, any body), signed for `service`."""
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        if target is not None:
            headers["X-Amz-Target"] = target
        request = AWSRequest(method="POST", url=self.endpoint.url, data=body, headers=headers)
        SigV4Auth(self.credentials, service, REGION).add_auth(request)
        return self.endpoint.send("POST", "/", dict(request.headers.items()), body)

    @property
    def ecs(self) -> ServiceClient:
        return ServiceClient(self, "ecs")

    @property
    def aas(self) -> ServiceClient:
        return ServiceClient(self, "aas")

    @property
    def sts(self) -> ServiceClient:
        return ServiceClient(self, "sts")

    def of_session(self, credentials: Mapping[str, Any], user: str = "") -> Caller:
        """A caller with the temporary credentials an STS answer carries."""
        return Caller(
            self.endpoint,
            str(credentials["AccessKeyId"]),
            str(credentials["SecretAccessKey"]),
            str(credentials["SessionToken"]),
            user,
        )


@contextmanager
def refused(code: str, *names: str) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """The call inside answers the error `code`, and its message names each of `names`."""
    with pytest.raises(ClientError) as raised:
        yield raised
    error = raised.value.response["Error"]
    assert error["Code"] == code, error
    for name in names:
        assert name in error["Message"], error
