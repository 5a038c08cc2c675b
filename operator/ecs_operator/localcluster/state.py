"""The record of a running cluster (`<state>/state.json`): binaries, ports and the processes it owns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ecs_operator.localcluster.processes import ProcessRecord


@dataclass
class ClusterState:
    versions_key: str
    bin_dir: str
    ports: dict[str, int]
    processes: dict[str, ProcessRecord] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "versionsKey": self.versions_key,
                "binDir": self.bin_dir,
                "ports": self.ports,
                "processes": {
                    name: {"pid": record.pid, "startTime": record.start_time, "args": list(record.args)}
                    for name, record in self.processes.items()
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        data = json.loads(text)
        return cls(
            versions_key=data["versionsKey"],
            bin_dir=data["binDir"],
            ports={name: int(port) for name, port in data["ports"].items()},
            processes={
                name: ProcessRecord(
                    pid=int(item["pid"]), start_time=int(item["startTime"]), args=tuple(item["args"])
                )
                for name, item in data["processes"].items()
            },
        )


def load(path: Path) -> ClusterState | None:
    """The saved state, or None when there is none or it is unreadable (a write cut short)."""
    try:
        return ClusterState.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(path: Path, state: ClusterState) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(state.to_json(), encoding="utf-8")
    temporary.replace(path)
