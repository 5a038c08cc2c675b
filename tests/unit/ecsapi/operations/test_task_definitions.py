"""RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
DeregisterTaskDefinition, DeleteTaskDefinitions: regional, numbered once and for all."""

from __future__ import annotations

from ecs_operator import labels
from ecs_operator.account import account_namespace

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import CONTAINER, World

ARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/"


def test_register_needs_no_cluster_numbers_revisions_and_records_them(world: World) -> None:
    first = world.task_definition("web_app")
    second = world.task_definition("web_app", cpu="256")
    assert (first["taskDefinitionArn"], second["taskDefinitionArn"]) == (ARN + "web_app:1", ARN + "web_app:2")
    assert (second["revision"], second["status"], second["cpu"]) == (2, "ACTIVE", "256")
    claims = world.api.writes_of("EcsTaskDefinition")
    assert [(w.user, w.verb) for w in claims] == [("ecs-admin", "create"), ("ecs-admin", "patch")]
    records = world.api.objects("ControllerRevision", account_namespace())
    assert sorted(r["revision"] for r in records) == [1, 2]
    assert {w.user for w in world.api.writes_of("ControllerRevision")} == {
        "system:serviceaccount:ecs-operator-system:ecs-api"
    }


def test_register_refuses_a_family_and_a_container_ecs_refuses(world: World) -> None:
    with refused("InvalidParameterException", "family"):
        world.admin.ecs.register_task_definition(family="web.app", containerDefinitions=[CONTAINER])
    no_image = {"name": "web", "image": "", "memory": 128}
    with refused("ClientException", "containerDefinitions[0].image"):
        world.admin.ecs.register_task_definition(family="web", containerDefinitions=[no_image])
    with refused("ClientException", "containerDefinitions[1].name"):
        world.admin.ecs.register_task_definition(family="web", containerDefinitions=[CONTAINER, CONTAINER])
    assert world.api.writes_of("EcsTaskDefinition", ok=False) == []


def test_register_without_account_rights_is_denied(world: World) -> None:
    operator = world.caller("ops", cluster_roles=("ecs-operator:edit",))
    with refused("AccessDeniedException", "ops", "ecstaskdefinitions"):
        operator.ecs.register_task_definition(family="web", containerDefinitions=[CONTAINER])


def test_two_registrations_never_claim_one_number(world: World) -> None:
    world.task_definition("web")
    world.api.before_next_write(
        "EcsTaskDefinition",
        lambda: world.operator.kube.merge_patch(
            "EcsTaskDefinition", "web", None, {"metadata": {"annotations": {labels.LATEST_REVISION: "2"}}}
        ),
    )
    registered = world.task_definition("web", cpu="512")
    assert registered["revision"] == 3
    claims = [w.status for w in world.api.writes_of("EcsTaskDefinition", ok=False) if w.user == "ecs-admin"]
    assert claims == [200, 409, 200]


def test_describe_task_definition_by_family_revision_and_arn_with_tags(world: World) -> None:
    world.task_definition("web", tags=[{"key": "team", "value": "a"}])
    world.task_definition("web", cpu="512")
    latest = world.admin.ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert latest["revision"] == 2
    first = world.admin.ecs.describe_task_definition(taskDefinition=ARN + "web:1", include=["TAGS"])
    assert first["taskDefinition"]["revision"] == 1
    assert first["tags"] == [{"key": "team", "value": "a"}]
    assert first["taskDefinition"]["containerDefinitions"][0]["name"] == "web"


def test_describe_task_definition_of_an_unknown_one(world: World) -> None:
    world.task_definition("web")
    for reference in ("other", "web:7", ARN + "other:1"):
        with refused("ClientException", "Unable to describe task definition."):
            world.admin.ecs.describe_task_definition(taskDefinition=reference)


