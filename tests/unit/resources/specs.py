"""Small valid specs the rule tables start from (each test copies and breaks one thing)."""

from __future__ import annotations

import copy
from typing import Any


def task_definition() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "family": "web",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "512",
            "memory": "1024",
            "volumes": [{"name": "cache"}],
            "containerDefinitions": [
                {
                    "name": "nginx",
                    "image": "nginx:1.27",
                    "essential": True,
                    "memory": 512,
                    "memoryReservation": 256,
                    "portMappings": [{"name": "http", "containerPort": 80, "protocol": "tcp"}],
                    "mountPoints": [{"sourceVolume": "cache", "containerPath": "/var/cache/nginx"}],
                    "healthCheck": {
                        "command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
                        "interval": 10,
                        "timeout": 5,
                        "retries": 3,
                        "startPeriod": 10,
                    },
                },
                {
                    "name": "agent",
                    "image": "busybox:1.36",
                    "essential": False,
                    "dependsOn": [{"containerName": "nginx", "condition": "HEALTHY"}],
                    "volumesFrom": [{"sourceContainer": "nginx", "readOnly": True}],
                },
            ],
        }
    )


def service() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "serviceName": "web",
            "taskDefinition": "web:3",
            "desiredCount": 3,
            "launchType": "EC2",
            "loadBalancers": [
                {
                    "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1234:targetgroup/web/0123",
                    "containerName": "nginx",
                    "containerPort": 80,
                }
            ],
            "deploymentConfiguration": {
                "maximumPercent": 200,
                "minimumHealthyPercent": 50,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            },
        }
    )


def task() -> dict[str, Any]:
    return copy.deepcopy({"taskDefinition": "db-migrate", "count": 1, "launchType": "EC2"})


def cluster() -> dict[str, Any]:
    return copy.deepcopy(
        {"clusterName": "demo", "settings": [{"name": "containerInsights", "value": "enabled"}]}
    )
