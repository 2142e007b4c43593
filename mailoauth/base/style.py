"""How text reaches a person: counted nouns with correct plurals, and colour on a terminal.

Colour marks risk and status (high risk, FAIL, expired in red; medium, SKIP, expiring in yellow; PASS
and ok in green). It is used only when the output stream is a terminal, `NO_COLOR` is unset or empty
(https://no-color.org) and TERM is not `dumb`; pipes, files and CI logs get plain text.
"""

from __future__ import annotations

import os
from typing import TextIO

RESET = "\033[0m"
CODES = {"red": "\033[1;31m", "yellow": "\033[33m", "green": "\033[32m"}
# Words the reports print -> their colour.
TONES = {
    "high": "red",
    "fail": "red",
    "failed": "red",
    "expired": "red",
    "medium": "yellow",
    "warn": "yellow",
    "skip": "yellow",
    "expiring": "yellow",
    "pass": "green",
    "ok": "green",
}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 app registration`, `2 app registrations`, `1 consent grant`, `0 mailboxes` (give irregular plurals)."""
    return f"{n} {word(n, noun, plural)}"


def word(n: int, noun: str, plural: str | None = None) -> str:
    """`noun` for one, its plural otherwise, without the number: `redirect URI` / `redirect URIs`,
    `stays` / `stay` (a verb's forms given as noun and plural)."""
    return noun if n == 1 else plural or noun + "s"


def colour_on(stream: TextIO) -> bool:
    """Whether `stream` gets colour: a terminal, NO_COLOR unset or empty, TERM not dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, word: str, on: bool) -> str:
    """`text` in the colour of `word` (a risk level or status) when `on`; unknown words stay plain."""
    tone = TONES.get(word.strip().lower())
    return f"{CODES[tone]}{text}{RESET}" if on and tone else text
