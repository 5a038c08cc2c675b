"""STS's pure parts: IAM trust policies, sealed session tokens, the Query protocol read back by botocore's
own parser, and the generated models being current."""

from __future__ import annotations

import datetime
import secrets
import urllib.parse

import pytest
from ecs_operator.awsmodel import sts as sts_model
from ecs_operator.ecsapi import query_protocol, sessions, trust
from ecs_operator.ecsapi.autoscaling import hpa
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.ecsapi.sts import protocol
from ecs_operator.identifiers import Partition

ACCOUNT = "000000000000"
PROVIDER = "kubernetes.default.svc.cluster.local"


def web(sub: str, aud: str | tuple[str, ...] = "sts.amazonaws.com", issuer: str = PROVIDER) -> trust.Request:
    return trust.Request(
        trust.ASSUME_ROLE_WITH_WEB_IDENTITY,
        "Federated",
        (f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}",),
        {f"{issuer}:sub": sub, f"{issuer}:aud": aud},
    )


def test_a_service_account_statement_allows_that_account_only() -> None:
    document = trust.document(
        [
            trust.statement_for_web_identity(
                PROVIDER, Partition(account=ACCOUNT), ["system:serviceaccount:ci:*"], ["sts.amazonaws.com"]
            )
        ]
    )
    assert trust.allows(document, web("system:serviceaccount:ci:deployer"), ACCOUNT)
    assert not trust.allows(document, web("system:serviceaccount:prod:deployer"), ACCOUNT)
    assert not trust.allows(document, web("system:serviceaccount:ci:deployer", "other"), ACCOUNT)
    assert trust.allows(document, web("system:serviceaccount:ci:x", ("other", "sts.amazonaws.com")), ACCOUNT)
    assert not trust.allows(document, web("system:serviceaccount:ci:x", issuer="evil.example"), ACCOUNT)


def test_principals_root_and_deny() -> None:
    user = trust.Request(trust.ASSUME_ROLE, "AWS", (f"arn:aws:iam::{ACCOUNT}:user/alice",), {})
    by_user = trust.document([trust.statement_for_principals([f"arn:aws:iam::{ACCOUNT}:user/alice"])])
    assert trust.allows(by_user, user, ACCOUNT)
    assert not trust.allows(
        by_user, trust.Request(trust.ASSUME_ROLE, "AWS", ("arn:aws:iam::1:user/bob",), {}), ACCOUNT
    )
    root = trust.document([{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}])
    assert trust.allows(root, user, ACCOUNT)
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sts:*",
        "Condition": {"StringNotEquals": {"sts:ExternalId": "s3cret"}},
    }
    with_deny = trust.document([*root["Statement"], deny])
    assert not trust.allows(with_deny, user, ACCOUNT)
    external = trust.Request(trust.ASSUME_ROLE, "AWS", user.principals, {"sts:ExternalId": "s3cret"})
    assert trust.allows(with_deny, external, ACCOUNT)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"Statement": []}, "Statement"),
        ({"Statement": [{"Effect": "Allow", "NotPrincipal": {}, "Action": "x"}]}, "NotPrincipal"),
        ({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "x"}]}, "Effect"),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "x",
                        "Condition": {"DateLessThan": {"a": "b"}},
                    }
                ]
            },
            "DateLessThan",
        ),
    ],
)
def test_what_cannot_be_read_is_refused_by_name(document: dict[str, object], named: str) -> None:
    with pytest.raises(trust.PolicyError, match=named):
        trust.check(document)


def test_a_sealed_session_opens_only_with_its_key_and_until_it_expires() -> None:
    key = secrets.token_bytes(32)
    session = sessions.Session("ASIAAAAAAAAAAAAAAAAA", sessions.ROLE, "arn", "AROA:x", "role", 100, 200)
    token, secret = sessions.seal("key-1", key, session)
    assert sessions.key_id_of(token) == "key-1"
    assert sessions.open_token(key, token, 150) == session
    assert secret == sessions.secret_for(key, token) and secret not in token
    with pytest.raises(sessions.ExpiredToken):
        sessions.open_token(key, token, 200)
    with pytest.raises(sessions.InvalidToken):
        sessions.open_token(secrets.token_bytes(32), token, 150)
    body, claims, mac = token.split(".")
    with pytest.raises(sessions.InvalidToken):
        sessions.open_token(key, f"{body}.{claims[:-1]}A.{mac}", 150)


