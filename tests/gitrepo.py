"""Real git repositories in temporary folders, for `mailoauth diff` tests, docs and benchmarks.

Author, committer and dates are fixed, so commit ids (which the PR comment quotes) are the
same on every machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.projectcopy import copy_project

COMMIT_DATE = "2026-11-01T12:00:00+00:00"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Reviewer",
    "GIT_AUTHOR_EMAIL": "reviewer@example.com",
    "GIT_COMMITTER_NAME": "Reviewer",
    "GIT_COMMITTER_EMAIL": "reviewer@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


class GitRepo:
    """A project folder under git: write and edit files, commit, branch."""

    def __init__(self, path: Path, project_at: str = "."):
        """A new repository at `path` holding a copy of the project's data files at `project_at`."""
        self.path = path
        self.project = path / project_at
        copy_project(
            self.project, "Pulumi.yaml", "scopes", "stacks", "policy/rules.yaml"
        )  # rules: the guardrails' levels
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str, date: str = COMMIT_DATE) -> str:
        env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        """Replace text that must be there, so a test cannot silently change nothing."""
        text = self.read(rel)
        assert old in text, f"{old!r} not in {rel}"
        self.write(rel, text.replace(old, new))

    def commit(self, message: str, date: str = COMMIT_DATE) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")
