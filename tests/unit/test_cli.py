"""The command line: building its parser loads what every subcommand's registration needs, not what one
subcommand runs with (the operator process would carry it)."""

from __future__ import annotations

import json
import subprocess
import sys

RUN_ONLY = ["jwt", "cryptography", "kopf", "kubernetes", "aiohttp", "botocore", "jinja2"]


def test_building_the_parser_loads_no_library_a_single_subcommand_runs_with() -> None:
    script = (
        "import json, sys\n"
        "from ecs_operator.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    assert sorted({m.split(".")[0] for m in loaded} & set(RUN_ONLY)) == []
