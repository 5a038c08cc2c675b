"""AWS's Query protocol (STS): form-encoded requests (`Action=…&Version=…&Member=…`, lists as
`Name.member.N`), XML answers (`<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`) and XML errors
(`<ErrorResponse><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…`), read and written by the
operation's shapes in botocore's model (a `SHAPES` table as `awsmodel/generate.py` writes it).
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from ecs_operator.ecsapi.errors import InvalidParameterException

Shapes = Mapping[str, tuple[Any, ...]]
XML_CONTENT_TYPE = "text/xml"


def form_parameters(body: bytes, raw_query: str) -> dict[str, str]:
    """The request's parameters, from the query string and the form-encoded body (the body wins)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise InvalidParameterException("The request body is not UTF-8 form data.") from None
    found: dict[str, str] = {}
    for source in (raw_query, text):
        for name, value in urllib.parse.parse_qsl(source, keep_blank_values=True):
            found[name] = value
    return found


def _scalar(kind: str, value: str, where: str) -> Any:
    if kind in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise InvalidParameterException(f"{where}: must be an integer (got {value[:40]!r})") from None
    if kind in ("double", "float"):
        try:
            return float(value)
        except ValueError:
            raise InvalidParameterException(f"{where}: must be a number (got {value[:40]!r})") from None
    if kind == "boolean":
        if value not in ("true", "false"):
            raise InvalidParameterException(f"{where}: must be true or false (got {value[:40]!r})")
        return value == "true"
    return value


def _read(shapes: Shapes, name: str, params: Mapping[str, str], prefix: str, used: set[str]) -> Any:
    """The value of shape `name` at `prefix` (None when absent)."""
    shape = shapes[name]
    kind = shape[0]
    if kind == "structure":
        found = {}
        for member, member_shape in shape[1].items():
            value = _read(shapes, member_shape, params, f"{prefix}.{member}" if prefix else member, used)
            if value is not None:
                found[member] = value
        return found or None
    if kind == "list":
        if params.get(prefix) == "":
            used.add(prefix)
            return []
        items = []
        index = 1
        while True:
            item = _read(shapes, shape[1], params, f"{prefix}.member.{index}", used)
            if item is None:
                break
            items.append(item)
            index += 1
        return items or None
    if kind == "map":
        raise InvalidParameterException(f"{prefix}: maps are not read here")
    if prefix not in params:
        return None
    used.add(prefix)
    return _scalar(kind, params[prefix], prefix)


def parse(shapes: Shapes, input_shape: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The request as the input shape's dict; an unknown parameter is refused, naming it."""
    used = {"Action", "Version"}
    request: dict[str, Any] = _read(shapes, input_shape, params, "", used) or {}
    unknown = sorted(set(params) - used)
    if unknown:
        raise InvalidParameterException(f"{unknown[0][:100]}: unknown parameter")
    return request


def _timestamp(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.datetime.fromtimestamp(float(value), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml(shapes: Shapes, name: str, value: Any) -> str:
    shape = shapes[name]
    kind = shape[0]
    if kind == "structure":
        parts = []
        for member, member_shape in shape[1].items():
            if value.get(member) is not None:
                parts.append(f"<{member}>{_xml(shapes, member_shape, value[member])}</{member}>")
        return "".join(parts)
    if kind == "list":
        return "".join(f"<member>{_xml(shapes, shape[1], item)}</member>" for item in value)
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def response(
    shapes: Shapes, namespace: str, operation: str, output_shape: str, wrapper: str | None, result: Any,
    request_id: str,
) -> bytes:  # fmt: skip
    body = _xml(shapes, output_shape, result)
    if wrapper:
        body = f"<{wrapper}>{body}</{wrapper}>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response xmlns="{namespace}">{body}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>\n"
    ).encode()


def error(namespace: str, code: str, message: str, status: int, request_id: str) -> bytes:
    fault = "Receiver" if status >= 500 else "Sender"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{namespace}"><Error>'
        f"<Type>{fault}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>\n"
    ).encode()
