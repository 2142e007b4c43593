"""Every value `verify` must never print, and the one function all its output goes through."""

from __future__ import annotations

from mailoauth.graph.errors import redact as redact_known

MIN_LENGTH = 8  # shorter values (a user code, a port) would blank out ordinary words


class Redactor:
    """Collects the client secret, codes and tokens as they appear; `__call__` blanks them out of text."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, *values: str | None) -> None:
        self._values.update(v for v in values if v and len(v) >= MIN_LENGTH)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "[redacted]")
        return redact_known(text)
