"""Throwaway copies of this repository's project files, for every test that needs a project to break."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ("Pulumi.yaml", "scopes", "stacks", "policy")  # the files a project holds besides the package


def copy_project(folder: Path, *parts: str) -> Path:
    """`folder` (made if missing) with copies of these repository paths (default DATA) at the same places.

    A part already in `folder` is kept as it is: a test may have edited it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for part in parts or DATA:
        source, target = ROOT / part, folder / part
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return folder
