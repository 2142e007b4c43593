"""A GitHub Actions runner's environment for running a workflow's own shell steps in a test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.projectcopy import ROOT


def runner_env(temp: Path) -> dict[str, str]:
    """`mailoauth` on PATH (as `pip install .` puts it), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY under `temp`."""
    bin_dir = temp / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / "mailoauth"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mailoauth "$@"\n')
    shim.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "MAILOAUTH_TODAY": "2026-11-27",
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(temp / "output"),
        "GITHUB_STEP_SUMMARY": str(temp / "summary"),
    }
