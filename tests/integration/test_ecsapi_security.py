"""Who may do what through the ECS API: SigV4 is verified for real and Kubernetes RBAC decides, for each
key's identity, every read and every write."""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import botocore.auth
import pytest
from botocore.exceptions import ClientError

from tests.integration.api_helpers import AccessKey, boto3_client, create_key
from tests.integration.operator_helpers import Families

pytest_plugins = ["tests.integration.api_fixtures"]
pytestmark = pytest.mark.integration
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


@pytest.fixture
def sec(ecs_client: Any, family: Families) -> str:
    """A family registered once, before any cluster (task definitions are regional): both clusters use it."""
    name = family("sec")
    ecs_client.register_task_definition(
        family=name, containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 64}]
    )
    return name


@pytest.fixture
def two_clusters(
    ecs_client: Any, api_cluster_name: str, kubectl: Kubectl, sec: str
) -> Iterator[tuple[str, str]]:
    first, second = api_cluster_name, f"{api_cluster_name[:36]}-two"
    for name in (first, second):
        ecs_client.create_cluster(clusterName=name)
        ecs_client.create_service(cluster=name, serviceName="web", taskDefinition=sec, desiredCount=0)
    yield first, second
    kubectl("delete", "ecsservices", "--all", "-n", second, "--timeout=120s", check=False)
    kubectl("delete", "ecscluster", second, "--ignore-not-found", "--timeout=60s", check=False)


@pytest.fixture
def user_key(kubeconfig: str, kubectl: Kubectl) -> Iterator[Callable[[str, str], AccessKey]]:
    """`user_key(role, namespace)`: a key of a fresh user bound to `role` in that namespace only."""
    bindings: list[tuple[str, str]] = []

    def make(role: str, namespace: str) -> AccessKey:
        key = create_key(kubeconfig, f"user-{role.rsplit(':', 1)[1]}-{len(bindings)}-{namespace[-6:]}")
        binding = f"test-{key.user}"
        kubectl(
            "create", "rolebinding", binding, f"--clusterrole={role}", f"--user={key.user}", "-n", namespace
        )
        bindings.append((binding, namespace))
        return key

    yield make
    for binding, namespace in bindings:
        kubectl("delete", "rolebinding", binding, "-n", namespace, "--ignore-not-found", check=False)


def test_a_wrong_secret_is_refused(ecs_api: Any, admin_key: AccessKey) -> None:
    forged = AccessKey(admin_key.access_key_id, admin_key.secret_access_key[::-1], admin_key.user)
    code, message = error_of(lambda: boto3_client(ecs_api.url, forged).list_clusters())
    assert code == "InvalidSignatureException"
    assert "signature we calculated does not match" in message


def test_an_unknown_key_is_refused(ecs_api: Any) -> None:
    unknown = AccessKey("AKIAUNKNOWNUNKNOWN00", "x" * 40, "nobody")
    code, message = error_of(lambda: boto3_client(ecs_api.url, unknown).list_clusters())
    assert code == "UnrecognizedClientException"
    assert message == "The security token included in the request is invalid."


def test_a_stale_signature_is_refused(
    ecs_api: Any, admin_key: AccessKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore signs with its own clock (`get_current_datetime`): give it one 20 minutes slow.
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: real() - datetime.timedelta(minutes=20)
    )
    client = boto3_client(ecs_api.url, admin_key)
    code, message = error_of(lambda: client.list_clusters())
    assert code == "InvalidSignatureException"
    assert message.startswith("Signature expired:")


def test_a_read_only_key_reads_but_cannot_write(
    ecs_api: Any, two_clusters: tuple[str, str], user_key: Callable[[str, str], AccessKey], sec: str
) -> None:
    cluster = two_clusters[0]
    viewer = boto3_client(ecs_api.url, user_key("ecs-operator:view", cluster))
    described = viewer.describe_services(cluster=cluster, services=["web"])
    assert [s["serviceName"] for s in described["services"]] == ["web"]
    assert viewer.list_tasks(cluster=cluster)["taskArns"] == []
    code, message = error_of(lambda: viewer.update_service(cluster=cluster, service="web", desiredCount=3))
    assert code == "AccessDeniedException"
    assert 'cannot patch resource "ecsservices"' in message and cluster in message
    code, _ = error_of(lambda: viewer.run_task(cluster=cluster, taskDefinition=sec))
    assert code == "AccessDeniedException"
    code, message = error_of(lambda: viewer.list_clusters())
    assert code == "AccessDeniedException" and "cannot list ecsclusters.ecs.operator.dev" in message


def test_a_key_of_one_namespace_cannot_touch_another_cluster(
    ecs_api: Any, ecs_client: Any, two_clusters: tuple[str, str], user_key: Callable[[str, str], AccessKey]
) -> None:
    own, other = two_clusters
    editor = boto3_client(ecs_api.url, user_key("ecs-operator:edit", own))
    editor.update_service(cluster=own, service="web", desiredCount=0)
    code, message = error_of(lambda: editor.describe_services(cluster=other, services=["web"]))
    assert code == "AccessDeniedException" and f"in namespace '{other}'" in message
    code, _ = error_of(lambda: editor.update_service(cluster=other, service="web", desiredCount=2))
    assert code == "AccessDeniedException"
    code, _ = error_of(lambda: editor.delete_service(cluster=other, service="web"))
    assert code == "AccessDeniedException"
    code, _ = error_of(lambda: editor.list_tasks(cluster=other))
    assert code == "AccessDeniedException"
    untouched = ecs_client.describe_services(cluster=other, services=["web"])["services"][0]
    assert (untouched["status"], untouched["desiredCount"]) == ("ACTIVE", 0)


def test_secret_keys_never_reach_the_log_or_the_cluster(
    ecs_api: Any, ecs_client: Any, admin_key: AccessKey, kubectl: Kubectl, api_cluster_name: str
) -> None:
    ecs_client.create_cluster(clusterName=api_cluster_name)
    ecs_client.list_clusters()
    assert admin_key.secret_access_key not in ecs_api.log_text()
    events = kubectl("get", "events", "-A", "-o", "json").stdout
    assert admin_key.secret_access_key not in events
    crs = kubectl("get", "ecsclusters,ecsservices,ecstasks,ecstaskdefinitions", "-A", "-o", "json").stdout
    assert admin_key.secret_access_key not in crs
