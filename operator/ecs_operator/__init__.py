"""ecs-operator: Amazon ECS concepts reconciled into Kubernetes workloads."""

API_GROUP = "ecs.operator.dev"
API_VERSION = "v1alpha1"
FIELD_MANAGER = "ecs-operator"
# Where the operator, the ECS API and the console keep their own objects (the Lease, keys, the session key).
NAMESPACE = "ecs-operator-system"

__version__ = "0.1.0"
