"""STS over the Query protocol: GetCallerIdentity, GetSessionToken, AssumeRole, AssumeRoleWithWebIdentity;
the temporary credentials they answer act as the key's user or the role's Kubernetes identity."""

from __future__ import annotations

import datetime
from typing import Any

import jwt
from ecs_operator.ecsapi import roles

from tests.unit.ecsapi.operations.harness import Caller, refused
from tests.unit.ecsapi.operations.world import World

ACCOUNT = "000000000000"
ISSUER = "https://kubernetes.default.svc.cluster.local"
SUBJECT = "system:serviceaccount:ci:deployer"


def role(world: World, name: str, trust: list[dict[str, Any]], user: str = "deployer") -> str:
    """An IamRole acting as `user` (bound to the shipped cluster-admin role), trusting `trust`."""
    world.api.put(
        {
            "apiVersion": "ecs.operator.dev/v1alpha1",
            "kind": "IamRole",
            "metadata": {"name": name},
            "spec": {
                "kubernetes": {"user": user},
                "assumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": trust},
            },
        }
    )
    world.caller(user, cluster_roles=("ecs-operator:cluster-admin",))
    return world.partition.iam_role(name)


def trusting(
    principal: dict[str, str], action: str = "sts:AssumeRole", **condition: Any
) -> list[dict[str, Any]]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return [statement]


def test_get_caller_identity_answers_the_keys_user(world: World) -> None:
    answer = world.admin.sts.get_caller_identity()
    assert (answer["Account"], answer["Arn"]) == (ACCOUNT, "arn:aws:iam::000000000000:user/ecs-admin")
    assert answer["UserId"].startswith("AIDA")
    with refused("MissingAuthenticationToken"):
        world.endpoint.call("sts", "GetCallerIdentity", {}, None)


def test_a_session_token_acts_as_its_keys_user_and_makes_no_other(world: World) -> None:
    credentials = world.admin.sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    session = world.admin.of_session(credentials)
    assert session.sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:user/ecs-admin"
    session.ecs.create_cluster(clusterName="by-session")
    assert [w.user for w in world.api.writes_of("EcsCluster")] == ["ecs-admin"]
    with refused("AccessDenied", "session credentials"):
        session.sts.get_session_token()


def test_an_expired_session_is_refused(world: World) -> None:
    credentials = world.admin.sts.get_session_token(DurationSeconds=900)["Credentials"]
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    world.endpoint.server.now = lambda: later
    with refused("ExpiredTokenException", "expired"):
        world.admin.of_session(credentials).ecs.list_clusters()


def test_assume_role_acts_as_the_roles_kubernetes_identity(world: World) -> None:
    arn = role(world, "deployer", trusting({"AWS": "arn:aws:iam::000000000000:user/ecs-admin"}))
    answer = world.admin.sts.assume_role(RoleArn=arn, RoleSessionName="ci-run")
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/deployer/ci-run"
    session = world.admin.of_session(answer["Credentials"])
    assert session.sts.get_caller_identity()["Arn"] == answer["AssumedRoleUser"]["Arn"]
    session.ecs.create_cluster(clusterName="by-role")
    assert [w.user for w in world.api.writes_of("EcsCluster")] == ["deployer"]


def test_assume_role_is_denied_unless_the_trust_policy_allows_the_caller(world: World) -> None:
    arn = role(world, "locked", trusting({"AWS": "arn:aws:iam::000000000000:user/someone-else"}))
    with refused("AccessDenied", "not authorized to perform: sts:AssumeRole"):
        world.admin.sts.assume_role(RoleArn=arn, RoleSessionName="session")
    with refused("AccessDenied"):
        world.admin.sts.assume_role(RoleArn=world.partition.iam_role("missing"), RoleSessionName="session")


def test_assume_role_refuses_what_it_cannot_honour(world: World) -> None:
    arn = role(world, "deployer", trusting({"AWS": "arn:aws:iam::000000000000:user/ecs-admin"}))
    with refused("ValidationError", "Policy"):
        world.admin.sts.assume_role(
            RoleArn=arn, RoleSessionName="session", Policy='{"Version": "2012-10-17"}'
        )
    with refused("ValidationError", "MaxSessionDuration"):
        world.admin.sts.assume_role(RoleArn=arn, RoleSessionName="session", DurationSeconds=7200)


def web_identity_token(subject: str = SUBJECT) -> str:
    now = datetime.datetime.now(datetime.UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": ["sts.amazonaws.com"],
        "exp": now + datetime.timedelta(hours=1),
    }
    return jwt.encode(claims, "a key the cluster holds, not the endpoint", algorithm="HS256")


def test_assume_role_with_web_identity_takes_a_token_the_cluster_vouches_for_unsigned(world: World) -> None:
    provider = roles.provider_name(ISSUER)
    arn = role(
        world,
        "from-ci",
        trusting(
            {"Federated": world.partition.oidc_provider(roles.provider_name(ISSUER))},
            "sts:AssumeRoleWithWebIdentity",
            StringEquals={f"{provider}:sub": SUBJECT},
        ),
    )
    token = web_identity_token()
    world.api.tokens[token] = {
        "authenticated": True,
        "user": {"username": SUBJECT},
        "audiences": ["sts.amazonaws.com"],
    }
    answer = world.endpoint.call(
        "sts",
        "AssumeRoleWithWebIdentity",
        {"RoleArn": arn, "RoleSessionName": "job", "WebIdentityToken": token},
        None,
    )
    assert (answer["SubjectFromWebIdentityToken"], answer["Provider"]) == (SUBJECT, provider)
    session = Caller(world.endpoint, "", "").of_session(answer["Credentials"])
    assert session.sts.get_caller_identity()["Arn"] == "arn:aws:sts::000000000000:assumed-role/from-ci/job"
    [review] = [w for w in world.api.writes if w.kind == "TokenReview"]
    assert review.user == "system:serviceaccount:ecs-operator-system:ecs-api"


def test_assume_role_with_web_identity_refuses_tokens_nobody_vouches_for(world: World) -> None:
    arn = role(
        world,
        "from-ci",
        trusting(
            {"Federated": world.partition.oidc_provider(roles.provider_name(ISSUER))},
            "sts:AssumeRoleWithWebIdentity",
        ),
    )
    params = {"RoleArn": arn, "RoleSessionName": "job"}
    with refused("InvalidIdentityToken", "not a readable JWT"):
        world.endpoint.call(
            "sts", "AssumeRoleWithWebIdentity", {**params, "WebIdentityToken": "x" * 20}, None
        )
    with refused("InvalidIdentityToken", "does not accept the token"):
        world.endpoint.call(
            "sts", "AssumeRoleWithWebIdentity", {**params, "WebIdentityToken": web_identity_token()}, None
        )
