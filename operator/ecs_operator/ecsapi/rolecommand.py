"""`ecs-operator api create-role`: create (or update) an IamRole, with a trust policy written from flags
or given as IAM's JSON, and print its ARN.

`--trust-service-account NS/NAME` trusts that ServiceAccount's tokens (AssumeRoleWithWebIdentity, the
cluster's own issuer read from `/.well-known/openid-configuration`, audience `--audience`);
`--trust-oidc ISSUER --subject S` an external issuer's subjects; `--trust-user U` / `--trust-role R`
AssumeRole by the keys of Kubernetes user U or sessions of role R.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecs_operator import API_GROUP, API_VERSION
from ecs_operator.ecsapi.sts import DEFAULT_AUDIENCE
from ecs_operator.identifiers import Partition


def register(commands: Any, cluster_arguments: Callable[[argparse.ArgumentParser], None]) -> None:
    role = commands.add_parser(
        "create-role",
        help="create an IAM role (IamRole) acting as a Kubernetes user, and say who may assume it",
        description="Create or update an IamRole and print its ARN. Give its trust policy as IAM's JSON "
        "(--assume-role-policy-document) or with the --trust-* flags.",
    )
    role.add_argument("--name", required=True, help="the IAM role name (letters, digits, +=,.@_-)")
    role.add_argument("--user", required=True, help="the Kubernetes user its sessions act as")
    role.add_argument("--group", action="append", default=[], help="a Kubernetes group (repeatable)")
    role.add_argument("--description")
    role.add_argument("--max-session-duration", type=int, help="seconds, 3600-43200 (default 3600)")
    role.add_argument(
        "--assume-role-policy-document", help="the trust policy: JSON, or file://PATH holding it"
    )
    role.add_argument(
        "--trust-user", action="append", default=[], help="a Kubernetes user whose keys may AssumeRole"
    )
    role.add_argument(
        "--trust-role", action="append", default=[], help="a role whose sessions may AssumeRole"
    )
    role.add_argument(
        "--trust-service-account",
        action="append",
        default=[],
        metavar="NAMESPACE/NAME",
        help="a ServiceAccount whose tokens may AssumeRoleWithWebIdentity (NAME may be *)",
    )
    role.add_argument("--trust-oidc", metavar="ISSUER", help="an external OIDC issuer (https://…)")
    role.add_argument(
        "--subject", action="append", default=[], help="a `sub` of --trust-oidc tokens (wildcards allowed)"
    )
    role.add_argument(
        "--audience",
        default=DEFAULT_AUDIENCE,
        help=f"the `aud` web identity tokens carry ({DEFAULT_AUDIENCE})",
    )
    role.add_argument("--issuer", help="the cluster's ServiceAccount issuer (default: read from the cluster)")
    cluster_arguments(role)
    role.set_defaults(handler=run_create_role)


def _document(text: str) -> Any:
    if text.startswith("file://"):
        text = Path(text.removeprefix("file://")).read_text()
    return json.loads(text)


def cluster_issuer(api_client: Any) -> str:
    """The cluster's ServiceAccount issuer, from its discovery document."""
    response = api_client.call_api(
        "/.well-known/openid-configuration",
        "GET",
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
        _preload_content=False,
    )
    return str(json.loads(response.data)["issuer"])


def trust_document(
    args: argparse.Namespace, partition: Partition, issuer: Callable[[], str]
) -> dict[str, Any]:
    from ecs_operator.ecsapi import roles, trust

    if args.assume_role_policy_document:
        found: dict[str, Any] = _document(args.assume_role_policy_document)
        return found
    statements = []
    principals = [partition.iam_user(u) for u in args.trust_user]
    principals += [partition.iam_role(r) for r in args.trust_role]
    if principals:
        statements.append(trust.statement_for_principals(principals))
    if args.trust_service_account:
        subjects = []
        for item in args.trust_service_account:
            namespace, _, name = item.partition("/")
            if not namespace or not name:
                raise ValueError(f"--trust-service-account {item!r}: expected NAMESPACE/NAME")
            subjects.append(f"system:serviceaccount:{namespace}:{name}")
        provider = roles.provider_name(args.issuer or issuer())
        statements.append(trust.statement_for_web_identity(provider, partition, subjects, [args.audience]))
    if args.trust_oidc:
        provider = roles.provider_name(args.trust_oidc)
        statements.append(
            trust.statement_for_web_identity(provider, partition, args.subject, [args.audience])
        )
    if not statements:
        raise ValueError("say who may assume the role: --trust-* or --assume-role-policy-document")
    return trust.document(statements)


def iam_role(args: argparse.Namespace, document: dict[str, Any]) -> dict[str, Any]:
    from ecs_operator.naming import object_name
    from ecs_operator.resources.iamrole import IamRoleSpec

    spec: dict[str, Any] = {
        "roleName": args.name,
        "kubernetes": {"user": args.user, **({"groups": list(args.group)} if args.group else {})},
        "assumeRolePolicyDocument": document,
    }
    if args.description:
        spec["description"] = args.description
    if args.max_session_duration:
        spec["maxSessionDuration"] = args.max_session_duration
    IamRoleSpec.model_validate(spec)
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "IamRole",
        "metadata": {"name": object_name(args.name.lower())},
        "spec": spec,
    }


def run_create_role(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ecs_operator.ecsapi import trust
    from ecs_operator.kube import Kube, KubeError, new_api_client

    api_client = new_api_client(args.kubeconfig, args.context)
    partition = Partition.from_env()
    try:
        document = trust_document(args, partition, lambda: cluster_issuer(api_client))
        trust.check(document)
        obj = iam_role(args, document)
        Kube(api_client, "ecs-api").apply(obj)
    except (ValueError, OSError, ValidationError, KubeError) as error:
        print(f"error: could not create the role: {error}", file=sys.stderr)
        return 1
    print(partition.iam_role(args.name))
    return 0
