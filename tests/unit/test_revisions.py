import pytest
from ecs_operator import labels
from ecs_operator.revisions import (
    DeregisterError,
    Revision,
    controller_revision,
    family_label,
    from_controller_revision,
    next_revision_number,
    parse_deregistered,
    parse_reference,
    resolve,
    revision_name,
)

OWNER = {
    "apiVersion": "ecs.operator.dev/v1alpha1",
    "kind": "EcsTaskDefinition",
    "metadata": {"name": "web", "namespace": "demo", "uid": "u-1"},
}


def rev(number: int, active: bool = True, family: str = "web", image: str = "nginx") -> Revision:
    return Revision(
        family,
        number,
        {"family": family, "containerDefinitions": [{"image": image}]},
        active,
        f"web-{number}",
    )


def test_first_spec_registers_revision_one() -> None:
    assert next_revision_number([], {"family": "web"}) == 1


def test_same_normalized_json_as_latest_registers_nothing_whatever_the_key_order() -> None:
    latest = Revision("web", 2, {"family": "web", "cpu": "256"}, True, "web-2")
    assert next_revision_number([rev(1), latest], {"cpu": "256", "family": "web"}) is None


def test_a_changed_spec_registers_the_next_revision_even_if_it_equals_an_older_one() -> None:
    assert next_revision_number([rev(1, image="a"), rev(2, image="b")], rev(1, image="a").data) == 3


def test_names_are_the_owner_name_and_the_number() -> None:
    assert revision_name("web-1", 2) == "web-1-2"
    assert revision_name("web", 12) == "web-12"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("web", ("web", None)),
        ("web:3", ("web", 3)),
        ("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7", ("web", 7)),
        ("arn:aws:ecs:us-east-1:123456789012:task-definition/web", ("web", None)),
    ],
)
def test_references(reference: str, expected: tuple[str, int | None]) -> None:
    assert parse_reference(reference) == expected


def test_family_resolves_to_the_latest_active_revision() -> None:
    revisions = [rev(1), rev(2), rev(3, active=False)]
    found = resolve(revisions, "web")
    assert found is not None and found.number == 2


def test_family_colon_n_resolves_even_when_inactive() -> None:
    found = resolve([rev(1, active=False), rev(2)], "web:1")
    assert found is not None and found.number == 1


def test_no_active_revision_resolves_to_nothing() -> None:
    assert resolve([rev(1, active=False)], "web") is None
    assert resolve([rev(1)], "web:9") is None
    assert resolve([rev(1)], "other") is None


def test_deregister_annotation_parsing() -> None:
    assert parse_deregistered(None) == set()
    assert parse_deregistered(" 1, 3,3 ") == {1, 3}
    with pytest.raises(DeregisterError, match=rf"metadata.annotations\[{labels.DEREGISTER}\]: 'x'"):
        parse_deregistered("1,x")
    with pytest.raises(DeregisterError):
        parse_deregistered("0")


def test_controller_revision_round_trips_and_is_owned_by_its_task_definition() -> None:
    obj = controller_revision(OWNER, "web", 4, {"family": "web"}, active=False)
    assert obj["metadata"]["name"] == "web-4"
    assert obj["revision"] == 4
    assert obj["metadata"]["labels"][labels.REVISION_STATUS] == "INACTIVE"
    assert obj["metadata"]["labels"][labels.FAMILY] == "web"
    assert obj["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert obj["metadata"]["ownerReferences"][0]["controller"] is True
    back = from_controller_revision(obj)
    assert back == Revision("web", 4, {"family": "web"}, False, "web-4")


def test_family_label_falls_back_to_a_digest_when_not_a_label_value() -> None:
    assert family_label("my_app-1") == "my_app-1"
    long_family = "x" * 200
    assert family_label(long_family).startswith("sha256-")
    assert len(family_label(long_family)) <= 63
