"""Certificates for the local control plane, made with the `openssl` command line.

Like kwokctl, one CA signs one admin certificate that serves the API (loopback names and the in-cluster
`kubernetes` Service names) and authenticates every client as system:masters; its key also signs
ServiceAccount tokens. This is a throwaway development cluster bound to 127.0.0.1.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from ecs_operator.localcluster.errors import LocalClusterError

CONTEXT_NAME = "ecs-operator-local"
SERVICE_IP = "10.96.0.1"
SERVER_NAMES = (
    "IP:127.0.0.1",
    f"IP:{SERVICE_IP}",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
    # metrics-server serves with this certificate too; the API server checks that name (resourcemetrics.py).
    "DNS:metrics-server.kube-system.svc",
)
ADMIN_EXTENSIONS = "\n".join(
    (
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth,clientAuth",
        f"subjectAltName={','.join(SERVER_NAMES)}",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
    )
)
VALID_DAYS = "3650"


@dataclass(frozen=True)
class Pki:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def admin_cert(self) -> Path:
        return self.directory / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.directory / "admin.key"

    def complete(self) -> bool:
        return all(path.is_file() for path in (self.ca_cert, self.ca_key, self.admin_cert, self.admin_key))


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise LocalClusterError(
            "`openssl` was not found on PATH; it makes the local cluster's certificates "
            "(install it, e.g. `apt-get install openssl`)"
        )
    result = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalClusterError(f"`openssl {' '.join(args)}` failed: {result.stderr.strip()}")


def create_pki(directory: Path) -> Pki:
    pki = Pki(directory)
    if pki.complete():
        return pki
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", VALID_DAYS,
        "-keyout", pki.ca_key.name, "-out", pki.ca_cert.name, "-subj", "/CN=ecs-operator-local-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.admin_key.name, "-out", "admin.csr",
        "-subj", "/O=system:masters/CN=ecs-operator-admin",
        cwd=directory,
    )  # fmt: skip
    (directory / "admin.ext").write_text(ADMIN_EXTENSIONS + "\n", encoding="utf-8")
    _openssl(
        "x509", "-req", "-in", "admin.csr", "-CA", pki.ca_cert.name, "-CAkey", pki.ca_key.name,
        "-CAcreateserial", "-days", VALID_DAYS, "-extfile", "admin.ext", "-out", pki.admin_cert.name,
        cwd=directory,
    )  # fmt: skip
    for key in (pki.ca_key, pki.admin_key):
        key.chmod(0o600)
    return pki


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def issue_client_certificate(pki: Pki, directory: Path, name: str, subject: str) -> tuple[Path, Path]:
    """A client certificate signed by the cluster's CA, e.g. `/O=system:nodes/CN=system:node:<node>`."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.name, "-out", f"{name}.csr",
             "-subj", subject, cwd=directory)  # fmt: skip
    (directory / f"{name}.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\n",
        encoding="utf-8",
    )
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", str(pki.ca_cert), "-CAkey", str(pki.ca_key),
        "-CAcreateserial", "-CAserial", f"{name}.srl", "-days", VALID_DAYS, "-extfile", f"{name}.ext",
        "-out", cert.name,
        cwd=directory,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


def render_kubeconfig(
    server: str,
    pki: Pki,
    client: tuple[Path, Path] | None = None,
    tls_server_name: str | None = None,
) -> str:
    """A kubeconfig for `server`, authenticated by `client` (certificate, key), by default the admin's."""
    cert, key = client or (pki.admin_cert, pki.admin_key)
    cluster: dict[str, str] = {"server": server, "certificate-authority-data": _b64(pki.ca_cert)}
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT_NAME, "cluster": cluster}],
        "users": [
            {
                "name": CONTEXT_NAME,
                "user": {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)},
            }
        ],
        "contexts": [{"name": CONTEXT_NAME, "context": {"cluster": CONTEXT_NAME, "user": CONTEXT_NAME}}],
        "current-context": CONTEXT_NAME,
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(
    path: Path,
    server: str,
    pki: Pki,
    client: tuple[Path, Path] | None = None,
    tls_server_name: str | None = None,
) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(render_kubeconfig(server, pki, client, tls_server_name), encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)
