"""The rows List calls page through: kept in order as they change, paged like ECS, counted for statistics."""

from __future__ import annotations

import random
from typing import Any

import pytest
from ecs_operator.ecsapi.errors import InvalidParameterException
from ecs_operator.ecsapi.listing import Ordered, Tally, page_of, service_row
from ecs_operator.ecsapi.paging import page, page_from
from ecs_operator.ecsapi.store import POD, TASK_GROUPS, Listings, task_id
from ecs_operator.labels import (
    ARN_FORMAT,
    ARN_FORMAT_SHORT,
    DEPLOYMENT_ID,
    SERVICE,
    STARTED_BY_ANNOTATION,
    TASK,
    TASK_DEFINITION_ANNOTATION,
)
from ecs_operator.plans.deployment import legacy_id
from ecs_operator.runtime import Change


def arn(row: tuple[bool, str]) -> str:
    """A service ARN in the long (cluster in it) or the short format, as ListServices sorts them."""
    long, name = row
    return f"arn:aws:ecs:us-east-1:1:service/{'demo/' if long else ''}{name}"


def test_pages_merge_the_groups_in_the_order_of_the_key_after_any_position() -> None:
    ordered: Ordered[tuple[bool, str]] = Ordered()
    rows = [(random.Random(n).random() < 0.3, f"svc-{n:03d}") for n in range(200)]
    for long, name in rows:
        ordered.put(name, long, name, (long, name))
    everything = sorted(rows, key=arn)
    assert ordered.page(arn, None, lambda _: True, 500) == everything
    for position in (0, 17, 150, 199):
        after = arn(everything[position])
        assert ordered.page(arn, after, lambda _: True, 10) == everything[position + 1 : position + 11]
    odd = [r for r in everything if int(r[1][-1]) % 2]
    assert ordered.page(arn, None, lambda r: int(r[1][-1]) % 2 == 1, 7) == odd[:7]
    assert page_of(rows, arn, arn(everything[50]), lambda _: True, 5) == everything[51:56]


def test_a_row_put_again_moves_and_a_discarded_row_is_gone() -> None:
    ordered: Ordered[str] = Ordered()
    for name in ("b", "a", "c"):
        ordered.put(name, 0, name, name)
    ordered.put("a", 0, "z", "a-now-z")
    ordered.discard("b")
    ordered.discard("missing")
    assert ordered.page(lambda r: r if r == "c" else "z", None, lambda _: True, 10) == ["c", "a-now-z"]
    assert len(ordered) == 2 and ordered.get("b") is None and ordered.get("a") == "a-now-z"


def test_page_from_pages_as_page_does_with_its_tokens() -> None:
    items = [f"id-{n:04d}" for n in range(250)]
    random.Random(7).shuffle(items)

    def fetch(after: str | None, size: int) -> list[str]:
        return page_of(items, str, after, lambda _: True, size)

    token: str | None = None
    seen_sorted, seen_kept = [], []
    while True:
        chunk, token = page(items, str, token, 100, 100)
        seen_sorted += chunk
        if not token:
            break
    while True:
        chunk, token = page_from(fetch, str, token, 100, 100)
        seen_kept += chunk
        if not token:
            break
    assert seen_kept == seen_sorted == sorted(items)
    with pytest.raises(InvalidParameterException, match="maxResults"):
        page_from(fetch, str, None, 101, 100)
    with pytest.raises(InvalidParameterException, match="nextToken"):
        page_from(fetch, str, "not-a-token", None, 100)


def service(name: str, spec: dict[str, Any], deleting: bool = False, short: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "demo"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-06T00:00:00Z"
    if short:
        metadata["annotations"] = {ARN_FORMAT: ARN_FORMAT_SHORT}
    return {"kind": "EcsService", "metadata": metadata, "spec": spec}


def pod(node: str | None, phase: str) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"nodeName": node} if node else {}, "status": {"phase": phase}}


def test_a_tally_counts_what_comes_and_forgets_what_goes() -> None:
    tally = Tally()
    web = service_row(service("web", {"serviceName": "web-ecs", "launchType": "FARGATE"}))
    assert (web.name, web.object_name, web.fargate, web.long_arn) == ("web-ecs", "web", True, True)
    spread = service_row(
        service("api", {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]}, short=True)
    )
    assert spread.fargate and not spread.long_arn and spread.launch_type == "EC2"
    tally.service(web, 1)
    tally.service(service_row(service("old", {}, deleting=True)), 1)
    tally.pod(pod("node-1", "Running"), 1)
    tally.pod(pod("node-1", "Running"), 1)
    tally.pod(pod(None, "Pending"), 1)
    copy = tally.copy()
    tally.pod(pod("node-1", "Running"), -1)
    tally.service(web, -1)
    assert copy.services == {(True, False): 1, (False, True): 1}
    assert copy.tasks == {("RUNNING", "node-1"): 2, ("PENDING", None): 1}
    assert tally.tasks == {("RUNNING", "node-1"): 1, ("PENDING", None): 1}
    assert tally.services == {(False, True): 1}


