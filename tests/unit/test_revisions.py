import pytest
from ecs_operator import labels
from ecs_operator.identifiers import task_definition_reference as parse_reference
from ecs_operator.revisions import (
    ACTIVE,
    DELETE_IN_PROGRESS,
    INACTIVE,
    DeregisterError,
    Revision,
    canonical,
    controller_revision,
    family_label,
    family_state,
    format_numbers,
    from_controller_revision,
    next_number,
    parse_deregistered,
    resolve,
    revision_object_name,
    tags_annotation,
)


def rev(number: int, active: bool = True, family: str = "web", image: str = "nginx") -> Revision:
    return Revision(
        family,
        number,
        {"family": family, "containerDefinitions": [{"image": image}]},
        ACTIVE if active else INACTIVE,
        f"web-{number}",
    )


def family(**annotations: str) -> dict[str, object]:
    return {"metadata": {"name": "web", "annotations": annotations}, "spec": {"family": "web"}}


def test_the_first_registration_claims_revision_one() -> None:
    assert next_number(family_state(family()), []) == 1


def test_numbers_are_never_reused_even_after_the_latest_revisions_are_deleted() -> None:
    state = family_state(family(**{labels.LATEST_REVISION: "7"}))
    assert next_number(state, [rev(1), rev(2)]) == 8
    assert next_number(family_state(family()), [rev(1), rev(4)]) == 5


def test_tags_are_not_part_of_the_definition() -> None:
    assert canonical({"family": "web", "tags": [{"key": "a", "value": "b"}]}) == canonical({"family": "web"})


def test_names_are_the_family_object_and_the_number() -> None:
    assert revision_object_name("web", 12) == "web-12"
    assert revision_object_name("Web_App", 2).endswith("-2")
    assert revision_object_name("Web_App", 2) != revision_object_name("web-app", 2)


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
    assert parse_deregistered("1-3,7") == {1, 2, 3, 7}
    with pytest.raises(DeregisterError, match=rf"metadata.annotations\[{labels.DEREGISTER}\]: 'x'"):
        parse_deregistered("1,x")
    with pytest.raises(DeregisterError):
        parse_deregistered("0")
    with pytest.raises(DeregisterError):
        parse_deregistered("5-2")


def test_numbers_format_as_ranges_that_parse_back() -> None:
    numbers = {1, 2, 3, 5, 9, 10}
    assert format_numbers(numbers) == "1-3,5,9-10"
    assert parse_deregistered(format_numbers(numbers)) == numbers
    assert format_numbers([]) == ""


def test_the_family_state_says_each_revisions_status() -> None:
    state = family_state(family(**{labels.DEREGISTER: "2", labels.DELETE_REVISIONS: "3"}))
    assert [state.status_of(n) for n in (1, 2, 3)] == [ACTIVE, INACTIVE, DELETE_IN_PROGRESS]


def test_revision_tags_round_trip_through_the_annotation() -> None:
    tags = {3: [{"key": "team", "value": "web"}], 4: []}
    value = tags_annotation(tags)
    assert value is not None
    assert family_state(family(**{labels.REVISION_TAGS: value})).tags == {
        3: [{"key": "team", "value": "web"}]
    }
    assert tags_annotation({4: []}) is None


def test_controller_revision_round_trips_and_has_no_owner() -> None:
    obj = controller_revision("web", 4, {"family": "web"}, INACTIVE, "ecs-account")
    assert obj["metadata"]["name"] == "web-4"
    assert obj["metadata"]["namespace"] == "ecs-account"
    assert obj["revision"] == 4
    assert obj["metadata"]["labels"][labels.REVISION_STATUS] == "INACTIVE"
    assert obj["metadata"]["labels"][labels.FAMILY] == "web"
    assert "ownerReferences" not in obj["metadata"]
    back = from_controller_revision(obj)
    assert back == Revision("web", 4, {"family": "web"}, INACTIVE, "web-4")


def test_family_label_falls_back_to_a_digest_when_not_a_label_value() -> None:
    assert family_label("my_app-1") == "my_app-1"
    long_family = "x" * 200
    assert family_label(long_family).startswith("sha256-")
    assert len(family_label(long_family)) <= 63
