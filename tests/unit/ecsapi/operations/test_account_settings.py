"""PutAccountSetting, PutAccountSettingDefault, ListAccountSettings, DeleteAccountSetting: ECS's settings per
principal and for the account, kept in a ConfigMap of the account namespace, written with the caller's
rights."""

from __future__ import annotations

from ecs_operator.account import SETTINGS, SETTINGS_CONFIGMAP, account_namespace

from tests.unit.ecsapi.operations.harness import refused
from tests.unit.ecsapi.operations.world import World

ADMIN = "arn:aws:iam::000000000000:user/ecs-admin"
ROOT = "arn:aws:iam::000000000000:root"


def test_a_setting_of_ones_own_principal_and_the_accounts_default(world: World) -> None:
    ecs = world.admin.ecs
    mine = ecs.put_account_setting(name="serviceLongArnFormat", value="disabled")["setting"]
    assert mine == {
        "name": "serviceLongArnFormat",
        "value": "disabled",
        "principalArn": ADMIN,
        "type": "user",
    }
    default = ecs.put_account_setting_default(name="containerInsights", value="enabled")["setting"]
    assert (default["principalArn"], default["value"]) == (ROOT, "enabled")
    assert ecs.list_account_settings()["settings"] == [mine]
    assert ecs.list_account_settings(principalArn=ROOT)["settings"] == [{**default, "type": "user"}]
    [write, *_] = world.api.writes_of("ConfigMap")
    assert (write.user, write.verb, write.namespace, write.name) == (
        "ecs-admin",
        "create",
        account_namespace(),
        SETTINGS_CONFIGMAP,
    )


def test_effective_settings_fall_back_to_the_default_then_to_aws_and_page_by_ten(world: World) -> None:
    ecs = world.admin.ecs
    ecs.put_account_setting_default(name="containerInsights", value="enhanced")
    ecs.put_account_setting(name="taskLongArnFormat", value="disabled")
    first = ecs.list_account_settings(effectiveSettings=True)
    second = ecs.list_account_settings(effectiveSettings=True, nextToken=first["nextToken"])
    found = {s["name"]: s for s in first["settings"] + second["settings"]}
    assert len(first["settings"]) == 10 and set(found) == set(SETTINGS)
    assert (found["containerInsights"]["value"], found["containerInsights"]["principalArn"]) == (
        "enhanced",
        ROOT,
    )
    assert (found["taskLongArnFormat"]["value"], found["taskLongArnFormat"]["principalArn"]) == (
        "disabled",
        ADMIN,
    )
    assert found["guardDutyActivate"]["type"] == "aws_managed"
    one = ecs.list_account_settings(name="taskLongArnFormat", value="enabled", effectiveSettings=True)
    assert one["settings"] == []


def test_delete_account_setting_answers_what_it_deleted(world: World) -> None:
    ecs = world.admin.ecs
    ecs.put_account_setting(name="awsvpcTrunking", value="enabled")
    deleted = ecs.delete_account_setting(name="awsvpcTrunking")["setting"]
    assert (deleted["name"], deleted["value"], deleted["principalArn"]) == (
        "awsvpcTrunking",
        "enabled",
        ADMIN,
    )
    assert ecs.list_account_settings()["settings"] == []
    with refused("InvalidParameterException", "name", "is not set"):
        ecs.delete_account_setting(name="awsvpcTrunking")


def test_settings_ecs_does_not_have_or_does_not_let_change_are_refused(world: World) -> None:
    ecs = world.admin.ecs
    with refused("InvalidParameterException", "name", "longArns"):
        ecs.put_account_setting(name="longArns", value="enabled")
    with refused("InvalidParameterException", "value", "maybe"):
        ecs.put_account_setting_default(name="containerInsights", value="maybe")
    with refused("InvalidParameterException", "guardDutyActivate", "managed by AWS"):
        ecs.put_account_setting(name="guardDutyActivate", value="on")
    with refused("InvalidParameterException", "value", "name"):
        ecs.list_account_settings(value="enabled")
    assert world.api.writes_of("ConfigMap", ok=False) == []


def test_changing_settings_needs_the_right_to_write_them(world: World) -> None:
    outsider = world.caller("ops", cluster_roles=("ecs-operator:cluster-admin",))
    with refused("AccessDeniedException", "ops", "configmaps"):
        outsider.ecs.put_account_setting(name="serviceLongArnFormat", value="disabled")


def test_a_setting_written_meanwhile_is_kept(world: World) -> None:
    ecs = world.admin.ecs
    ecs.put_account_setting_default(name="containerInsights", value="enabled")

    def someone_else() -> None:
        world.operator.kube.merge_patch(
            "ConfigMap", SETTINGS_CONFIGMAP, account_namespace(), {"data": {"awsvpcTrunking": "enabled"}}
        )

    world.api.before_next_write("ConfigMap", someone_else)
    ecs.put_account_setting_default(name="fargateFIPSMode", value="enabled")
    defaults = {s["name"]: s["value"] for s in ecs.list_account_settings(principalArn=ROOT)["settings"]}
    assert defaults == {
        "containerInsights": "enabled",
        "awsvpcTrunking": "enabled",
        "fargateFIPSMode": "enabled",
    }
    statuses = [w.status for w in world.api.writes_of("ConfigMap", ok=False) if w.user == "ecs-admin"]
    assert statuses == [200, 409, 200]


def test_the_arn_format_settings_take_effect(world: World) -> None:
    world.cluster("a")
    world.task_definition("web")
    world.admin.ecs.put_account_setting(name="serviceLongArnFormat", value="disabled")
    created = world.admin.ecs.create_service(cluster="a", serviceName="web", taskDefinition="web")
    assert created["service"]["serviceArn"] == "arn:aws:ecs:us-east-1:000000000000:service/web"
