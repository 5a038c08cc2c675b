"""The IAM kinds STS reads (IamRole, IamOidcProvider): cluster-scoped, their own category, the trust policy
kept as IAM's JSON (the only member that keeps unknown fields), and the models refuse what IAM refuses."""

from __future__ import annotations

import pytest
from ecs_operator.resources.crdgen import IAM_KINDS, crd
from ecs_operator.resources.iamrole import IamOidcProviderSpec, IamRoleSpec
from pydantic import ValidationError


@pytest.mark.parametrize("kind", IAM_KINDS, ids=[k.kind for k in IAM_KINDS])
def test_cluster_scoped_in_the_iam_category(kind: object) -> None:
    spec = crd(kind)["spec"]  # type: ignore[arg-type]
    assert spec["scope"] == "Cluster"
    assert spec["names"]["categories"] == ["iam"]


def test_only_the_trust_policy_keeps_unknown_fields() -> None:
    role = crd(IAM_KINDS[0])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    kept = [
        name for name, node in role["properties"].items() if node.get("x-kubernetes-preserve-unknown-fields")
    ]
    assert kept == ["assumeRolePolicyDocument"]


def test_a_role_needs_an_identity_and_a_trust_policy() -> None:
    with pytest.raises(ValidationError, match="kubernetes"):
        IamRoleSpec.model_validate({"assumeRolePolicyDocument": {}})
    with pytest.raises(ValidationError, match="roleName"):
        IamRoleSpec.model_validate(
            {"roleName": "bad name", "kubernetes": {"user": "u"}, "assumeRolePolicyDocument": {}}
        )
    with pytest.raises(ValidationError, match="maxSessionDuration"):
        IamRoleSpec.model_validate(
            {"maxSessionDuration": 60, "kubernetes": {"user": "u"}, "assumeRolePolicyDocument": {}}
        )


def test_a_provider_is_https_with_audiences() -> None:
    IamOidcProviderSpec.model_validate(
        {"url": "https://issuer.example", "clientIDList": ["sts.amazonaws.com"]}
    )
    with pytest.raises(ValidationError, match="url"):
        IamOidcProviderSpec.model_validate({"url": "http://issuer.example", "clientIDList": ["a"]})
    with pytest.raises(ValidationError, match="clientIDList"):
        IamOidcProviderSpec.model_validate({"url": "https://issuer.example", "clientIDList": []})