def test_list_task_definitions_filters_sorts_and_pages(world: World) -> None:
    for family in ("web", "web", "worker", "db"):
        world.task_definition(family)
    world.admin.ecs.deregister_task_definition(taskDefinition="web:1")
    listed = world.admin.ecs.list_task_definitions(familyPrefix="w")["taskDefinitionArns"]
    assert listed == [ARN + "web:2", ARN + "worker:1"]
    inactive = world.admin.ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"]
    assert inactive == [ARN + "web:1"]
    newest = world.admin.ecs.list_task_definitions(sort="DESC", maxResults=2)
    assert newest["taskDefinitionArns"] == [ARN + "worker:1", ARN + "web:2"]
    rest = world.admin.ecs.list_task_definitions(sort="DESC", maxResults=2, nextToken=newest["nextToken"])
    assert rest == {"taskDefinitionArns": [ARN + "db:1"]}
    with refused("InvalidParameterException", "maxResults"):
        world.admin.ecs.list_task_definitions(maxResults=0)


def test_list_task_definition_families_by_status(world: World) -> None:
    world.task_definition("web")
    world.task_definition("old")
    world.admin.ecs.deregister_task_definition(taskDefinition="old:1")
    assert world.admin.ecs.list_task_definition_families()["families"] == ["web"]
    assert world.admin.ecs.list_task_definition_families(status="INACTIVE")["families"] == ["old"]
    assert world.admin.ecs.list_task_definition_families(status="ALL", familyPrefix="o")["families"] == [
        "old"
    ]
    with refused("InvalidParameterException", "nextToken"):
        world.admin.ecs.list_task_definition_families(nextToken="not-ours")


def test_list_task_definitions_needs_the_right_to_list_them(world: World) -> None:
    viewer = world.caller("viewer", cluster_roles=("ecs-operator:view",))
    with refused("AccessDeniedException", "viewer", "ecstaskdefinitions"):
        viewer.ecs.list_task_definitions()


def test_deregister_makes_a_revision_inactive_and_the_family_answers_the_latest_active(world: World) -> None:
    world.task_definition("web")
    world.task_definition("web", cpu="512")
    answer = world.admin.ecs.deregister_task_definition(taskDefinition=ARN + "web:2")["taskDefinition"]
    assert (answer["revision"], answer["status"]) == (2, "INACTIVE") and answer["deregisteredAt"]
    assert world.admin.ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"] == 1
    owner = world.api.read("EcsTaskDefinition", "web")
    assert owner is not None and owner["metadata"]["annotations"][labels.DEREGISTER] == "2"


def test_deregister_needs_a_revision_that_exists(world: World) -> None:
    world.task_definition("web")
    with refused("InvalidParameterException", "taskDefinition", "revision"):
        world.admin.ecs.deregister_task_definition(taskDefinition="web")
    with refused("ClientException", "does not exist"):
        world.admin.ecs.deregister_task_definition(taskDefinition="web:9")


def test_delete_task_definitions_deletes_inactive_revisions_only_and_never_reuses_numbers(
    world: World,
) -> None:
    world.task_definition("web")
    world.task_definition("web", cpu="512")
    world.admin.ecs.deregister_task_definition(taskDefinition="web:1")
    answer = world.admin.ecs.delete_task_definitions(taskDefinitions=["web:1", "web:2", "web:5"])
    assert [(t["revision"], t["status"]) for t in answer["taskDefinitions"]] == [(1, "DELETE_IN_PROGRESS")]
    assert [(f["arn"], f["reason"]) for f in answer["failures"]] == [
        (ARN + "web:2", "TASK_DEFINITION_ACTIVE"),
        (ARN + "web:5", "TASK_DEFINITION_NOT_FOUND"),
    ]
    assert world.task_definition("web")["revision"] == 3


def test_delete_task_definitions_refuses_a_family_without_revision_and_more_than_ten(world: World) -> None:
    with refused("InvalidParameterException", "taskDefinitions", "'web'"):
        world.admin.ecs.delete_task_definitions(taskDefinitions=["web"])
    with refused("InvalidParameterException", "taskDefinitions", "at most 10"):
        world.admin.ecs.delete_task_definitions(taskDefinitions=[f"web:{n}" for n in range(1, 12)])
