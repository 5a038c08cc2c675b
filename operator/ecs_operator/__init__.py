"""ecs-operator: Amazon ECS concepts reconciled into Kubernetes workloads."""

API_GROUP = "ecs.operator.dev"
API_VERSION = "v1alpha1"
FIELD_MANAGER = "ecs-operator"

__version__ = "0.1.0"
