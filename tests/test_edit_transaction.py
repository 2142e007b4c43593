"""The one edit transaction behind `secrets rotate`/`retire`, `adopt` and `scopes sync --write`:
concurrent runs, writers that take no lock, symlinks, read-only files, unwritable folders, full disks."""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path

import pytest

from mailoauth.base.problems import InvalidInput
from mailoauth.edit.transaction import Transaction
from tests.hostile import assert_refused, run_limited, start_limited
from tests.projectcopy import copy_project

PROD = "stacks/Pulumi.prod.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def rotate(project: Path, app: str, **kwargs) -> object:
    return run_limited("secrets", "rotate", "--stack", "prod", "--app", app, cwd=project, **kwargs)


def test_a_second_run_waits_for_the_first_and_builds_on_its_result(project: Path) -> None:
    """Run A holds the edit (here: this test, inside a transaction); run B starts meanwhile, waits, and then
    edits the file A wrote: both rotations end up in the file and both runs say so."""
    with Transaction(project, PROD) as tx:
        second = start_limited("secrets", "rotate", "--stack", "prod", "--app", "jira-mail-out", cwd=project)
        time.sleep(1.5)
        assert second.poll() is None, second.communicate()  # waiting for the lock, not finished
        first = tx.read().replace("jira-prod-in, expires: 2027-10-31", "jira-prod-in, expires: 2027-09-30")
        tx.replace(first)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    text = (project / PROD).read_text()
    assert "secret: {description: jira-prod-in, expires: 2027-09-30}" in text  # A's edit kept
    assert "- {name: secret-2027-11-27, description: jira-prod-out, expires: 2027-11-27}" in text  # and B's
    assert "+ jira-mail-out: added slot 'secret-2027-11-27' (expires 2027-11-27)" in out


def test_two_runs_at_once_both_land(project: Path) -> None:
    runs = [
        start_limited("secrets", "rotate", "--stack", "prod", "--app", app, cwd=project)
        for app in ("jira-mail-in", "jira-mail-out")
    ]
    for run in runs:
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
    text = (project / PROD).read_text()
    for description in ("jira-prod-in", "jira-prod-out"):  # the new slot of each app
        assert f"- {{name: secret-2027-11-27, description: {description}, expires: 2027-11-27}}" in text, text


def test_a_writer_without_the_lock_is_caught_before_the_replace(project: Path) -> None:
    with Transaction(project, PROD) as tx:
        tx.read()
        (project / PROD).write_text("# an editor saved this meanwhile\n")
        with pytest.raises(InvalidInput) as caught:
            tx.replace("config: {}\n")
    assert str(caught.value.problems[0]) == (
        "error: stacks/Pulumi.prod.yaml: (file): the file changed while this command was editing it; the file was "
        "not changed; run the command again on the new content"
    )
    assert (project / PROD).read_text() == "# an editor saved this meanwhile\n"


def test_a_symlinked_stack_file_is_edited_through_the_link(project: Path) -> None:
    shared = project / "shared"
    shared.mkdir()
    (project / PROD).rename(shared / "prod.yaml")
    (project / PROD).symlink_to("../shared/prod.yaml")
    result = rotate(project, "jira-mail-in")
    assert result.returncode == 0, result.stderr
    assert (project / PROD).is_symlink()
    assert "description: jira-prod-in, expires: 2027-11-27" in (shared / "prod.yaml").read_text()


def test_a_read_only_stack_file_is_refused(project: Path) -> None:
    (project / PROD).chmod(0o444)
    before = (project / PROD).read_bytes()
    assert_refused(
        rotate(project, "jira-mail-in"),
        "error: stacks/Pulumi.prod.yaml: (file): the file is read-only; the file was not changed; make it writable",
    )
    assert (project / PROD).read_bytes() == before


def test_a_full_disk_leaves_the_file_as_it_was(project: Path) -> None:
    before = (project / PROD).read_bytes()
    result = rotate(project, "jira-mail-in", file_bytes=64)  # any write past 64 bytes fails with EFBIG
    assert_refused(
        result,
        "error: stacks/Pulumi.prod.yaml: (file): there is no space left to write it; the file was not changed",
    )
    assert (project / PROD).read_bytes() == before
    assert sorted(p.name for p in (project / "stacks").iterdir()) == [
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.saas.yaml",
    ]  # no temporary file left behind


def test_a_folder_that_cannot_be_written(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root may write anywhere, so the refusal the kernel gives a user is played by mkstemp."""

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with Transaction(project, PROD) as tx, pytest.raises(InvalidInput) as caught:
        tx.replace(tx.read() + "# more\n")
    assert str(caught.value.problems[0]) == (
        f"error: stacks/Pulumi.prod.yaml: (file): the folder {project / 'stacks'} cannot be written (permission "
        "denied); the file was not changed; fix that, then run the command again"
    )


def test_a_dangling_symlink_is_refused(project: Path) -> None:
    (project / PROD).unlink()
    (project / PROD).symlink_to("nowhere.yaml")
    with Transaction(project, PROD) as tx, pytest.raises(InvalidInput) as caught:
        tx.read()
    assert "the file does not exist (or is a link to nothing)" in str(caught.value)
