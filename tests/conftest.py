from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

pytest_plugins = ["tests.fakes.fixtures", "tests.verify_world"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """The project's scopes and example stacks committed on `main`; tests change the working tree."""
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")
    r = GitRepo(tmp_path / "project")
    r.commit("examples")
    return r
