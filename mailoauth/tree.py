"""Where project files are read from: the working tree, or (for `diff`) a git revision.

Loaders take a Tree rather than paths so that the same validation runs on any revision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mailoauth.problems import InvalidInput, Problem


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
        """The file's text; InvalidInput (not a traceback) when it is a folder, unreadable or not UTF-8."""
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:
            raise _unreadable(path, "is a folder, not a file", "remove or rename the folder") from None
        except PermissionError:
            raise _unreadable(path, "cannot be read (permission denied)", "make the file readable") from None
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise _unreadable(
                path, f"is not UTF-8 text (byte {exc.object[exc.start]:#04x})", "save it as UTF-8", line
            ) from None

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


def _unreadable(path: str, why: str, fix: str, line: int | None = None) -> InvalidInput:
    return InvalidInput([Problem(path, (), f"the file {why}", hint=fix, line=line)])
