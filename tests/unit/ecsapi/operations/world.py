"""One test's world: the fake API server with the shipped roles, the endpoint built as `ecs-operator api
serve` builds it (its own client acting as the API's ServiceAccount, a client per caller's identity, the
key ring, the sealing keys, the IAM directory, the web identity verifier), the store it reads, the
operator's stand-in, and callers with access keys bound to the shipped user roles."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_operator.account import account_namespace
from ecs_operator.ecsapi import endpoint, keys
from ecs_operator.ecsapi.callers import Authenticator
from ecs_operator.ecsapi.keys import Identity, Key, KeyRing
from ecs_operator.ecsapi.roles import Directory
from ecs_operator.ecsapi.sessions import SealingKeys
from ecs_operator.ecsapi.webidentity import Verifier
from ecs_operator.identifiers import Partition
from ecs_operator.kube import Kube

from tests.unit.ecsapi.operations import rbac
from tests.unit.ecsapi.operations.fakeapi import FakeApiServer, Who
from tests.unit.ecsapi.operations.fakestore import FakeStore
from tests.unit.ecsapi.operations.harness import Caller, Endpoint
from tests.unit.ecsapi.operations.standin import Operator

API = Who(
    "system:serviceaccount:ecs-operator-system:ecs-api",
    ("system:serviceaccounts", "system:serviceaccounts:ecs-operator-system"),
)
SHIPPED = (
    "api/clusterrole.yaml",
    "api/clusterrolebinding.yaml",
    "api/account-role.yaml",
    "api/role.yaml",
    "api/rolebinding.yaml",
    "api/user-roles.yaml",
)
ADMIN_ROLES = ("ecs-operator:cluster-admin", "ecs-operator:account-edit")
CONTAINER = {"name": "web", "image": "nginx:1.27", "memory": 128, "portMappings": [{"containerPort": 80}]}


@dataclass
class World:
    api: FakeApiServer
    store: FakeStore
    operator: Operator
    endpoint: Endpoint
    partition: Partition
    admin: Caller = field(init=False)

    def __post_init__(self) -> None:
        self.admin = self.caller(
            "ecs-admin", cluster_roles=ADMIN_ROLES, account_role="ecs-operator:account-edit"
        )

    def caller(
        self,
        user: str,
        *,
        groups: Sequence[str] = (),
        cluster_roles: Sequence[str] = (),
        account_role: str | None = None,
        namespace_roles: Mapping[str, str] | None = None,
    ) -> Caller:
        """An access key of `user` (a Secret, as `ecs-operator api create-key` makes it), with the shipped
        ClusterRoles bound cluster-wide, a Role in the account namespace, and ClusterRoles per namespace."""
        key = Key(keys.new_access_key_id(), keys.new_secret_access_key(), Identity(user, tuple(groups)))
        self.api.put(keys.key_secret(keys.DEFAULT_NAMESPACE, f"{user}-{secrets.token_hex(3)}", key))
        subject = {"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}
        for role in cluster_roles:
            self.api.put(rbac.binding("ClusterRoleBinding", "ClusterRole", role, subject))
        if account_role:
            self.api.put(rbac.binding("RoleBinding", "Role", account_role, subject, account_namespace()))
        for namespace, role in (namespace_roles or {}).items():
            self.api.put(rbac.binding("RoleBinding", "ClusterRole", role, subject, namespace))
        return Caller(self.endpoint, key.access_key_id, key.secret_access_key, user=user)

    # --- what most tests start from ----------------------------------------------------------------

    def cluster(self, name: str = "default", **params: Any) -> dict[str, Any]:
        """A cluster created through the API, its namespace made by the operator."""
        self.admin.ecs.create_cluster(clusterName=name, **params)
        self.operator.ready(name)
        return self.admin.ecs.describe_clusters(clusters=[name])["clusters"][0]

    def task_definition(self, family: str = "web", **params: Any) -> dict[str, Any]:
        params.setdefault("containerDefinitions", [CONTAINER])
        return self.admin.ecs.register_task_definition(family=family, **params)["taskDefinition"]

    def service(
        self, cluster: str, name: str, task_definition: str, desired: int = 1, **params: Any
    ) -> dict[str, Any]:
        """A service created through the API and rolled out by the operator."""
        self.admin.ecs.create_service(
            cluster=cluster, serviceName=name, taskDefinition=task_definition, desiredCount=desired, **params
        )
        self.operator.roll_out(cluster, name)
        return self.admin.ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def build(api: FakeApiServer | None = None) -> World:
    """The world, with the endpoint constructed as `ecs-operator api serve` constructs it."""
    api = api or FakeApiServer()
    operator = Operator(api)
    api.put_all(rbac.shipped(*SHIPPED))
    own = Kube(api.client(API))
    partition = Partition.from_env()
    directory = Directory(own, partition)
    authenticator = Authenticator(
        KeyRing(own, keys.DEFAULT_NAMESPACE), SealingKeys(own, keys.DEFAULT_NAMESPACE), directory, partition
    )
    verifier = Verifier(own, directory)
    store = FakeStore(api, own)
    server = endpoint.Server(
        store,
        authenticator,
        verifier,
        lambda identity: Kube(api.client(Who(identity.user, identity.groups)), endpoint.FIELD_MANAGER),
        partition,
        registry=own,
    )
    return World(api, store, operator, Endpoint(server), partition)
