"""The `ecs-operator` command line: one subcommand per job, each registered by the module that does it.

Registration modules import their heavy dependencies (kopf, the Kubernetes client) only when their
subcommand runs, so `ecs-operator --help` and `convert` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ecs_operator import __version__

COMMAND_MODULES = (
    "ecs_operator.run",
    "ecs_operator.convert",
    "ecs_operator.resources.crds_command",
    "ecs_operator.ecsapi.command",
    "ecs_operator.console.command",
    "ecs_operator.localcluster.command",
    "ecs_operator.localcluster.kindcommand",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecs-operator",
        description="Run Amazon ECS task definitions, services and tasks on Kubernetes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    exit_code: int = args.handler(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
