"""Generated files are current: crds/ from the models (awsmodel/ from botocore: tests/unit/awsmodel)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from ecs_operator.resources import crds_command
from ecs_operator.resources.crdgen import rendered

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_checked_in_crds_are_current() -> None:
    for name, text in rendered().items():
        path = REPO_ROOT / "crds" / name
        assert path.exists(), f"{path} is missing: run `make crds`"
        assert path.read_text() == text, f"{path} is stale: run `make crds`"
    assert sorted(p.name for p in (REPO_ROOT / "crds").iterdir()) == sorted(rendered())


def run_crds(output_dir: Path, check: bool) -> int:
    return crds_command.run(argparse.Namespace(output_dir=output_dir, check=check))


def test_crds_command_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_crds(tmp_path, check=True) == 1
    assert "out of date" in capsys.readouterr().err
    assert run_crds(tmp_path, check=False) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(rendered())
    assert run_crds(tmp_path, check=True) == 0
    stale = next(tmp_path.iterdir())
    stale.write_text(stale.read_text() + "# edited\n")
    assert run_crds(tmp_path, check=True) == 1
    assert str(stale) in capsys.readouterr().err


def test_crds_subcommand_registers_with_the_cli_contract() -> None:
    parser = argparse.ArgumentParser()
    crds_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["crds", "--output-dir", "out", "--check"])
    assert args.handler is crds_command.run
    assert args.output_dir == Path("out")
    assert args.check
