"""STS on the endpoint with the real clients (the AWS CLI and boto3, unmodified): caller identity with a
key and with an assumed role; AssumeRole from a key, from a profile's `role_arn` + `source_profile`;
AssumeRoleWithWebIdentity with a ServiceAccount token (TokenReview) and with an external issuer's token
(discovery + JWKS, the API server's own issuer standing in); boto3's web-identity environment reaching ECS;
RBAC of the assumed identity; tampered, unknown and expired tokens refused; tokens valid after a restart and
on a second replica; no token or secret in the log."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from ecs_operator.ecsapi import sessions
from ecs_operator.localcluster import cluster
from ecs_operator.subprocesses import ApiProcess

from tests.integration.api_helpers import REGION, AccessKey, create_key
from tests.integration.sts_helpers import aws, aws_env, aws_json, key_env, session_env
from tests.integration.waiting import wait_for

pytest_plugins = ["tests.integration.sts_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
ACCOUNT = "000000000000"


def assume(env: dict[str, str], role_arn: str, name: str = "tests") -> dict[str, Any]:
    answer = aws_json(env, "sts", "assume-role", "--role-arn", role_arn, "--role-session-name", name)
    credentials: dict[str, Any] = answer["Credentials"]
    return credentials


def code_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr.split("(", 1)[1].split(")", 1)[0] if "(" in result.stderr else result.stderr


@pytest.fixture
def bound_user(kubectl: Kubectl) -> Iterator[Callable[[str], str]]:
    """`bound_user(clusterrole)`: a fresh Kubernetes user bound cluster-wide to `clusterrole`."""
    made: list[str] = []

    def make(role: str) -> str:
        user = f"sts-user-{secrets.token_hex(3)}"
        kubectl("create", "clusterrolebinding", f"test-{user}", f"--clusterrole={role}", f"--user={user}")
        made.append(user)
        return user

    yield make
    for user in made:
        kubectl("delete", "clusterrolebinding", f"test-{user}", "--ignore-not-found", check=False)


def test_get_caller_identity_with_a_static_key(
    ecs_api: ApiProcess, admin_key: AccessKey, tmp_path: Path
) -> None:
    answer = aws_json(key_env(ecs_api.url, tmp_path, admin_key), "sts", "get-caller-identity")
    assert answer["Account"] == ACCOUNT
    assert answer["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{admin_key.user}"
    assert answer["UserId"].startswith("AIDA")


def test_assume_role_acts_as_the_roles_identity(
    ecs_api: ApiProcess,
    kubeconfig: str,
    admin_key: AccessKey,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    tmp_path: Path,
) -> None:
    role = create_role(bound_user("ecs-operator:cluster-admin"), "--trust-user", admin_key.user)
    credentials = assume(key_env(ecs_api.url, tmp_path, admin_key), role, "deploy-42")
    assert credentials["AccessKeyId"].startswith("ASIA")
    env = session_env(ecs_api.url, tmp_path, credentials)
    identity = aws_json(env, "sts", "get-caller-identity")
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/deploy-42"
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":deploy-42")
    assert "clusterArns" in aws_json(env, "ecs", "list-clusters")
    # A key whose user the trust policy does not name is refused.
    other = create_key(kubeconfig, f"stranger-{secrets.token_hex(3)}")
    refused = aws(key_env(ecs_api.url, tmp_path, other), "sts", "assume-role", "--role-arn", role,
                  "--role-session-name", "xx", check=False)  # fmt: skip
    assert code_of(refused) == "AccessDenied"


def test_a_profile_with_role_arn_and_source_profile(
    ecs_api: ApiProcess,
    admin_key: AccessKey,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    tmp_path: Path,
) -> None:
    role = create_role(bound_user("ecs-operator:cluster-admin"), "--trust-user", admin_key.user)
    (tmp_path / "credentials").write_text(
        f"[base]\naws_access_key_id = {admin_key.access_key_id}\n"
        f"aws_secret_access_key = {admin_key.secret_access_key}\n"
    )
    (tmp_path / "config").write_text(
        f"[profile deploy]\nrole_arn = {role}\nsource_profile = base\nrole_session_name = pipeline\n"
        f"region = {REGION}\n"
    )
    env = aws_env(ecs_api.url, tmp_path, AWS_PROFILE="deploy")
    identity = aws_json(env, "sts", "get-caller-identity")
    assert identity["Arn"].endswith(f":assumed-role/{role.rsplit('/', 1)[1]}/pipeline")
    assert "clusterArns" in aws_json(env, "ecs", "list-clusters")


def test_web_identity_with_a_service_account_token(
    ecs_api: ApiProcess,
    namespace: str,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    service_account: Callable[..., str],
    tmp_path: Path,
) -> None:
    role = create_role(bound_user("ecs-operator:cluster-admin"), "--trust-service-account", f"{namespace}/ci")
    env = aws_env(ecs_api.url, tmp_path)  # no key at all: the token is the credential
    answer = aws_json(
        env, "sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name", "ci",
        "--web-identity-token", service_account("ci"),
    )  # fmt: skip
    assert answer["SubjectFromWebIdentityToken"] == f"system:serviceaccount:{namespace}:ci"
    assert answer["Audience"] == "sts.amazonaws.com"
    identity = aws_json(
        session_env(ecs_api.url, tmp_path, answer["Credentials"]), "sts", "get-caller-identity"
    )
    assert identity["Arn"].endswith("/ci")
    # Another ServiceAccount, or the right one with another audience, is refused.
    for token, code in (
        (service_account("other"), "AccessDenied"),
        (service_account("ci", "api"), "InvalidIdentityToken"),
    ):
        refused = aws(env, "sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name",
                      "ci", "--web-identity-token", token, check=False)  # fmt: skip
        assert code_of(refused) == code


def test_boto3_web_identity_environment_reaches_ecs(
    ecs_api: ApiProcess,
    namespace: str,
    api_cluster_name: str,
    kubectl: Kubectl,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    service_account: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EKS's IRSA variables, as a Pod with a projected token has them; boto3's own credential chain."""
    role = create_role(
        bound_user("ecs-operator:cluster-admin"), "--trust-service-account", f"{namespace}/deployer"
    )
    token_file = tmp_path / "token"
    token_file.write_text(service_account("deployer"))
    for name, value in aws_env(
        ecs_api.url, tmp_path, AWS_ROLE_ARN=role, AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file)
    ).items():
        monkeypatch.setenv(name, value)
    for name in [n for n in os.environ if n.startswith("AWS_") and n not in ("AWS_ROLE_ARN",)]:
        if name not in aws_env(ecs_api.url, tmp_path) and name != "AWS_WEB_IDENTITY_TOKEN_FILE":
            monkeypatch.delenv(name)
    session = boto3.Session()
    assert session.get_credentials().method == "assume-role-with-web-identity"
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=api_cluster_name)
    wait_for(
        lambda: kubectl(
            "get", "ecscluster", api_cluster_name, "--ignore-not-found", "-o", "name"
        ).stdout.strip(),
        message=f"EcsCluster {api_cluster_name}",
    )
    arn = session.client("sts").get_caller_identity()["Arn"]
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/")


