"""STS over the Query protocol: the operation a request names, its parameters read and checked by the
input shape, the answer and errors in XML, and the names STS's clients read for the endpoint's errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ecs_operator.awsmodel import sts as model
from ecs_operator.ecsapi import query_protocol
from ecs_operator.ecsapi.errors import EcsError, UnknownOperationException
from ecs_operator.ecsapi.sts.operations import OPERATIONS, StsContext
from ecs_operator.ecsapi.validate import check_input

# The endpoint's errors under the names STS answers with (the JSON services' names otherwise).
RENAMED = {
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "ExpiredTokenException": "ExpiredToken",
    "AccessDeniedException": "AccessDenied",
    "InvalidParameterException": "ValidationError",
    "SerializationException": "ValidationError",
    "UnknownOperationException": "InvalidAction",
    "ServiceUnavailableException": "ServiceUnavailable",
    "ServerException": "InternalFailure",
    "RequestEntityTooLargeException": "RequestEntityTooLarge",
}


def operation(params: Mapping[str, str]) -> str:
    action = params.get("Action", "")
    if action not in OPERATIONS:
        version = params.get("Version", model.API_VERSION)[:20]
        raise UnknownOperationException(f"Could not find operation {action[:100]} for version {version}")
    return action


def parse(operation: str, params: Mapping[str, str]) -> dict[str, Any]:
    request = query_protocol.parse(model.SHAPES, model.INPUTS[operation], params)
    check_input(model.INPUTS[operation], request, model.SHAPES)
    return request


def call(ctx: StsContext, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
    return OPERATIONS[operation](ctx, request)


def response(operation: str, result: Any, request_id: str) -> bytes:
    return query_protocol.response(
        model.SHAPES,
        model.XML_NAMESPACE,
        operation,
        model.OUTPUTS[operation],
        model.RESULT_WRAPPERS[operation],
        result,
        request_id,
    )


def error_response(error: EcsError, request_id: str) -> web.Response:
    # By class: an expired web identity token (`ExpiredWebIdentityToken`) keeps STS's ExpiredTokenException,
    # an expired session token becomes ExpiredToken.
    code = RENAMED.get(type(error).__name__, error.code)
    return web.Response(
        status=error.status,
        body=query_protocol.error(model.XML_NAMESPACE, code, error.message, error.status, request_id),
        content_type=query_protocol.XML_CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )
