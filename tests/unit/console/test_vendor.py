"""The vendored JavaScript is the pinned release, and the package ships every template and static file."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from ecs_operator.console import vendor

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "operator" / "ecs_operator" / "console"


def test_the_vendored_files_are_the_pinned_releases() -> None:
    for item in vendor.FILES:
        assert item.version in item.target
        assert vendor.sha256((vendor.STATIC / item.target).read_bytes()) == item.sha256, item.target


def test_the_templates_and_pages_load_only_pinned_scripts() -> None:
    base = (PACKAGE / "templates" / "base.html").read_text()
    for item in vendor.FILES:
        assert f'src="/static/{item.target}"' in base


def test_every_template_and_static_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["ecs_operator.console"]
    files = [
        p.relative_to(PACKAGE).as_posix() for d in ("templates", "static") for p in (PACKAGE / d).iterdir()
    ]
    assert files and [f for f in files if not any(fnmatch(f, g) for g in globs)] == []
