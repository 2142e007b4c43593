"""Where project files are read from: the working tree, or (for `diff`) a git revision.

Loaders take a Tree rather than paths so that the same validation runs on any revision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Tree(Protocol):
    label: str

    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it does not exist."""

    def list_dir(self, path: str) -> list[str]:
        """File names directly under `path` (empty when it does not exist)."""


class WorkTree:
    """The project directory on disk."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.label = "working tree"

    def read_text(self, path: str) -> str | None:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None

    def list_dir(self, path: str) -> list[str]:
        folder = self.root / path
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def find_project_root(start: Path | str = ".") -> Path:
    """The nearest directory at or above `start` that holds Pulumi.yaml (else `start` itself)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return here
