"""Label, annotation and taint names shared by every layer (the contract in DESIGN.md)."""

from ecs_operator import API_GROUP

CLUSTER = f"{API_GROUP}/cluster"
SERVICE = f"{API_GROUP}/service"
TASK = f"{API_GROUP}/task"
FAMILY = f"{API_GROUP}/family"
REVISION = f"{API_GROUP}/revision"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "ecs-operator"

# Nodes: a container instance of cluster X carries CLUSTER=X (and CAPACITY=ec2); the serverless pool that
# FARGATE tasks run on carries CAPACITY=fargate and the FARGATE taint, so nothing else lands there.
CAPACITY = f"{API_GROUP}/capacity"
CAPACITY_EC2 = "ec2"
CAPACITY_FARGATE = "fargate"
FARGATE_TAINT_KEY = CAPACITY
FARGATE_TAINT_VALUE = CAPACITY_FARGATE
FARGATE_TAINT_EFFECT = "NoSchedule"