def test_a_read_only_role_is_refused_a_write(
    ecs_api: ApiProcess,
    aws_factory: Any,
    admin_key: AccessKey,
    api_cluster_name: str,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    tmp_path: Path,
) -> None:
    admin = aws_factory(admin_key)
    admin("create-cluster", "--cluster-name", api_cluster_name)
    admin("register-task-definition", "--family", "ro", "--container-definitions",
          '[{"name": "app", "image": "nginx:1.27", "memory": 64}]')  # fmt: skip
    role = create_role(bound_user("ecs-operator:view"), "--trust-user", admin_key.user)
    env = session_env(ecs_api.url, tmp_path, assume(key_env(ecs_api.url, tmp_path, admin_key), role))
    assert aws_json(env, "ecs", "list-services", "--cluster", api_cluster_name)["serviceArns"] == []
    refused = aws(env, "ecs", "create-service", "--cluster", api_cluster_name, "--service-name", "web",
                  "--task-definition", "ro", "--desired-count", "0", check=False)  # fmt: skip
    assert code_of(refused) == "AccessDeniedException"


def sealing_key(kubectl: Kubectl) -> tuple[str, bytes]:
    secret = json.loads(
        kubectl("get", "secret", sessions.SEALING_SECRET, "-n", "ecs-operator-system", "-o", "json").stdout
    )
    name = max(n for n in secret["data"] if n.startswith(sessions.KEY_PREFIX))
    return name, base64.b64decode(secret["data"][name])


