"""The redirect URI check for whitespace and control characters catches every such character."""

from __future__ import annotations

import sys

import pytest

from mailoauth.project.redirects import redirect_uri_problems

MESSAGE = "redirect URI contains whitespace or control characters"


def test_the_space_is_the_only_printable_whitespace() -> None:
    """The check's premise, over every code point of this Python's Unicode database."""
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c.isprintable()] == [" "]


@pytest.mark.parametrize("c", [" ", "\t", "\n", "\u00a0", "\u2028", "\u200b", "\x00", "\x7f"])
def test_each_kind_is_reported(c: str) -> None:
    messages = [m for m, _ in redirect_uri_problems(f"https://jira.example.com/cb{c}x", False)]
    assert MESSAGE in messages


def test_a_plain_uri_is_not_reported() -> None:
    assert redirect_uri_problems("https://jira.example.com/plugins/servlet/oauth2/callback", False) == []
