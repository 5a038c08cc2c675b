"""The real ECS definitions in `<repo root>/../shared/ecs-examples/` (never copied into the repo).

`example_files("taskdefs")` lists one kind of example (`taskdefs`, `services`, `containerdefs`); tests
skip with `SKIP_REASON` when the folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO_ROOT.parent / "shared" / "ecs-examples"
KINDS = ("taskdefs", "services", "containerdefs")
SKIP_REASON = f"the ECS examples corpus is not here ({EXAMPLES_DIR} does not exist)"


def available() -> bool:
    return EXAMPLES_DIR.is_dir()


def example_files(kind: str) -> list[Path]:
    """The example files of one kind, sorted by name; empty when the corpus is absent."""
    if kind not in KINDS:
        raise ValueError(f"unknown example kind {kind!r}; one of {', '.join(KINDS)}")
    folder = EXAMPLES_DIR / kind
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


# Services and the task definition of the same project, where the corpus has a valid one.
SERVICE_TASK_DEFINITIONS = {
    "hyperdxio__hyperdx__aws__service-definition.json": "hyperdxio__hyperdx__aws__task-definition.json",
    "jojo786__ghost-aws-ecs-pipeline__create-service.json": "jojo786__ghost-aws-ecs-pipeline__taskdef.json",
    "zaru__ecs-service-connect-sample__ecs__internal-ecs-service-def.json": (
        "zaru__ecs-service-connect-sample__ecs__internal-ecs-task-def.json"
    ),
    "zorrofox__aws-ecs-cicd-springboot-eureka__create-service.json": (
        "zorrofox__aws-ecs-cicd-springboot-eureka__taskdef.json"
    ),
}


def task_definition_serving(service: dict[str, Any], family: str) -> dict[str, Any]:
    """A task definition with the containers and ports a service's load balancers name (ECS refuses the
    service with any other), for services whose project's task definition is not in the corpus."""
    ports: dict[str, list[Any]] = {}
    for balancer in service.get("loadBalancers") or ():
        ports.setdefault(balancer.get("containerName"), []).append(balancer.get("containerPort"))
    return {
        "family": family,
        "containerDefinitions": [
            {
                "name": name,
                "image": "nginx:1.27",
                "memory": 128,
                "portMappings": [{"containerPort": port} for port in container_ports],
            }
            for name, container_ports in ports.items()
        ],
    }


def task_definition_for(service: Path, fallback: Path, scratch: Path) -> Path:
    """The task definition file to convert a corpus service with: its project's, else one written to
    `scratch` that serves its load balancers, else `fallback`."""
    paired = SERVICE_TASK_DEFINITIONS.get(service.name)
    if paired is not None:
        return EXAMPLES_DIR / "taskdefs" / paired
    data = json.loads(service.read_text())
    data = data.get("service", data)
    if not data.get("loadBalancers"):
        return fallback
    written = scratch / f"served-by-{service.name}"
    written.write_text(json.dumps(task_definition_serving(data, "served")))
    return written
