"""A small HTTP/1.1 client for the API server: kept-alive TLS connections, one `sendall` per request, and
a response read from a buffered socket.

The operator's CPU went mostly into HTTP: urllib3 and http.client spend close to a millisecond of Python
per request (their header classes, email-parser header parsing, retries and timeouts objects), several
times what the request costs on the wire. This client does what the API server's answers need — status
line, headers, a Content-Length or chunked body — and nothing else: no redirects, no compression, no
proxies (`Transport` uses the ApiClient's own urllib3 pool when a proxy is configured).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IDLE_CONNECTIONS = 32
MAX_LINE = 65536
# urllib3's defaults, which the kubernetes client relied on: three more tries after a Retry-After answer,
# for the methods a server may see twice.
RETRIES_AFTER = 3
REPEATABLE = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
MAX_RETRY_AFTER_SECONDS = 30.0


class ConnectionLost(Exception):
    """The connection ended before a complete response."""


@dataclass
class Response:
    status: int
    reason: str
    data: bytes


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.used = False  # it carried a complete exchange before (a server may close it while idle)

    def close(self) -> None:
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass

    def readline(self) -> bytes:
        line = self.reader.readline(MAX_LINE)
        if not line:
            raise ConnectionLost("the API server closed the connection")
        return line

    def read(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) != size:
            raise ConnectionLost("the API server closed the connection in a response")
        return data


def tls_context(configuration: Any) -> ssl.SSLContext | None:
    """The TLS settings of a kubernetes client Configuration (None for a plain http:// host)."""
    if urlsplit(configuration.host).scheme != "https":
        return None
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif configuration.assert_hostname is False:
        context.check_hostname = False
    return context


class Http:
    """Requests to one API server over a pool of kept-alive connections, from any thread."""

    def __init__(self, configuration: Any) -> None:
        address = urlsplit(configuration.host)
        self._tls = tls_context(configuration)
        self._server_name = getattr(configuration, "tls_server_name", None) or address.hostname
        self._address = (str(address.hostname), address.port or (443 if self._tls else 80))
        self._prefix = address.path.rstrip("/")
        self._host_header = address.netloc
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the idle connections (those in use close as their requests end)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _connect(self, timeout: float) -> _Connection:
        sock = socket.create_connection(self._address, timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self._server_name)
        return _Connection(sock)

    def _take(self, timeout: float) -> _Connection:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            return self._connect(timeout)
        connection.sock.settimeout(timeout)
        return connection

    def _give_back(self, connection: _Connection) -> None:
        connection.used = True
        with self._lock:
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def _head(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes | None
    ) -> bytes:
        lines = [f"{method} {self._prefix}{target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")

    def _exchange(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes | None, timeout: float
    ) -> tuple[_Connection, int, str, dict[bytes, bytes]]:
        """Send a request and read the status line and headers. A kept-alive connection the server closed
        meanwhile (nothing of the answer read) is replaced by a new one, once."""
        request = self._head(method, target, headers, body)
        for attempt in (1, 2):
            # The second attempt on a new connection: the other idle ones may be as stale (a restarted
            # API server closed them all).
            connection = self._take(timeout) if attempt == 1 else self._connect(timeout)
            try:
                connection.sock.sendall(request)
                status_line = connection.readline()
            except (ConnectionLost, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
                connection.close()
                if connection.used and attempt == 1:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            try:
                return (connection, *_status(status_line), _headers(connection))
            except BaseException:
                connection.close()
                raise
        raise ConnectionLost("unreachable")  # pragma: no cover

    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> Response:
        """One request (`target`: path and query) and its whole answer; "come back later" answers to
        requests that may be repeated are retried as `retry_after` says."""
        for attempt in range(RETRIES_AFTER + 1):
            connection, status, reason, fields = self._exchange(method, target, headers, body, timeout)
            try:
                data = b"".join(_body(connection, fields))
            except BaseException:
                connection.close()
                raise
            if fields.get(b"connection", b"").lower() == b"close":
                connection.close()
            else:
                self._give_back(connection)
            delay = retry_after(method, status, fields)
            if delay is None or attempt == RETRIES_AFTER:
                return Response(status, reason, data)
            time.sleep(delay)
        raise ConnectionLost("unreachable")  # pragma: no cover

    def stream(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        timeout: float,
        read_timeout: float,
    ) -> Streamed:
        """A request whose answer is read as it comes (a watch); its connection is not reused."""
        for attempt in range(RETRIES_AFTER + 1):
            connection, status, reason, fields = self._exchange(method, target, headers, None, timeout)
            delay = retry_after(method, status, fields)
            if delay is None or attempt == RETRIES_AFTER:
                connection.sock.settimeout(read_timeout)
                return Streamed(connection, status, reason, fields)
            connection.close()
            time.sleep(delay)
        raise ConnectionLost("unreachable")  # pragma: no cover


class Streamed:
    """An answer read as it arrives; `release_conn()` closes its connection."""

    def __init__(self, connection: _Connection, status: int, reason: str, fields: dict[bytes, bytes]) -> None:
        self._connection = connection
        self._fields = fields
        self.status = status
        self.reason = reason

    def stream(self, amt: Any = None, decode_content: bool = False) -> Iterator[bytes]:
        return _body(self._connection, self._fields)

    def read(self) -> bytes:
        return b"".join(self.stream())

    def release_conn(self) -> None:
        self._connection.close()


def retry_after(method: str, status: int, fields: dict[bytes, bytes]) -> float | None:
    """Seconds to wait before the same request again, as urllib3 did for the kubernetes client: an answer
    413, 429 or 503 with Retry-After (the API server's while its storage initializes, and its priority and
    fairness limits) to a request that may be repeated; None otherwise."""
    value = fields.get(b"retry-after", b"")
    if method not in REPEATABLE or status not in (413, 429, 503) or not value.strip().isdigit():
        return None
    return min(float(value), MAX_RETRY_AFTER_SECONDS)


def _status(line: bytes) -> tuple[int, str]:
    parts = line.rstrip(b"\r\n").split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ConnectionLost(f"not an HTTP answer: {line[:80]!r}")
    return int(parts[1]), (parts[2].decode("latin-1") if len(parts) > 2 else "")


def _headers(connection: _Connection) -> dict[bytes, bytes]:
    fields: dict[bytes, bytes] = {}
    while True:
        line = connection.readline()
        if line in (b"\r\n", b"\n"):
            return fields
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()


def _body(connection: _Connection, fields: dict[bytes, bytes]) -> Iterator[bytes]:
    """The answer's body, piece by piece: chunked, or Content-Length bytes."""
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        while True:
            size = int(connection.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while connection.readline() not in (b"\r\n", b"\n"):  # trailers
                    pass
                return
            yield connection.read(size)
            connection.readline()
    length = int(fields.get(b"content-length", b"0") or b"0")
    if length:
        yield connection.read(length)
