"""adoption: the pure steps that turn a portal-made registration into a stack entry."""

from __future__ import annotations

import pytest

from mailoauth.tenant.adoption import default_key, scope_sets
from tests.unit.desired import CATALOGUE

GENERAL = ["offline_access", "openid", "email", "profile"]


@pytest.mark.parametrize(
    ("display_name", "key"),
    [
        ("Jira Mail (prod)", "jira-mail-prod"),
        ("  Zammad -- Helpdesk  ", "zammad-helpdesk"),
        ("Ünïcode only ©", "n-code-only"),
        ("!!!", "app"),
        ("x" * 80, "x" * 63),
    ],
)
def test_default_key(display_name: str, key: str) -> None:
    assert default_key(display_name) == key


SETS = {
    "IMAP with the general scopes": (
        [*GENERAL, "IMAP.AccessAsUser.All"],
        (["imap"], []),
    ),
    "IMAP and SMTP": ([*GENERAL, "IMAP.AccessAsUser.All", "SMTP.Send"], (["imap", "smtp"], [])),
    "a scope no set holds alone": (["User.Read", *GENERAL, "IMAP.AccessAsUser.All"], (["imap"], ["User.Read"])),
    "only the general scopes": (GENERAL, ([], [])),
    "Mail.Send alone is graph-send (no EWS)": ([*GENERAL, "Mail.Send"], (["graph-send"], [])),
    "the wider set, not the one it contains": (
        [*GENERAL, "Mail.ReadWrite", "Mail.ReadWrite.Shared"],
        (["graph-read-shared"], []),
    ),
}


@pytest.mark.parametrize("case", SETS)
def test_scope_sets_wholly_present(case: str) -> None:
    present, expected = SETS[case]
    assert scope_sets(present, CATALOGUE) == expected