def test_tampered_unknown_and_expired_tokens_are_refused(
    ecs_api: ApiProcess,
    admin_key: AccessKey,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    role = create_role(bound_user("ecs-operator:cluster-admin"), "--trust-user", admin_key.user)
    good = assume(key_env(ecs_api.url, tmp_path, admin_key), role)
    token = good["SessionToken"]
    claims = token.split(".")[1]
    flipped = claims[:-3] + ("A" if claims[-3] != "A" else "B") + claims[-2:]
    tampered = {**good, "SessionToken": token.replace(claims, flipped)}
    unknown_key = sessions.seal("key-19700101000000", secrets.token_bytes(32), sessions.open_token(
        sealing_key(kubectl)[1], token, time.time()))[0]  # fmt: skip
    unknown = {**good, "SessionToken": unknown_key}
    name, key = sealing_key(kubectl)
    opened = sessions.open_token(key, token, time.time())
    expired_session = sessions.Session(**{**opened.__dict__, "issued": 1, "expires": int(time.time()) - 5})
    expired_token, expired_secret = sessions.seal(name, key, expired_session)
    expired = {**good, "SessionToken": expired_token, "SecretAccessKey": expired_secret}
    for credentials, ecs_code, sts_code in (
        (tampered, "UnrecognizedClientException", "InvalidClientTokenId"),
        (unknown, "UnrecognizedClientException", "InvalidClientTokenId"),
        (expired, "ExpiredTokenException", "ExpiredToken"),
    ):
        env = session_env(ecs_api.url, tmp_path, credentials)
        assert code_of(aws(env, "ecs", "list-clusters", check=False)) == ecs_code
        assert code_of(aws(env, "sts", "get-caller-identity", check=False)) == sts_code
    # The good one still works, and neither it nor its secret is in the log.
    assert aws_json(session_env(ecs_api.url, tmp_path, good), "sts", "get-caller-identity")
    log = ecs_api.log_text()
    for secret in (token, good["SecretAccessKey"], admin_key.secret_access_key, expired_secret):
        assert secret not in log


def test_tokens_survive_a_restart_and_work_on_a_second_replica(
    ecs_api: ApiProcess,
    api_kubeconfig: Path,
    admin_key: AccessKey,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    tmp_path: Path,
) -> None:
    role = create_role(bound_user("ecs-operator:cluster-admin"), "--trust-user", admin_key.user)
    credentials = assume(key_env(ecs_api.url, tmp_path, admin_key), role)
    second = ApiProcess(str(api_kubeconfig), tmp_path / "second.log", keys_namespace="ecs-operator-system")
    second.start()
    try:
        assert aws_json(session_env(second.url, tmp_path, credentials), "ecs", "list-clusters") is not None
    finally:
        second.stop()
    ecs_api.stop()
    ecs_api.start()
    identity = aws_json(session_env(ecs_api.url, tmp_path, credentials), "sts", "get-caller-identity")
    assert identity["Arn"].endswith("/tests")


@pytest.fixture
def local_issuer(kubeconfig: str, kubectl: Kubectl) -> Iterator[dict[str, str]]:
    """The API server's own ServiceAccount issuer as an external OIDC issuer: its discovery document and
    keys readable anonymously (as public issuers serve them), its URL and CA."""
    binding = f"test-oidc-discovery-{secrets.token_hex(3)}"
    kubectl("create", "clusterrolebinding", binding, "--clusterrole=system:service-account-issuer-discovery",
            "--group=system:unauthenticated")  # fmt: skip
    config = yaml.safe_load(Path(kubeconfig).read_text())
    server = config["clusters"][0]["cluster"]["server"]
    issuer = json.loads(kubectl("get", "--raw", "/.well-known/openid-configuration").stdout)["issuer"]
    yield {
        "issuer": issuer,
        "discovery": f"{server}/.well-known/openid-configuration",
        "ca": cluster.layout().pki.ca_cert.read_text(),
    }
    kubectl("delete", "clusterrolebinding", binding, "--ignore-not-found", check=False)


def test_an_external_issuer_through_discovery_and_jwks(
    ecs_api: ApiProcess,
    namespace: str,
    local_issuer: dict[str, str],
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    service_account: Callable[..., str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    provider = f"test-issuer-{secrets.token_hex(3)}"
    audience = f"ci.{provider}.example"
    manifest = {
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "IamOidcProvider",
        "metadata": {"name": provider},
        "spec": {
            "url": local_issuer["issuer"],
            "clientIDList": [audience],
            "discoveryURL": local_issuer["discovery"],
            "certificateAuthority": local_issuer["ca"],
        },
    }
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(manifest))
    try:
        subjects = f"system:serviceaccount:{namespace}:*"
        role = create_role(bound_user("ecs-operator:view"), "--trust-oidc", local_issuer["issuer"],
                           "--subject", subjects, "--audience", audience)  # fmt: skip
        env = aws_env(ecs_api.url, tmp_path)
        # The cluster's TokenReview would refuse this audience: only the keys can vouch for it.
        answer = aws_json(
            env, "sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name", "gh",
            "--web-identity-token", service_account("runner", audience),
        )  # fmt: skip
        assert answer["SubjectFromWebIdentityToken"] == f"system:serviceaccount:{namespace}:runner"
        assert answer["Provider"] == local_issuer["issuer"].removeprefix("https://")
        other_audience = service_account("runner", "sts.amazonaws.com")
        wrong = aws(env, "sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name",
                    "gh", "--web-identity-token", other_audience, check=False)  # fmt: skip
        assert code_of(wrong) == "InvalidIdentityToken"
    finally:
        kubectl("delete", "iamoidcprovider", provider, "--ignore-not-found", check=False)


def test_sessions_of_a_deleted_role_are_cut_off(
    ecs_api: ApiProcess,
    admin_key: AccessKey,
    create_role: Callable[..., str],
    bound_user: Callable[[str], str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    role = create_role(bound_user("ecs-operator:cluster-admin"), "--trust-user", admin_key.user)
    env = session_env(ecs_api.url, tmp_path, assume(key_env(ecs_api.url, tmp_path, admin_key), role))
    kubectl("delete", "iamrole", role.rsplit("/", 1)[1])

    def refused() -> bool:
        return "AccessDeniedException" in aws(env, "ecs", "list-clusters", check=False).stderr

    wait_for(refused, timeout=30, interval=1, message="the deleted role's session refused")
    with pytest.raises(ClientError):
        boto3.client("sts", endpoint_url=ecs_api.url, region_name=REGION, aws_access_key_id="ASIAX",
                     aws_secret_access_key="x", aws_session_token="bogus").get_caller_identity()  # fmt: skip
