"""The real ECS definitions in `<repo root>/../shared/ecs-examples/` (never copied into the repo).

`example_files("taskdefs")` lists one kind of example (`taskdefs`, `services`, `containerdefs`); tests
skip with `SKIP_REASON` when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

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
