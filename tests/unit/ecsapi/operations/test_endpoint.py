"""The endpoint's skeleton, as an SDK meets it: authentication (SigV4 against keys kept as Secrets, the
credential scope), the protocol's own errors, the request id, the caches not listed yet, and acting as the
caller: every write is the caller's, under RBAC."""

from __future__ import annotations

import json

from ecs_operator.ecsapi import keys

from tests.unit.ecsapi.operations.harness import Caller, refused
from tests.unit.ecsapi.operations.world import World

ECS = "AmazonEC2ContainerServiceV20141113"


def test_a_signed_call_acts_as_the_keys_user_and_answers_with_a_request_id(world: World) -> None:
    world.admin.ecs.create_cluster(clusterName="a")
    [write] = world.api.writes_of("EcsCluster")
    assert (write.user, write.verb, write.name) == ("ecs-admin", "create", "a")
    answer = world.admin.raw(f"{ECS}.ListClusters", b"{}")
    assert answer.status == 200 and answer.headers["x-amzn-RequestId"]
    assert json.loads(answer.body) == {"clusterArns": ["arn:aws:ecs:us-east-1:000000000000:cluster/a"]}


def test_an_unsigned_call_is_refused(world: World) -> None:
    with refused("MissingAuthenticationTokenException", "Missing Authentication Token"):
        world.endpoint.call("ecs", "ListClusters", {}, None)


def test_an_unknown_key_and_a_wrong_secret_are_refused(world: World) -> None:
    stranger = Caller(world.endpoint, keys.new_access_key_id(), keys.new_secret_access_key())
    with refused("UnrecognizedClientException", "security token"):
        stranger.ecs.list_clusters()
    forger = Caller(world.endpoint, world.admin.access_key_id, keys.new_secret_access_key())
    with refused("InvalidSignatureException", "signature"):
        forger.ecs.list_clusters()


def test_a_signature_scoped_to_another_service_is_refused(world: World) -> None:
    answer = world.admin.raw(f"{ECS}.ListClusters", b"{}", service="sts")
    assert answer.status == 403
    assert json.loads(answer.body)["__type"] == "InvalidSignatureException"
    assert answer.headers["X-Amzn-ErrorType"] == "InvalidSignatureException"


def test_the_protocols_own_errors_name_what_is_wrong(world: World) -> None:
    cases = [
        (f"{ECS}.NoSuchOperation", b"{}", 400, "UnknownOperationException", "NoSuchOperation"),
        (None, b"{}", 400, "UnknownOperationException", "X-Amz-Target"),
        (f"{ECS}.ListClusters", b"{not json", 400, "SerializationException", "not valid JSON"),
        (f"{ECS}.ListClusters", b"[1]", 400, "SerializationException", "JSON object"),
        (f"{ECS}.ListClusters", b'{"bogus": 1}', 400, "InvalidParameterException", "bogus"),
        (
            f"{ECS}.CreateService",
            b"{" + b" " * (2 * 1024 * 1024) + b"}",
            413,
            "RequestEntityTooLargeException",
            "",
        ),
    ]
    for target, body, status, code, named in cases:
        answer = world.admin.raw(target, body)
        found = json.loads(answer.body)
        assert (answer.status, found["__type"]) == (status, code), (target, found)
        assert named in found["message"], found
    assert world.api.writes_of("EcsService", ok=False) == []


def test_a_member_the_model_does_not_know_is_refused_by_name(world: World) -> None:
    with refused("InvalidParameterException", "clusterName"):
        world.admin.ecs.unvalidated().create_cluster(clusterName=["not", "a", "string"])
    assert world.api.writes_of("EcsCluster") == []


def test_while_the_caches_list_the_endpoint_answers_503_and_healthz_says_so(world: World) -> None:
    world.store.listed = False
    with refused("ServiceUnavailableException", "caches"):
        world.admin.ecs.list_clusters()
    assert world.endpoint.send("GET", "/healthz", {}, b"").status == 503
    world.store.listed = True
    assert world.endpoint.send("GET", "/healthz", {}, b"").body == b"ok\n"


def test_a_path_that_is_not_an_operation_is_refused(world: World) -> None:
    answer = world.endpoint.send("GET", "/clusters", {}, b"")
    assert answer.status == 400 and json.loads(answer.body)["__type"] == "UnknownOperationException"


def test_a_key_without_rights_is_denied_naming_its_user_and_nothing_is_written(world: World) -> None:
    nobody = world.caller("nobody")
    with refused("AccessDeniedException", "nobody"):
        nobody.ecs.list_clusters()
    with refused("AccessDeniedException", "nobody", "ecsclusters"):
        nobody.ecs.create_cluster(clusterName="a")
    assert [w.status for w in world.api.writes_of("EcsCluster", ok=False)] == [403]


def test_a_deletion_is_seen_by_the_next_request_though_the_caches_trail_it(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.service("a", "svc", "web", desired=0)
    group = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:x:name/pool"
    world.admin.ecs.create_capacity_provider(
        name="pool", autoScalingGroupProvider={"autoScalingGroupArn": group}
    )
    ecs = world.admin.ecs
    world.store.lagging = True
    ecs.delete_capacity_provider(capacityProvider="pool")
    assert [f["reason"] for f in ecs.describe_capacity_providers(capacityProviders=["pool"])["failures"]] == [
        "MISSING"
    ]
    ecs.delete_service(cluster="a", service="svc")
    [service] = ecs.describe_services(cluster="a", services=["svc"])["services"]
    assert service["status"] in ("DRAINING", "INACTIVE")
    ecs.delete_cluster(cluster="a")
    assert ecs.describe_clusters(clusters=["a"])["clusters"][0]["status"] in ("DEPROVISIONING", "INACTIVE")
    world.store.lagging = False
