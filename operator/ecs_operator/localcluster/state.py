"""The record of a running cluster (`<state>/state.json`): binaries, ports and the processes it owns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_operator.localcluster.processes import ProcessRecord


@dataclass
class RealNodeState:
    """The real node beside the kwok Nodes: its network and its processes."""

    network_index: int
    processes: dict[str, ProcessRecord] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "networkIndex": self.network_index,
            "processes": _processes_to_dict(self.processes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RealNodeState:
        return cls(
            network_index=int(data["networkIndex"]),
            processes=_processes_from_dict(data["processes"]),
        )


@dataclass
class ClusterState:
    versions_key: str
    bin_dir: str
    ports: dict[str, int]
    processes: dict[str, ProcessRecord] = field(default_factory=dict)
    real_node: RealNodeState | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "versionsKey": self.versions_key,
            "binDir": self.bin_dir,
            "ports": self.ports,
            "processes": _processes_to_dict(self.processes),
        }
        if self.real_node is not None:
            data["realNode"] = self.real_node.to_dict()
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        data = json.loads(text)
        real_node = data.get("realNode")
        return cls(
            versions_key=data["versionsKey"],
            bin_dir=data["binDir"],
            ports={name: int(port) for name, port in data["ports"].items()},
            processes=_processes_from_dict(data["processes"]),
            real_node=RealNodeState.from_dict(real_node) if real_node is not None else None,
        )


def _processes_to_dict(processes: dict[str, ProcessRecord]) -> dict[str, Any]:
    return {
        name: {"pid": record.pid, "startTime": record.start_time, "args": list(record.args)}
        for name, record in processes.items()
    }


def _processes_from_dict(data: dict[str, Any]) -> dict[str, ProcessRecord]:
    return {
        name: ProcessRecord(pid=int(item["pid"]), start_time=int(item["startTime"]), args=tuple(item["args"]))
        for name, item in data.items()
    }


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
