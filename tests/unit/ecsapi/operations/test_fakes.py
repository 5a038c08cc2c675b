"""The fakes keep the API server's rules the operations rely on, through `Kube` as the operations call it:
if these fail, the operations' tests prove nothing."""

from __future__ import annotations

from typing import Any

import pytest
from ecs_operator import labels
from ecs_operator.ecsapi import store
from ecs_operator.kube import Kube, KubeError

from tests.unit.ecsapi.operations import rbac
from tests.unit.ecsapi.operations.fakeapi import ADMIN, FakeApiServer, Who
from tests.unit.ecsapi.operations.fakestore import FakeStore

GROUP = "ecs.operator.dev/v1alpha1"


def cluster(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": GROUP, "kind": "EcsCluster", "metadata": {"name": name}, "spec": spec}


def configmap(name: str, namespace: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


@pytest.fixture
def api() -> FakeApiServer:
    return FakeApiServer()


@pytest.fixture
def admin(api: FakeApiServer) -> Kube:
    return api.kube(ADMIN)


def status_of(call: Any) -> int:
    with pytest.raises(KubeError) as raised:
        call()
    return raised.value.status


def test_create_sets_identity_versions_and_generation_and_refuses_a_second(admin: Kube) -> None:
    created = admin.create(cluster("a", clusterName="a"))
    metadata = created["metadata"]
    assert metadata["uid"] and metadata["creationTimestamp"] and metadata["generation"] == 1
    assert int(metadata["resourceVersion"]) > 0
    assert status_of(lambda: admin.create(cluster("a"))) == 409
    assert admin.get("EcsCluster", "a") == created
    assert admin.get("EcsCluster", "missing") is None


def test_a_spec_change_bumps_the_generation_metadata_and_status_do_not(admin: Kube) -> None:
    admin.create(cluster("a", clusterName="a"))
    labelled = admin.merge_patch("EcsCluster", "a", None, {"metadata": {"labels": {"x": "1"}}})
    assert labelled is not None and labelled["metadata"]["generation"] == 1
    status = admin.patch_status("EcsCluster", "a", None, {"status": "ACTIVE"})
    assert (
        status is not None
        and status["metadata"]["generation"] == 1
        and status["status"]["status"] == "ACTIVE"
    )
    changed = admin.merge_patch("EcsCluster", "a", None, {"spec": {"tags": [{"key": "k", "value": "v"}]}})
    assert changed is not None and changed["metadata"]["generation"] == 2
    assert changed["status"] == {"status": "ACTIVE"}  # a write of the object leaves its status
    ignored = admin.merge_patch("EcsCluster", "a", None, {"status": {"status": "INACTIVE"}})
    assert ignored is not None and ignored["status"] == {"status": "ACTIVE"}


def test_merge_patch_removes_nulls_and_a_stale_resource_version_conflicts(admin: Kube) -> None:
    admin.create(configmap("c", "default", a="1", b="2"))
    first = admin.get("ConfigMap", "c", "default")
    assert first is not None
    patched = admin.merge_patch("ConfigMap", "c", "default", {"data": {"a": None, "c": "3"}})
    assert patched is not None and patched["data"] == {"b": "2", "c": "3"}
    stale = {"metadata": {"resourceVersion": first["metadata"]["resourceVersion"]}, "data": {"d": "4"}}
    assert status_of(lambda: admin.merge_patch("ConfigMap", "c", "default", stale)) == 409
    assert admin.merge_patch("ConfigMap", "missing", "default", {"data": {}}) is None


def test_server_side_apply_removes_what_the_manager_no_longer_applies_and_keeps_others(
    api: FakeApiServer,
) -> None:
    mine, theirs = api.kube(ADMIN, "mine"), api.kube(ADMIN, "theirs")
    mine.apply(configmap("c", "default", a="1", b="2"))
    theirs.merge_patch("ConfigMap", "c", "default", {"data": {"z": "9"}})
    applied = mine.apply(configmap("c", "default", a="1"))
    assert applied["data"] == {"a": "1", "z": "9"}


def test_namespaced_objects_need_their_namespace_and_it_refuses_new_ones_while_terminating(
    admin: Kube,
) -> None:
    assert status_of(lambda: admin.create(configmap("c", "nowhere"))) == 404
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}})
    held = configmap("held", "ns")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    admin.create(held)
    admin.delete("Namespace", "ns")
    namespace = admin.get("Namespace", "ns")
    assert namespace is not None and namespace["status"]["phase"] == "Terminating"
    assert status_of(lambda: admin.create(configmap("new", "ns"))) == 403
    admin.merge_patch("ConfigMap", "held", "ns", {"metadata": {"finalizers": None}})
    assert admin.get("ConfigMap", "held", "ns") is None and admin.get("Namespace", "ns") is None