def test_one_services_tasks_are_paged_without_reading_the_others() -> None:
    listings = Listings()

    def task_pod(index: int, service: str | None) -> dict[str, Any]:
        pod_labels = {SERVICE: service} if service else {TASK: f"run-{index}"}
        uid = f"00000000-0000-0000-0000-{index:012d}"
        metadata = {"name": f"p{index}", "namespace": "demo", "uid": uid, "labels": pod_labels}
        return {"metadata": metadata, "spec": {}, "status": {"phase": "Running"}}

    pods = [task_pod(n, "web" if n % 50 == 0 else "other" if n % 2 else None) for n in range(500)]
    for p in pods:
        listings.on_change(Change(POD, None, p))
    read: list[str] = []

    def keep(summary: dict[str, Any]) -> bool:
        read.append(str(summary["service"]))
        return True

    web = [task_id(p) for p in pods if p["metadata"]["labels"].get(SERVICE) == "web"]
    assert [s["id"] for s in listings.tasks_page("demo", None, keep, 100, ("service", {"web"}))] == sorted(
        web
    )
    assert set(read) == {"web"} and len(read) == 10
    after = sorted(web)[4]
    assert [s["id"] for s in listings.tasks_page("demo", after, keep, 3, ("service", {"web"}))] == sorted(
        web
    )[5:8]
    assert len(listings.tasks_page("demo", None, lambda _: True, 1000)) == 500
    listings.on_change(Change(POD, pods[0], None))
    assert [
        s["id"] for s in listings.tasks_page("demo", None, keep, 100, ("service", {"web", "gone"}))
    ] == sorted(web)[1:]


def test_a_familys_or_a_starters_tasks_are_paged_from_their_group_alone() -> None:
    listings = Listings()
    rng = random.Random(7)

    def task_pod(index: int) -> dict[str, Any]:
        family = rng.choice(["web", "worker", "batch"])
        annotations = {TASK_DEFINITION_ANNOTATION: f"{family}:{rng.randint(1, 3)}"}
        if index % 3:
            pod_labels = {SERVICE: f"svc-{index % 7}", "pod-template-hash": f"h{index % 4}"}
            if index % 5:
                annotations[DEPLOYMENT_ID] = f"ecs-svc/{index % 4:019d}"
        else:
            pod_labels = {TASK: f"run-{index}"}
            if index % 2:
                annotations[STARTED_BY_ANNOTATION] = f"ci-{index % 4}"
        if index % 11 == 0:
            del annotations[TASK_DEFINITION_ANNOTATION]  # a Pod that does not say: read by every page
        uid = f"00000000-0000-0000-0000-{index:012d}"
        metadata = {"name": f"p{index}", "namespace": "demo", "uid": uid, "labels": pod_labels}
        return {"metadata": {**metadata, "annotations": annotations}, "spec": {}, "status": {}}

    for index in range(600):
        listings.on_change(Change(POD, None, task_pod(index)))
    everything = listings.tasks_page("demo", None, lambda _: True, 1000)
    for dimension, value in [
        ("family", "web"),
        ("startedBy", "ci-1"),
        ("startedBy", f"ecs-svc/{2:019d}"),
        ("startedBy", legacy_id("h3")),
    ]:
        group = TASK_GROUPS[dimension]
        wanted = [s["id"] for s in everything if group(s) == value]
        assert wanted, (dimension, value)
        read: list[dict[str, Any]] = []

        def keep(summary: dict[str, Any], group: Any = group, value: str = value, read: Any = read) -> bool:
            read.append(summary)
            return bool(group(summary) == value)

        assert [
            s["id"] for s in listings.tasks_page("demo", None, keep, 1000, (dimension, [value]))
        ] == wanted
        assert all(group(s) in (value, "") for s in read), dimension
        assert len(read) < len(everything) / 2
        after = wanted[len(wanted) // 2]
        page = listings.tasks_page("demo", after, keep, 5, (dimension, [value]))
        assert [s["id"] for s in page] == [i for i in wanted if i > after][:5]
