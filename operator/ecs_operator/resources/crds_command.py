"""`ecs-operator crds [--output-dir DIR] [--check]`: write (or check) the generated CRDs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "crds",
        help="write the CustomResourceDefinitions generated from the models",
        description="Write one CRD YAML per kind (EcsCluster, EcsTaskDefinition, EcsService, EcsTask).",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=Path("crds"), help="where to write (default: crds/)"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the files on disk differ"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ecs_operator.resources.crdgen import rendered

    output_dir: Path = args.output_dir
    stale = []
    for name, text in rendered().items():
        path = output_dir / name
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            output_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check:
        for path in stale:
            print(f"{path}: out of date; run `make crds`", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        print(f"wrote {path}")
    return 0


def main() -> int:
    """`python -m ecs_operator.resources.crds_command [--output-dir DIR] [--check]`, without the CLI."""
    parser = argparse.ArgumentParser(prog="ecs-operator")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["crds", *sys.argv[1:]])
    exit_code: int = args.handler(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
