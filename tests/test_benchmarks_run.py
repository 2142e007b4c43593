"""Every script under benchmarks/ runs on the current code, at its smallest size (figures are not checked).

A benchmark that no longer runs (a changed signature, a synthetic project the rules now refuse) fails here
instead of on the day someone wants its figures. Speed targets stay in the benchmarks, never in tests.

The scripts that start the fake cloud (audit, consent, verify) take 3-5 s each even at one app, most of it
msgraph's imports and the fake servers' start; they run all the same, since a skipped one would let its
breakage through.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# script -> (tiny arguments, a line its output must contain)
TINY = {
    "bench_audit.py": (["1"], "displayName"),
    "bench_consent.py": (["1"], "revoke --all"),
    "bench_core.py": (["--apps", "2", "--repeat", "1"], "apps: 2 (7 resources under mocks), best of 1"),
    "bench_diff.py": (["--stacks", "2", "--apps", "2", "--repeat", "1"], "repository: 2 stacks x 2 apps; best of 1"),
    "bench_fleet.py": (
        ["--stacks", "4", "--apps", "5", "--repeat", "1", "--memory-stacks", "2"],
        "4 stacks x 5 apps; best of 1",
    ),
    "bench_guardrails.py": (["--stacks", "2", "--apps", "1", "--repeat", "1"], "synthetic project: 2 stacks x 1 apps"),
    "bench_products.py": (["--stacks", "2", "--apps", "1", "--repeat", "1"], "over 2 apps"),
    "bench_secrets.py": (
        ["--stacks", "2", "--apps", "1", "--big", "2", "--repeat", "1"],
        "report: 3 stacks, 4 secret slots, best of 1",
    ),
    "bench_startup.py": (["--repeat", "1"], "bare import yaml"),
    "bench_verify.py": (["--repeat", "1"], "warm process (the steps alone)"),
}


def test_every_benchmark_is_listed() -> None:
    assert sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py")) == sorted(TINY)


@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs_at_tiny_size(script: str) -> None:
    args, expected = TINY[script]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert expected in done.stdout, done.stdout
