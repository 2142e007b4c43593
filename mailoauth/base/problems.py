"""Problems found in user input, reported all at once and never as a traceback.

Every problem names the file, the key path inside it and the offending value, so a user can fix
the input without reading this project's code. The same objects feed the CLI (exit status 2),
the Pulumi program (`pulumi.RunError`) and the policy pack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from mailoauth.base.style import count

Severity = Literal["error", "warning"]
KeyPath = tuple[str | int, ...]
# Control characters in a value or key are shown escaped: a problem is one line, and a value holding a
# newline cannot print a line of its own (a forged "error:" or PR comment line). Besides C0 and DEL this
# covers C1 (NEL, U+0085, ends a line for str.splitlines) and the Unicode line and paragraph separators.
ONE_LINE = {i: repr(chr(i))[1:-1] for i in (*range(32), *range(127, 160), 0x2028, 0x2029)}


def quoted(name: object) -> str:
    """A name from the input, quoted inside a message the way `Problem.shown_value` shows a value:
    control and other unprintable characters escaped (`unknown product '\\x1b'`)."""
    return repr(name if isinstance(name, str) else str(name))


def format_path(path: KeyPath) -> str:
    """`('config', 'mailoauth:apps', 'x', 'scopes', 0)` -> `config.mailoauth:apps.x.scopes[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Problem:
    file: str
    path: KeyPath
    message: str
    value: object = None
    hint: str | None = None
    severity: Severity = "error"
    rule: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{self.severity}: {where}: {format_path(self.path) or '(file)'}: {self.message}"
        shown = self.shown_value
        if shown is not None:
            text += f" (got {shown})"
        if self.hint:
            text += f"; {self.hint}"
        if self.rule:
            text += f" (rule {self.rule})"
        return text.translate(ONE_LINE)

    @property
    def shown_value(self) -> str | None:
        """The offending value, when it is a short scalar the message does not already quote."""
        if not isinstance(self.value, (str, int, float, date)):  # a mapping or list may be huge: never stringified
            return None
        if isinstance(self.value, str) and len(self.value) > 80:
            return None
        text = self.value.isoformat() if isinstance(self.value, date) else str(self.value)
        if len(text) > 80 or quoted(text) in self.message or f"(got {text})" in self.message:
            return None
        if len(text) > 3 and text in self.message:
            return None
        return repr(text) if isinstance(self.value, str) else text

    def as_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "path": format_path(self.path),
            "message": self.message,
            "value": self.shown_value,
            "hint": self.hint,
            "rule": self.rule,
        }


@dataclass
class Problems:
    """Collects problems for one file so that validation can report everything in one pass."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def error(
        self, path: KeyPath, message: str, value: object = None, hint: str | None = None, rule: str | None = None
    ) -> None:
        self.items.append(Problem(self.file, path, message, value, hint, "error", rule))

    def warn(
        self, path: KeyPath, message: str, value: object = None, hint: str | None = None, rule: str | None = None
    ) -> None:
        self.items.append(Problem(self.file, path, message, value, hint, "warning", rule))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]


class InvalidInput(Exception):
    """Raised with every error found; carries the warnings too so nothing is lost."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(f"{count(len(errors), 'error')}:\n" + "\n".join(str(p) for p in errors))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class CommandError(Exception):
    """A command could not finish for a reason outside the project's files (credentials, access, a
    service's answer); its message is one line that says what to do, and the CLI exits 2."""


def raise_if_errors(problems: Iterable[Problem]) -> None:
    problems = list(problems)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(problems)


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """A suggestion for a misspelt name, case-insensitive first ('SMTP.send' -> 'SMTP.Send'); none for a
    value that is not a short string (comparing a huge one would take long)."""
    import difflib

    if not isinstance(word, str) or len(word) > 100:
        return None
    choices = list(choices)
    folded = {c.casefold(): c for c in choices}
    if word.casefold() in folded:
        return f"did you mean '{folded[word.casefold()]}'?"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
