"""A git revision's tree checked out beside this one for a before/after figure (``--before REV``)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def tree_at(revision: str, scratch: Path | None = None) -> Iterator[Path]:
    """``revision``'s files in a temporary git worktree (under ``scratch`` when given), removed on leaving."""
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        tree = Path(folder) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), revision], cwd=REPO, check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=True)
