"""Who held the leader Lease when, and which replica wrote without it, read from audit events shaped as
the local cluster's API server writes them (the Lease writes at Request level, everything else Metadata)."""

from __future__ import annotations

import datetime
from typing import Any

from ecs_operator.localcluster.audit import Counts, Term, lease_terms, replica_of, stray_writes

T0 = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> str:
    return (T0 + datetime.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def lease_write(
    seconds: float, writer: str, holder: str | None, duration: int = 10, code: int = 200
) -> dict[str, Any]:
    return {
        "stage": "ResponseComplete",
        "verb": "update",
        "userAgent": f"ecs-operator/0.1.0 ({writer})",
        "objectRef": {"resource": "leases", "namespace": "ecs-operator-system", "name": "ecs-operator"},
        "requestReceivedTimestamp": at(seconds - 0.01),
        "stageTimestamp": at(seconds),
        "responseStatus": {"code": code},
        "requestObject": {"spec": {"holderIdentity": holder, "leaseDurationSeconds": duration}},
    }


def write(seconds: float, writer: str, resource: str = "deployments") -> dict[str, Any]:
    return {
        "stage": "ResponseComplete",
        "verb": "patch",
        "userAgent": f"ecs-operator/0.1.0 ({writer})",
        "objectRef": {"resource": resource, "namespace": "demo", "name": "web"},
        "requestReceivedTimestamp": at(seconds),
        "stageTimestamp": at(seconds + 0.05),
        "responseStatus": {"code": 200},
    }


def test_terms_follow_acquisitions_renewals_releases_and_expiry() -> None:
    events = [
        lease_write(0, "a_1", "a_1"),
        lease_write(2, "a_1", "a_1"),
        lease_write(3, "b_2", "a_1", code=409),  # b's attempt lost: no change
        lease_write(4, "a_1", None, duration=1),  # a releases
        lease_write(5, "b_2", "b_2"),
        lease_write(7, "b_2", "b_2"),  # b dies after this renewal
        lease_write(19, "a_3", "a_3"),
    ]
    assert lease_terms(events, "ecs-operator-system", "ecs-operator") == [
        Term("a_1", T0, T0 + datetime.timedelta(seconds=4), released=True),
        Term("b_2", T0 + datetime.timedelta(seconds=5), T0 + datetime.timedelta(seconds=17)),
        Term("a_3", T0 + datetime.timedelta(seconds=19), T0 + datetime.timedelta(seconds=29)),
    ]


def test_a_holder_that_lapsed_and_took_the_lease_again_did_not_hold_it_in_between() -> None:
    events = [lease_write(0, "a_1", "a_1"), lease_write(30, "a_1", "a_1")]
    terms = lease_terms(events, "ecs-operator-system", "ecs-operator")
    assert [(t.start, t.end) for t in terms] == [
        (T0, T0 + datetime.timedelta(seconds=10)),
        (T0 + datetime.timedelta(seconds=30), T0 + datetime.timedelta(seconds=40)),
    ]
    assert [s.at for s in stray_writes([write(20, "a_1")], terms)] == [T0 + datetime.timedelta(seconds=20)]


def test_writes_outside_the_writers_own_terms_are_stray() -> None:
    events = [lease_write(0, "a_1", "a_1"), lease_write(2, "a_1", None, 1), lease_write(3, "b_2", "b_2")]
    terms = lease_terms(events, "ecs-operator-system", "ecs-operator")
    writes = [
        write(1, "a_1"),  # the leader: fine
        write(1.5, "b_2"),  # the standby while a leads
        write(2.5, "a_1"),  # a after its release
        write(4, "b_2"),  # the new leader: fine
        write(4, "a_1", resource="leases"),  # Lease writes are the election itself
        {**write(4, "x"), "userAgent": "kube-controller-manager/v1.36.3"},  # not a replica
    ]
    stray = stray_writes(writes, terms)
    assert [(s.identity, s.request) for s in stray] == [
        ("b_2", "patch deployments demo/web"),
        ("a_1", "patch deployments demo/web"),
    ]
    judged_from_2s = stray_writes(writes, terms, since=T0 + datetime.timedelta(seconds=2))
    assert [s.identity for s in judged_from_2s] == ["a_1"]


def test_replicas_are_told_apart_by_their_user_agent() -> None:
    assert (
        replica_of({"userAgent": "ecs-operator/0.1.0 (ecs-operator-5d8f_1a2b3c4d)"})
        == "ecs-operator-5d8f_1a2b3c4d"
    )
    assert replica_of({"userAgent": "OpenAPI-Generator/31.0.0/python"}) is None
    assert Counts().lease_writes == 0
