"""Running mailoauth on hostile input the way a user would, but fenced in: each run is a separate
process with a memory and CPU-time limit, so a file that makes the tool blow up fails the test
instead of taking the machine down."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.projectcopy import ROOT

MEMORY_BYTES = 1024 * 1024 * 1024  # address space: the interpreter and PyYAML need far less
CPU_SECONDS = 20


def _limits(file_bytes: int | None) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
        if file_bytes is not None:  # a write past it fails with EFBIG, as on a full disk (Python ignores SIGXFSZ)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))

    return apply


def start_limited(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The same, started in the background (for concurrent runs)."""
    return subprocess.Popen(
        [sys.executable, "-m", "mailoauth", *args],
        cwd=cwd,
        env=_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_limits(None),
    )


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT), **(extra or {})}


def run_limited(
    *args: str, cwd: Path, env: dict[str, str] | None = None, file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = _env(env)
    return subprocess.run(
        [sys.executable, "-m", "mailoauth", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=CPU_SECONDS * 3,  # wall clock: a hang (a FIFO read) ends the test too
        preexec_fn=_limits(file_bytes),
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file's bytes and modification time, to show a refused command wrote nothing."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and ".git" not in path.parts:
            out[str(path.relative_to(folder))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def assert_refused(result: subprocess.CompletedProcess[str], *named: str) -> None:
    """Exit 2, every expected text (file, key path, value) in the output, and no traceback."""
    output = result.stderr + result.stdout
    assert "Traceback" not in output, output
    assert result.returncode == 2, (result.returncode, output[-2000:])
    for text in named:
        assert text in output, (text, output[-2000:])


def alias_bomb(levels: int = 9, width: int = 9) -> list[str]:
    """YAML lines (indented for `config:`) that define anchors a0..a<levels-1>, each `width` aliases of the
    one before: a few hundred bytes that stand for width**levels strings."""
    lines = [f"  bomb0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"  bomb{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return lines
