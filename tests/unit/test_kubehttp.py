"""The small HTTP/1.1 client against a scripted server on loopback: bodies by length and by chunks, kept-
alive connections reused, a connection the server closed while idle replaced, and streamed answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from ecs_operator.kubehttp import ConnectionLost, Http

Answer = Callable[[bytes], bytes | None]  # request head -> raw answer (None: close without answering)


@contextmanager
def server(answer: Answer) -> Iterator[tuple[Http, list[int]]]:
    """A loopback server answering each request on its connection with `answer(request)`; yields a client
    and the number of requests seen per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    per_connection: list[int] = []

    def serve(connection: socket.socket) -> None:
        index = len(per_connection)
        per_connection.append(0)
        reader = connection.makefile("rb")
        with connection, reader:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.startswith(b"Content-Length")
                    ),
                    0,
                )
                request = head + reader.read(length)
                per_connection[index] += 1
                raw = answer(request)
                if raw is None:
                    return
                connection.sendall(raw)
                if b"Connection: close" in raw:
                    return

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    configuration = SimpleNamespace(host=f"http://127.0.0.1:{port}")
    http = Http(configuration)
    try:
        yield http, per_connection
    finally:
        http.close()
        listener.close()


def ok(body: bytes, extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def chunked(*parts: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body


def test_bodies_by_length_and_by_chunks_on_one_kept_alive_connection() -> None:
    answers = iter([ok(b'{"a":1}'), chunked(b'{"b":', b"2}"), ok(b"")])
    with server(lambda _: next(answers)) as (http, seen):
        assert http.request("GET", "/x?y=1", [], None, 5).data == b'{"a":1}'
        assert http.request("PATCH", "/x", [("Content-Type", "json")], b"{}", 5).data == b'{"b":2}'
        answer = http.request("DELETE", "/x", [], None, 5)
        assert (answer.status, answer.data) == (200, b"")
    assert seen == [3], "one connection carried the three requests"


def test_the_request_carries_its_headers_and_body() -> None:
    requests: list[bytes] = []

    def record(request: bytes) -> bytes:
        requests.append(request)
        return ok(b"{}")

    with server(record) as (http, _):
        http.request(
            "POST", "/api/v1/x", [("Impersonate-Group", "a"), ("Impersonate-Group", "b")], b'{"k":1}', 5
        )
    head, _, body = requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /api/v1/x HTTP/1.1"
    assert lines.count(b"Impersonate-Group: a") == lines.count(b"Impersonate-Group: b") == 1
    assert b"Content-Length: 7" in lines and body == b'{"k":1}'


def test_a_kept_alive_connection_the_server_closed_is_replaced_once() -> None:
    calls = [0]

    def flaky(_: bytes) -> bytes | None:
        calls[0] += 1
        return None if calls[0] == 2 else ok(b"fine")  # the second request finds its connection closed

    with server(flaky) as (http, seen):
        assert http.request("GET", "/", [], None, 5).data == b"fine"
        assert http.request("GET", "/", [], None, 5).data == b"fine"
    assert seen == [2, 1]


def test_a_new_connection_that_fails_is_an_error_not_a_retry() -> None:
    with server(lambda _: None) as (http, seen), pytest.raises(ConnectionLost):
        http.request("POST", "/", [], b"{}", 5)
    assert seen == [1]


def test_an_error_answer_and_connection_close_are_honoured() -> None:
    answers = iter([ok(b'{"message":"no"}', "Connection: close\r\n").replace(b"200 OK", b"404 Not Found")])
    with server(lambda _: next(answers, ok(b"again"))) as (http, seen):
        answer = http.request("GET", "/", [], None, 5)
        assert (answer.status, answer.reason, answer.data) == (404, "Not Found", b'{"message":"no"}')
        assert http.request("GET", "/", [], None, 5).data == b"again"
    assert seen == [1, 1], "the closed connection was not reused"


def test_a_streamed_answer_is_read_as_it_comes_and_released() -> None:
    with server(lambda _: chunked(b'{"type":"ADDED"}\n', b'{"type":', b'"DELETED"}\n')) as (http, _):
        streamed = http.stream("GET", "/watch", [], 5, 5)
        assert streamed.status == 200
        assert b"".join(streamed.stream()).split(b"\n")[:2] == [b'{"type":"ADDED"}', b'{"type":"DELETED"}']
        streamed.release_conn()


def test_after_a_stale_connection_the_retry_takes_a_new_one_not_another_idle_one() -> None:
    calls = [0]

    def closes_idle(_: bytes) -> bytes | None:
        calls[0] += 1
        return None if calls[0] == 3 else ok(b"fine")  # the third finds its kept-alive connection closed

    with server(closes_idle) as (http, seen):
        first, second = (http._take(5) for _ in range(2))  # two connections, both kept alive after use
        for connection in (first, second):
            connection.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert connection.readline().startswith(b"HTTP/1.1 200")
            while connection.readline() != b"\r\n":
                pass
            connection.read(4)
            http._give_back(connection)
        assert http.request("GET", "/", [], None, 5).data == b"fine"
    assert sorted(seen) == [1, 1, 2], "the retry went to a third connection, not to the other idle one"


def test_impersonating_copies_of_an_api_client_share_its_connections() -> None:
    from ecs_operator.kube import http_of, impersonating
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = "http://127.0.0.1:1"
    base = client.ApiClient(configuration)
    copies = [impersonating(base, "alice", ("team",)), impersonating(base, "bob")]
    pools = {id(http_of(c)) for c in [base, *copies]}
    assert len(pools) == 1
    headers = (("Impersonate-User", "alice"), ("Impersonate-Group", "team"))
    assert copies[0].rest_client.impersonation == headers


def test_come_back_later_is_retried_for_a_repeatable_request_only() -> None:
    later = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 2\r\n\r\n{}"
    answers = iter([later, ok(b"now"), later])
    with server(lambda _: next(answers)) as (http, seen):
        assert http.request("GET", "/", [], None, 5).data == b"now"
        assert http.request("PATCH", "/", [], b"{}", 5).status == 429, "a PATCH is not sent twice"
    assert seen == [3]
