"""EcsCluster counts from the indexes: task phases, services and tasks of the cluster's namespace."""

from collections.abc import Iterator

import pytest
from ecs_operator.handlers import cluster_counts
from ecs_operator.handlers.cluster_counts import ClusterCounts


@pytest.fixture
def indexes() -> Iterator[dict[str, dict[str, list[str]]]]:
    saved = dict(cluster_counts._indexes)
    fake: dict[str, dict[str, list[str]]] = {index_id: {} for index_id in cluster_counts.INDEX_IDS}
    cluster_counts._indexes.clear()
    cluster_counts.capture({**fake, "unrelated": {}})
    yield fake
    cluster_counts._indexes.clear()
    cluster_counts._indexes.update(saved)


def test_counts_follow_the_cluster_namespace(indexes: dict[str, dict[str, list[str]]]) -> None:
    indexes["cluster_namespaces"]["prod"] = ["prod-ns"]
    indexes["namespace_task_phases"]["prod-ns"] = ["Running", "Running", "Pending", "Succeeded"]
    indexes["namespace_task_phases"]["other"] = ["Running"]
    indexes["namespace_services"]["prod-ns"] = ["web", "api"]
    indexes["namespace_tasks"]["prod-ns"] = ["migrate"]
    assert cluster_counts.counts("prod") == ClusterCounts("prod-ns", 2, 1, 2, 1)
    assert cluster_counts.clusters_of_namespace("prod-ns") == ["prod"]
    assert cluster_counts.clusters_of_namespace("other") == []


def test_an_unindexed_cluster_has_no_counts_yet(indexes: dict[str, dict[str, list[str]]]) -> None:
    assert cluster_counts.counts("new") is None
