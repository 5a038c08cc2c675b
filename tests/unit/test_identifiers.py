"""Every identifier ECS and IAM show, derived and read in one place: ARNs in their long and short forms,
references as requests give them, task and deployment ids, the principal a caller stands for."""

from __future__ import annotations

import pytest
from ecs_operator import identifiers, labels
from ecs_operator.identifiers import Partition

P = Partition("eu-west-1", "123456789012")


def test_ecs_arns_in_their_long_and_short_forms() -> None:
    assert P.cluster("Prod_Cluster") == "arn:aws:ecs:eu-west-1:123456789012:cluster/Prod_Cluster"
    assert P.service("prod", "web") == "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"
    assert P.service("prod", "web", long=False) == "arn:aws:ecs:eu-west-1:123456789012:service/web"
    assert P.task("prod", "0f" * 16, long=False).endswith(":task/" + "0f" * 16)
    assert P.task_definition("web", 3) == "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"
    assert P.service_deployment("prod", "web", "ecs-svc/1234567890123456789").endswith(
        ":service-deployment/prod/web/1234567890123456789"
    )


@pytest.mark.parametrize(
    ("reference", "kind", "name", "cluster"),
    [
        ("web", "service", "web", None),
        ("arn:aws:ecs:eu-west-1:123456789012:service/prod/web", "service", "web", "prod"),
        ("arn:aws:ecs:eu-west-1:123456789012:service/web", "service", "web", None),
        ("arn:aws:ecs:eu-west-1:123456789012:cluster/My_Cluster", "cluster", "My_Cluster", None),
        # an ARN of another kind is not read as this kind's
        (P.cluster("prod"), "service", P.cluster("prod"), None),
    ],
)
def test_a_reference_is_a_name_or_an_arn(reference: str, kind: str, name: str, cluster: str | None) -> None:
    assert identifiers.name_in(reference, kind) == name
    assert identifiers.cluster_in(reference, kind) == cluster


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("web", ("web", None)),
        ("web:12", ("web", 12)),
        ("Web_App:1", ("Web_App", 1)),
        ("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7", ("web", 7)),
        ("web:latest", ("web:latest", None)),
    ],
)
def test_task_definition_references(reference: str, expected: tuple[str, int | None]) -> None:
    assert identifiers.task_definition_reference(reference) == expected


def test_a_bare_family_stays_a_name_and_a_revision_becomes_an_arn() -> None:
    assert identifiers.task_definition_arn_or_name(P, "web") == "web"
    assert identifiers.task_definition_arn_or_name(P, "web:2") == P.task_definition("web", 2)


def test_deployment_ids_look_like_ecs_and_hold_for_the_same_seed() -> None:
    first = identifiers.deployment_id("uid-1", "key-a")
    assert first == identifiers.deployment_id("uid-1", "key-a")
    assert first != identifiers.deployment_id("uid-1", "key-b")
    assert first.startswith("ecs-svc/") and len(first) == 27 and first[8:].isdigit()
    assert identifiers.is_deployment_id(first) and not identifiers.is_deployment_id("ecs-svc/")
    assert identifiers.deployment_number(first) == first[8:]


def test_task_ids_are_uids_without_dashes() -> None:
    assert identifiers.id_of_uid("0a1b2c3d-0000-1111-2222-333344445555") == "0a1b2c3d000011112222333344445555"


def test_the_arn_format_a_service_was_created_with() -> None:
    assert identifiers.long_format({"metadata": {}})
    short = {"metadata": {"annotations": {labels.ARN_FORMAT: labels.ARN_FORMAT_SHORT}}}
    assert not identifiers.long_format(short)


def test_iam_principals_and_the_role_an_assumed_session_stands_for() -> None:
    assert P.iam_user("alice") == "arn:aws:iam::123456789012:user/alice"
    session = P.assumed_role("deployer", "ci-42")
    assert session == "arn:aws:sts::123456789012:assumed-role/deployer/ci-42"
    assert P.principal(session) == P.iam_role("deployer")
    assert P.principal(P.iam_user("alice")) == P.iam_user("alice")
    assert P.oidc_provider("issuer.example/x") == "arn:aws:iam::123456789012:oidc-provider/issuer.example/x"


def test_a_role_name_is_read_only_from_this_accounts_role_arns() -> None:
    assert P.role_name("arn:aws:iam::123456789012:role/deployer") == "deployer"
    assert P.role_name("arn:aws:iam::123456789012:role/team/deployer") == "deployer"
    assert P.role_name("arn:aws:iam::999999999999:role/deployer") is None
    assert P.role_name("arn:aws:iam::123456789012:user/deployer") is None
    assert P.role_name("deployer") is None
