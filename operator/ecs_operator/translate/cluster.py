"""A cluster → the Namespace its services and tasks live in.

`translate_cluster(cluster, *, name, namespace=None, owner=None)`: the Namespace `namespace` (what
`naming.cluster_namespace` gives for the EcsCluster; by default `cluster["namespace"]`, an EcsCluster spec
extension, else the Kubernetes name of the ECS cluster name), labelled with the ECS cluster name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_operator.naming import cluster_object_name
from ecs_operator.translate.coverage import unmapped_warnings
from ecs_operator.translate.metadata import base_labels, new_object
from ecs_operator.translate.pod import tags_annotation
from ecs_operator.translate.result import Translation, TranslationWarning, in_path_order


def translate_cluster(
    cluster: Mapping[str, Any],
    *,
    name: str,
    namespace: str | None = None,
    owner: Mapping[str, str] | None = None,
) -> Translation:
    warnings = list(unmapped_warnings("CreateClusterRequest", cluster))
    for index, setting in enumerate(cluster.get("settings") or ()):
        if setting.get("name") == "containerInsights" and setting.get("value") not in (None, "disabled"):
            warnings.append(
                TranslationWarning(
                    f"settings[{index}].value",
                    "Container Insights does not exist on Kubernetes; run a metrics pipeline instead",
                )
            )
    namespace_object = new_object(
        "v1",
        "Namespace",
        namespace or str(cluster.get("namespace") or cluster_object_name(name)),
        namespace=None,
        object_labels=base_labels(name),
        owner=owner,
        annotations=tags_annotation(cluster.get("tags") or ()),
    )
    return Translation([namespace_object], in_path_order(warnings))