def test_query_requests_and_answers_as_botocore_reads_them() -> None:
    pytest.importorskip("botocore")
    from botocore.loaders import Loader
    from botocore.model import ServiceModel
    from botocore.parsers import create_parser
    from botocore.serialize import create_serializer

    model = ServiceModel(Loader().load_service_model("sts", "service-2"))
    sent = create_serializer("query").serialize_to_request(
        {"RoleArn": "arn:aws:iam::0:role/r", "RoleSessionName": "s1", "DurationSeconds": 900,
         "Tags": [{"Key": "k", "Value": "v"}]},
        model.operation_model("AssumeRole"),
    )  # fmt: skip
    encoded = urllib.parse.urlencode(sent["body"]).encode()
    params = query_protocol.form_parameters(encoded, "")
    request = protocol.parse(protocol.operation(params), params)
    assert request == {
        "RoleArn": "arn:aws:iam::0:role/r",
        "RoleSessionName": "s1",
        "DurationSeconds": 900,
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    expiration = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.UTC)
    result = {
        "Credentials": {
            "AccessKeyId": "ASIA1",
            "SecretAccessKey": "s<&>",
            "SessionToken": "t",
            "Expiration": expiration,
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:s1", "Arn": "arn"},
        "PackedPolicySize": 0,
    }
    body = protocol.response("AssumeRole", result, "rid")
    parsed = create_parser("query").parse(
        {"status_code": 200, "headers": {}, "body": body}, model.operation_model("AssumeRole").output_shape
    )
    assert parsed["Credentials"]["SecretAccessKey"] == "s<&>"
    assert parsed["Credentials"]["Expiration"] == expiration
    assert parsed["AssumedRoleUser"]["AssumedRoleId"] == "AROA:s1"


def test_an_unknown_parameter_or_a_bad_name_is_refused_by_name() -> None:
    params = {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "a b"}
    with pytest.raises(InvalidParameterException, match="RoleSessionName"):
        protocol.parse("AssumeRole", params)
    with pytest.raises(InvalidParameterException, match="Bogus"):
        protocol.parse("GetCallerIdentity", {"Action": "GetCallerIdentity", "Bogus": "1"})


def test_the_sts_model_lists_the_operations_served() -> None:
    assert sts_model.OPERATIONS == tuple(protocol.OPERATIONS)


def test_a_target_and_policies_make_the_hpa() -> None:
    target = {"MinCapacity": 0, "MaxCapacity": 5, "SuspendedState": {"DynamicScalingOutSuspended": True}}
    policy = {
        "PolicyName": "m",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 70.4,
            "PredefinedMetricSpecification": {"PredefinedMetricType": hpa.MEMORY},
            "ScaleInCooldown": 7200,
            "DisableScaleIn": True,
        },
    }
    made = hpa.desired("ns", "web", "c", "web", target, [policy])
    spec = made["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 5)  # an HPA cannot go below 1
    assert spec["metrics"][0]["resource"] == {
        "name": "memory",
        "target": {"type": "Utilization", "averageUtilization": 70},
    }
    assert spec["behavior"]["scaleUp"]["selectPolicy"] == "Disabled"
    assert spec["behavior"]["scaleDown"]["selectPolicy"] == "Disabled"
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == hpa.MAX_WINDOW
    assert hpa.target_of(made)["MinCapacity"] == 0
    assert hpa.policies_of(made) == [policy]
    assert hpa.parse_resource_id("service/c/web") == ("c", "web")
    assert hpa.parse_resource_id("table/x") is None
