"""Counts read as English for one and for two: `1 stack`, `2 stacks`, never `stack(s)`."""

from __future__ import annotations

import pytest

from mailoauth.base.problems import InvalidInput, Problem
from mailoauth.base.style import count, word
from mailoauth.review import fleet


def test_word_and_count() -> None:
    assert [word(1, "redirect URI"), word(2, "redirect URI"), word(0, "app role")] == [
        "redirect URI",
        "redirect URIs",
        "app roles",
    ]
    assert [word(1, "stays", "stay"), word(2, "stays", "stay")] == ["stays", "stay"]
    assert [count(1, "mailbox", "mailboxes"), count(2, "mailbox", "mailboxes")] == ["1 mailbox", "2 mailboxes"]


def test_job_list_for_one_stack_and_for_two() -> None:
    one = [{"name": "stacks 1-1 of 1", "stacks": ["dev"]}]
    assert fleet.render_jobs_text(one, []) == "1 stack in 1 chunk\n  stacks 1-1 of 1: dev\n"
    two = [{"name": "stacks 1-1 of 2", "stacks": ["dev"]}, {"name": "stacks 2-2 of 2", "stacks": ["prod"]}]
    assert fleet.render_jobs_text(two, []).splitlines()[0] == "2 stacks in 2 chunks"
    affected = {"stacks": [], "removed": []}
    assert fleet.render_jobs(["dev"], one, affected).splitlines()[0] == "## mailoauth: 1 stack to run in 1 chunk"


@pytest.mark.parametrize(
    ("attention", "stacks", "headline"),
    [
        (1, 1, "**1 of 1 stack needs a person**: 1 drifted, 0 with secrets due, 0 could not be checked."),
        (2, 3, "**2 of 3 stacks need a person**: 1 drifted, 0 with secrets due, 0 could not be checked."),
    ],
)
def test_fleet_report_headline(attention: int, stacks: int, headline: str) -> None:
    doc = {
        "needsAttention": attention,
        "stacks": stacks,
        "counts": {"drift": 1, "secretsDue": 0, "errors": 0},
        "results": [],
        "unexpected": [],
    }
    assert fleet.render_markdown(doc).splitlines()[2] == headline


def test_invalid_input_counts_its_errors() -> None:
    first = Problem("stacks/Pulumi.dev.yaml", ("config",), "bad")
    assert str(InvalidInput([first])).splitlines()[0] == "1 error:"
    assert str(InvalidInput([first, first])).splitlines()[0] == "2 errors:"
