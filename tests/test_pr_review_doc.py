"""docs/pr-review.md shows what `mailoauth diff` prints for a real change; this test keeps it true.

To regenerate the examples after a change to the tool or the example stacks:

    MAILOAUTH_UPDATE_DOCS=1 python -m pytest tests/test_pr_review_doc.py
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from mailoauth import cli
from tests.gitrepo import GitRepo
from tests.projectcopy import ROOT

DOC = ROOT / "docs" / "pr-review.md"


def example_change(repo: GitRepo) -> None:
    """A PR with one change of each kind a reviewer weighs: a security risk (shared-mailbox send on the SaaS
    app), a rotation (a second prod secret slot next to the one in use, as `secrets rotate` writes it), a
    disaster-recovery callback on the prod outbound app and an outage risk (the dev app loses SMTP)."""
    repo.edit(
        "stacks/Pulumi.saas.yaml",
        "      scopeSets: [graph-read]\n      scopes: [Mail.Send]\n",
        "      scopeSets: [graph-read, graph-send-shared]\n",
    )
    repo.edit(
        "stacks/Pulumi.prod.yaml",
        "      secret: {description: jira-prod-in, expires: 2027-10-31}\n",
        "      secrets:\n"
        "        - {name: secret, description: jira-prod-in, expires: 2027-10-31}\n"
        "        - {name: secret-2027-11-27, description: jira-prod-in, expires: 2027-11-27}\n",
    )
    repo.edit(
        "stacks/Pulumi.prod.yaml",
        "      useCases: [send-smtp]\n      redirectUris: [https://jira.example.com/plugins/servlet/oauth2/callback]",
        "      useCases: [send-smtp]\n"
        "      redirectUris:\n"
        "        - https://jira.example.com/plugins/servlet/oauth2/callback\n"
        "        - https://jira-dr.example.com/plugins/servlet/oauth2/callback",
    )
    repo.edit("stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap]")


def render(repo: GitRepo, fmt: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["-C", str(repo.path), "diff", "--base", "main", "--format", fmt])
    assert code == 0
    return out.getvalue()


def section(name: str, text: str, doc: str) -> str:
    begin, end = f"<!-- example:{name}:begin -->\n", f"<!-- example:{name}:end -->"
    return re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + text + end, doc, flags=re.S)


def test_doc_shows_the_tools_output_for_the_example_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")
    repo = GitRepo(tmp_path / "project")
    repo.commit("examples")
    example_change(repo)
    comment, terminal = render(repo, "markdown"), render(repo, "text")
    doc = DOC.read_text(encoding="utf-8")
    expected = section(
        "terminal", f"```text\n$ mailoauth diff --base main\n{terminal}```\n", section("comment", comment, doc)
    )
    if os.environ.get("MAILOAUTH_UPDATE_DOCS"):
        DOC.write_text(expected, encoding="utf-8")
        doc = expected
    assert doc == expected, (
        "docs/pr-review.md is out of date: MAILOAUTH_UPDATE_DOCS=1 pytest tests/test_pr_review_doc.py"
    )
    assert comment.startswith("**mailoauth diff**: 4 apps changed in 3 of 3 stacks")
