"""GitTree: the project's files at a git revision, read through a single `git cat-file --batch` process."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from mailoauth.base.problems import InvalidInput
from mailoauth.base.tree import GitTree, RevisionError
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from tests.gitrepo import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "project")
    r.commit("examples", date="2026-10-31T23:30:00-02:00")  # 2026-11-01 01:30 UTC
    return r


def test_reads_the_revision_not_the_working_tree(repo: GitRepo) -> None:
    committed = repo.read("stacks/Pulumi.dev.yaml")
    repo.write("stacks/Pulumi.dev.yaml", "changed in the working tree\n")
    repo.write("stacks/Pulumi.new.yaml", "not committed\n")
    with GitTree(repo.path, "main") as tree:
        assert tree.read_text("stacks/Pulumi.dev.yaml") == committed
        assert tree.list_dir("stacks") == ["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.saas.yaml"]
        assert tree.read_text("stacks/Pulumi.new.yaml") is None
        assert tree.list_dir("no-such-folder") == []
        assert tree.read_text("stacks") is None  # a folder is not a file
        assert (tree.label, tree.commit, tree.commit_date) == (
            "base main",
            repo.git("rev-parse", "main"),
            date(2026, 11, 1),
        )


def test_lists_files_and_links_not_folders_and_refuses_to_read_a_link(repo: GitRepo) -> None:
    repo.write("stacks/nested/Pulumi.inner.yaml", "config: {}\n")
    (repo.path / "stacks" / "Pulumi.link.yaml").symlink_to("Pulumi.dev.yaml")
    repo.commit("nested folder and a symlink")
    with GitTree(repo.path, "HEAD", "head") as tree:
        listed = tree.list_dir("stacks")
        assert listed == ["Pulumi.dev.yaml", "Pulumi.link.yaml", "Pulumi.prod.yaml", "Pulumi.saas.yaml"]
        assert tree.label == "head HEAD"
        with pytest.raises(InvalidInput, match="the file is a symbolic link at HEAD"):
            tree.read_text("stacks/Pulumi.link.yaml")


def test_project_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo", project_at="infra/mail")
    repo.commit("project in a subfolder")
    with GitTree(repo.project, "main") as tree:
        stacks = loader.load_stacks(tree, ProjectContext(catalogue.load(tree), date(2026, 11, 27)))
    assert sorted(stacks) == ["dev", "prod", "saas"]


def test_one_git_process_for_a_whole_revision(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def counting_popen(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        started.append(list(args))
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    with GitTree(repo.path, "main") as tree:
        stacks = loader.load_stacks(tree, ProjectContext(catalogue.load(tree), date(2026, 11, 27)))
    assert len(stacks) == 3
    assert started == [["git", "-C", str(repo.path), "cat-file", "--batch"]]


def test_many_files_are_fetched_in_batches(repo: GitRepo) -> None:
    """More requests than one batch holds, so the pipelining cannot deadlock or lose an answer."""
    for i in range(600):
        repo.write(f"stacks/Pulumi.s{i:03}.yaml", f"# stack {i}\n")
    repo.commit("many stacks")
    with GitTree(repo.path, "main") as tree:
        names = tree.list_dir("stacks")
        assert len(names) == 603
        assert tree.read_text("stacks/Pulumi.s599.yaml") == "# stack 599\n"
        assert tree.read_text("stacks/Pulumi.s000.yaml") == "# stack 0\n"


def test_non_utf8_file_is_invalid_input(repo: GitRepo) -> None:
    (repo.path / "stacks" / "Pulumi.dev.yaml").write_bytes(b"config:\n  x: \xff\xfe\n")
    repo.commit("latin-1 bytes")
    with GitTree(repo.path, "main") as tree, pytest.raises(InvalidInput) as caught:
        tree.read_text("stacks/Pulumi.dev.yaml")
    assert str(caught.value.problems[0]) == (
        "error: stacks/Pulumi.dev.yaml:2: (file): the file is not UTF-8 text (byte 0xff); save it as UTF-8"
    )


@pytest.mark.parametrize("rev", ["no-such-branch", "main:stacks", "", " main", "main\nHEAD"])
def test_unknown_revisions(repo: GitRepo, rev: str) -> None:
    with pytest.raises(RevisionError) as caught:
        GitTree(repo.path, rev)
    assert str(caught.value) in (f"unknown revision '{rev}'", f"unknown revision {rev!r}")
