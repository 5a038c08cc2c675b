"""Pure ECS → Kubernetes translation: ECS JSON (normalized, camelCase) in, complete objects + warnings out.

No kopf, no Kubernetes client, no I/O, no clock, no randomness: the same input always gives the same output.
"""

from ecs_operator.naming import container_name
from ecs_operator.translate.cluster import translate_cluster
from ecs_operator.translate.containers import kubernetes_container_names
from ecs_operator.translate.result import Translation, TranslationWarning
from ecs_operator.translate.service import translate_service
from ecs_operator.translate.task import translate_task
from ecs_operator.translate.taskdefinition import translate_task_definition

Warning = TranslationWarning  # noqa: A001 - the name the operator and the brief use

__all__ = [
    "Translation",
    "TranslationWarning",
    "Warning",
    "container_name",
    "kubernetes_container_names",
    "translate_cluster",
    "translate_service",
    "translate_task",
    "translate_task_definition",
]
