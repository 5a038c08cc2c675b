"""A watch's stream is cut into events at newlines, wherever the HTTP chunks happen to end."""

from collections.abc import Iterator
from typing import Any

from ecs_operator.kube import Kube, Transport


class StreamedResponse:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.released = False

    def stream(self, amt: Any = None, decode_content: bool = False) -> Iterator[bytes]:
        yield from self.chunks

    def release_conn(self) -> None:
        self.released = True


class Answering(Transport):
    def __init__(self, response: StreamedResponse) -> None:
        self.response = response

    def send(self, *args: Any, **kwargs: Any) -> StreamedResponse:
        return self.response


def test_events_split_across_chunks_and_several_in_one_chunk_are_all_read() -> None:
    body = (
        b'{"type":"ADDED","object":{"metadata":{"name":"caf\xc3\xa9","resourceVersion":"1"}}}\n'
        b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"2"}}}\n'
        b"\n"
        b'{"type":"DELETED","object":{"metadata":{"name":"b","resourceVersion":"3"}}}'
    )
    response = StreamedResponse([body[:7], body[7:40], body[40:41], body[41:150], body[150:]])
    events = list(Kube(Answering(response)).watch("Pod", "", "0", 10))
    assert [(e["type"], e["object"]["metadata"]["resourceVersion"]) for e in events] == [
        ("ADDED", "1"),
        ("BOOKMARK", "2"),
        ("DELETED", "3"),
    ]
    assert events[0]["object"]["metadata"]["name"] == "café"
    assert response.released