def test_deletion_waits_for_finalizers_and_collects_dependents(admin: Kube) -> None:
    owner = cluster("a")
    owner["metadata"]["finalizers"] = ["ecs.operator.dev/cluster-protection"]
    created = admin.create(owner)
    reference = {"apiVersion": GROUP, "kind": "EcsCluster", "name": "a", "uid": created["metadata"]["uid"]}
    admin.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "ownerReferences": [reference]}}
    )
    admin.create(configmap("inside", "a"))
    assert admin.delete("EcsCluster", "a") is True
    deleting = admin.get("EcsCluster", "a")
    assert deleting is not None and deleting["metadata"]["deletionTimestamp"]
    assert admin.get("Namespace", "a") is not None
    admin.merge_patch("EcsCluster", "a", None, {"metadata": {"finalizers": []}})
    assert admin.get("EcsCluster", "a") is None
    assert admin.get("Namespace", "a") is None and admin.get("ConfigMap", "inside", "a") is None
    assert admin.delete("EcsCluster", "a") is False


def test_rbac_decides_from_the_shipped_roles_and_reviews_answer_the_same(api: FakeApiServer) -> None:
    api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ecs-account"}})
    api.put_all(rbac.shipped("api/user-roles.yaml"))
    subject = {"kind": "User", "name": "viewer"}
    api.put(rbac.binding("RoleBinding", "ClusterRole", "ecs-operator:view", subject, "default"))
    viewer = api.kube(Who("viewer"))
    assert viewer.list("EcsService", "default") == []
    assert status_of(lambda: viewer.list("EcsService", "kube-system")) == 403
    with pytest.raises(KubeError, match='User "viewer" cannot create resource "ecsclusters"'):
        viewer.create(cluster("a"))

    def review(verb: str, namespace: str) -> bool:
        attributes = {
            "verb": verb,
            "group": "ecs.operator.dev",
            "resource": "ecsservices",
            "namespace": namespace,
        }
        answer = viewer.create(
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes},
            }
        )
        return bool(answer["status"]["allowed"])

    assert (review("get", "default"), review("create", "default"), review("get", "kube-system")) == (
        True,
        False,
        False,
    )


def test_writes_are_recorded_with_who_made_them_refusals_too(api: FakeApiServer) -> None:
    api.kube(ADMIN).create(cluster("a"))
    with pytest.raises(KubeError):
        api.kube(Who("nobody")).delete("EcsCluster", "a")
    assert [(w.user, w.verb, w.kind, w.name, w.status) for w in api.writes if w.kind == "EcsCluster"] == [
        ("kubernetes-admin", "create", "EcsCluster", "a", 200),
        ("nobody", "delete", "EcsCluster", "a", 403),
    ]


def test_the_store_keeps_what_the_endpoints_caches_keep(api: FakeApiServer, admin: Kube) -> None:
    found = FakeStore(api, admin)
    admin.create(cluster("a", clusterName="A_b"))
    assert [o["metadata"]["name"] for o in found.find(store.CLUSTER, "A_b")] == ["a"]
    admin.create(configmap("not-settings", "default"))
    assert found.in_namespace(store.CONFIGMAP, "default") == []  # the caches select the settings only
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "default",
            "labels": {labels.MANAGED_BY: labels.MANAGED_BY_VALUE},
        },
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    created = admin.create(pod)
    [summary] = found.task_summaries("default")
    assert summary["id"] == created["metadata"]["uid"].replace("-", "")
    admin.delete("Pod", "p", "default")
    assert found.task_summaries("default") == []
    gone = found.gone(store.POD, ("default", summary["id"]))
    assert gone is not None and gone["metadata"]["name"] == "p"
