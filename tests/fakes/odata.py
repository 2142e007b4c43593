"""The OData query subset Microsoft Graph supports on directory objects: $filter, $select, paging.

$filter: `eq`, `ne`, `in (...)` (at most 15 values, Graph's default limit), `and`, `or`, `not`,
parentheses and `startswith(prop,'x')`; string comparison is case-insensitive, as in the directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MAX_IN_VALUES = 15
TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w./@-]*|-?\d+))")

Predicate = Callable[[dict[str, Any]], bool]


class ODataError(ValueError):
    """A query Graph would refuse; `code` is Graph's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def tokenize(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ODataError("BadRequest", f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        out.append(m.group(m.lastgroup or "word"))
        pos = m.end()
    return out


class FilterParser:
    """Recursive descent over the tokens; builds a predicate on a Graph JSON object."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def parse(self) -> Predicate:
        pred = self._or()
        if self.pos != len(self.tokens):
            self._fail()
        return pred

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        tok = self._peek()
        if tok is None or (expected is not None and tok.lower() != expected):
            self._fail()
        self.pos += 1
        return tok  # type: ignore[return-value]

    def _fail(self) -> None:
        raise ODataError("BadRequest", f"Invalid filter clause: '{self.text}'.")

    def _or(self) -> Predicate:
        parts = [self._and()]
        while (self._peek() or "").lower() == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda obj: any(p(obj) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._factor()]
        while (self._peek() or "").lower() == "and":
            self._take()
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else (lambda obj: all(p(obj) for p in parts))

    def _factor(self) -> Predicate:
        tok = self._take()
        if tok.lower() == "not":
            inner = self._factor()
            return lambda obj: not inner(obj)
        if tok == "(":
            inner = self._or()
            self._take(")")
            return inner
        if tok.lower() == "startswith":
            self._take("(")
            prop = self._take()
            self._take(",")
            prefix = literal(self._take())
            self._take(")")
            return lambda obj: str(obj.get(prop) or "").casefold().startswith(str(prefix).casefold())
        op = self._take().lower()
        if op == "in":
            values = self._list()
            return lambda obj: any(same(obj.get(tok), v) for v in values)
        value = literal(self._take())
        if op == "eq":
            return lambda obj: same(obj.get(tok), value)
        if op == "ne":
            return lambda obj: not same(obj.get(tok), value)
        raise ODataError("Request_UnsupportedQuery", f"Unsupported filter operator '{op}'.")

    def _list(self) -> list[Any]:
        self._take("(")
        values = [literal(self._take())]
        while self._peek() == ",":
            self._take()
            values.append(literal(self._take()))
        self._take(")")
        if len(values) > MAX_IN_VALUES:
            raise ODataError(
                "Request_UnsupportedQuery",
                f"Too many values in the 'in' operator: {len(values)}; at most {MAX_IN_VALUES} are supported.",
            )
        return values


def literal(tok: str) -> Any:
    if tok.startswith("'"):
        return tok[1:-1].replace("''", "'")
    lowered = tok.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if re.fullmatch(r"-?\d+", tok):
        return int(tok)
    raise ODataError("BadRequest", f"Invalid filter clause: '{tok}' is not a literal.")


def same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    return actual == expected


def parse_filter(text: str | None) -> Predicate:
    return FilterParser(text).parse() if text else (lambda obj: True)


def select(obj: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Only the selected properties, as Graph returns them (no `id` unless asked for)."""
    if not fields:
        return obj
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {k: obj[k] for k in wanted if k in obj}
