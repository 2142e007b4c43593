"""What judging a stack file needs besides the file: the catalogue, today's date and the rules' guard.

`ProjectContext` is the one object `build_stack`, `check_stacks` and the round-trip edits take for it;
`utc_today` is the date everything that checks an expiry or a lifetime counts from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from mailoauth.base.problems import CommandError
from mailoauth.desired.catalogue import Catalogue
from mailoauth.guardrails import rules

LAST_PINNED_YEAR = date.max.year - 100  # spans of up to 100 years are added to today


def utc_today() -> date:
    """Today in UTC; MAILOAUTH_TODAY (YYYY-MM-DD) pins it for reproducible CI runs and tests."""
    pinned = os.environ.get("MAILOAUTH_TODAY")
    if not pinned:
        return datetime.now(timezone.utc).date()
    try:
        day = date.fromisoformat(pinned)
    except ValueError:
        raise CommandError(f"MAILOAUTH_TODAY: {pinned!r} is not a date (YYYY-MM-DD); unset it to use today") from None
    if day.year > LAST_PINNED_YEAR:  # lifetimes and report windows of up to 100 years are added to it
        raise CommandError(f"MAILOAUTH_TODAY: {pinned} is after {LAST_PINNED_YEAR}; unset it to use today")
    return day


@dataclass(frozen=True)
class ProjectContext:
    """What judging a stack file needs besides the file: one object for build_stack, check_stacks and the edits.

    `guard` carries the project's rule levels and the other stacks' callback URIs (`project_guard`); None
    runs the rules at their default levels in `build_stack`, and makes `check_stacks` read policy/rules.yaml.
    `check_expiry=False` accepts expired (or too distant) secret expiries, so that `secrets report`
    and `secrets rotate` can read a stack whose secret has already expired; everything else is checked.
    """

    catalogue: Catalogue
    today: date = field(default_factory=utc_today)
    guard: rules.Guard | None = None
    check_expiry: bool = True
