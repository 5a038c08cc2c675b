"""IamRole and IamOidcProvider (cluster-scoped): what STS needs of IAM.

An IamRole maps `arn:aws:iam::<account>:role/<roleName>` to the Kubernetes identity its sessions act as,
with IAM's own trust policy (`assumeRolePolicyDocument`, the JSON `aws iam create-role` takes) saying who
may assume it. An IamOidcProvider registers an external OpenID Connect issuer whose tokens
AssumeRoleWithWebIdentity verifies through the issuer's discovery document and keys (JWKS), as `aws iam
create-open-id-connect-provider` registers one; tokens of the cluster's own ServiceAccounts need none.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

# IAM's names: up to 64 of letters, digits and `+=,.@_-`.
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,64}$"
# The trust policy is IAM's JSON as is (its own validation: ecsapi/trust.py, at create and at use).
PolicyDocument = Annotated[
    dict[str, Any], WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True})
]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class KubernetesIdentity(Shape):
    """Who the role's sessions are to Kubernetes: every call impersonates this user in these groups."""

    user: str = Field(min_length=1, max_length=253, description="The Kubernetes user name.")
    groups: list[Annotated[str, Field(min_length=1, max_length=253)]] | None = Field(
        None, max_length=32, description="Kubernetes groups of the user."
    )


class IamRoleSpec(Shape):
    """An IAM role: `arn:aws:iam::<account>:role/<roleName>`."""

    role_name: Annotated[str, Field(pattern=ROLE_NAME_PATTERN)] | None = Field(
        None, alias="roleName", description="The IAM role name (default: metadata.name)."
    )
    description: str | None = Field(None, max_length=1000, description="What the role is for.")
    max_session_duration: int | None = Field(
        None,
        alias="maxSessionDuration",
        ge=3600,
        le=43200,
        description="Longest session in seconds AssumeRole may ask for (IAM's 3600-43200, default 3600).",
    )
    kubernetes: KubernetesIdentity = Field(description="The Kubernetes identity the role acts as.")
    assume_role_policy_document: PolicyDocument = Field(
        alias="assumeRolePolicyDocument",
        description="IAM's trust policy: who may assume the role (sts:AssumeRole, "
        "sts:AssumeRoleWithWebIdentity), with its principals and conditions.",
    )


class IamRoleStatus(Shape):
    """Nothing yet: the role's ARN and id are derived from its name and uid."""


class IamOidcProviderSpec(Shape):
    """An OpenID Connect identity provider: `arn:aws:iam::<account>:oidc-provider/<url without https://>`."""

    url: Annotated[str, Field(pattern=r"^https://[^\s?#]+$", max_length=255)] = Field(
        description="The issuer (the tokens' `iss`), https."
    )
    client_id_list: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        alias="clientIDList",
        min_length=1,
        max_length=100,
        description="The audiences (`aud`) accepted, e.g. sts.amazonaws.com.",
    )
    thumbprint_list: list[str] | None = Field(
        None,
        alias="thumbprintList",
        max_length=5,
        description="Accepted as IAM takes it, not used: TLS is verified against certificateAuthority "
        "or the system's CAs.",
    )
    discovery_url: Annotated[str, Field(pattern=r"^https://[^\s]+$", max_length=2048)] | None = Field(
        None,
        alias="discoveryURL",
        description="Not IAM: where to read the discovery document when it is not <url>/.well-known/"
        "openid-configuration (as Kubernetes' AuthenticationConfiguration `issuer.discoveryURL`).",
    )
    certificate_authority: str | None = Field(
        None,
        alias="certificateAuthority",
        max_length=65536,
        description="Not IAM: PEM CA certificates to verify the issuer's TLS with (default: the system's).",
    )


class IamOidcProviderStatus(Shape):
    """Nothing yet."""
