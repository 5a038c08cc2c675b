"""Fetch the console's vendored JavaScript from the npm registry: `python -m ecs_operator.console.vendor`.

Each file is pinned by version (in its file name, so a browser never runs a stale cached copy) and by the
SHA-256 of the file itself; the registry's tarball is checked against its published sha512 integrity.
htmx 2.x with htmx-ext-sse 2.x: htmx 4 renames the SSE attributes, so the major stays pinned.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Vendored:
    package: str
    version: str
    member: str  # the file inside the package tarball
    target: str  # the file name under static/
    sha256: str


FILES = (
    Vendored(
        "htmx.org",
        "2.0.11",
        "package/dist/htmx.min.js",
        "htmx-2.0.11.min.js",
        "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
    ),
    Vendored(
        "htmx-ext-sse",
        "2.2.4",
        "package/dist/sse.min.js",
        "htmx-ext-sse-2.2.4.min.js",
        "98a46496de0c3605fbffdce9167ba427bdd9553184f83f149c261891a92c0136",
    ),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(item: Vendored) -> bytes:
    with urllib.request.urlopen(f"{REGISTRY}/{item.package}/{item.version}", timeout=60) as response:
        dist = json.load(response)["dist"]
    with urllib.request.urlopen(dist["tarball"], timeout=60) as response:
        tarball = response.read()
    algorithm, _, expected = str(dist["integrity"]).partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(tarball).digest()).decode() != expected:
        raise SystemExit(f"{item.package}@{item.version}: the tarball does not match its integrity")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        member = archive.extractfile(item.member)
        if member is None:
            raise SystemExit(f"{item.package}@{item.version} has no {item.member}")
        data = member.read()
    if sha256(data) != item.sha256:
        raise SystemExit(f"{item.target}: sha256 {sha256(data)} is not the pinned {item.sha256}")
    return data


def main() -> int:
    for item in FILES:
        path = STATIC / item.target
        path.write_bytes(fetch(item))
        print(f"{path.relative_to(STATIC.parent)}: {item.package}@{item.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
