"""The OData query subset Microsoft Graph supports on directory objects: $filter, $select, paging.

$filter: `eq`, `ne`, `in (...)` (at most 15 values, Graph's default limit), `and`, `or`, `not`,
parentheses and `startswith(prop,'x')`; string comparison is case-insensitive, as in the directory.
`ne` and `not` are advanced queries on directory objects: Graph takes them only with
`ConsistencyLevel: eventual` and `$count=true` (microsoft-graph-docs concepts/aad-advanced-queries.md).
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

MAX_IN_VALUES = 15
MAX_TOP = 999  # Graph's maximum page size for directory objects
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
        self.advanced = False  # uses an operator Graph supports only in advanced queries (ne, not)

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
        return self._joined("or", self._and, any)

    def _and(self) -> Predicate:
        return self._joined("and", self._factor, all)

    def _joined(self, word: str, operand: Callable[[], Predicate], combine: Callable[..., bool]) -> Predicate:
        """`operand (word operand)*`, e.g. `a eq 1 or b eq 2`."""
        parts = [operand()]
        while (self._peek() or "").lower() == word:
            self._take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else (lambda obj: combine(p(obj) for p in parts))

    def _factor(self) -> Predicate:
        tok = self._take()
        if tok.lower() == "not":
            self.advanced = True
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
            self.advanced = True
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


def parse_filter(text: str | None, advanced: bool = False) -> Predicate:
    """The predicate of a $filter; `advanced`: the request carries Graph's advanced query options."""
    if not text:
        return lambda obj: True
    parser = FilterParser(text)
    predicate = parser.parse()
    if parser.advanced and not advanced:
        raise ODataError(
            "Request_UnsupportedQuery",
            "Operators 'ne' and 'not' need the ConsistencyLevel header set to eventual and $count=true.",
        )
    return predicate


def select(obj: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Only the selected properties, as Graph returns them (no `id` unless asked for)."""
    if not fields:
        return obj
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {k: obj[k] for k in wanted if k in obj}


# The last path segment that names what a request returns -> the Graph v1.0 entity type of its items.
ENTITY_OF_SEGMENT = {
    "applications": "Application",
    "servicePrincipals": "ServicePrincipal",
    "oauth2PermissionGrants": "OAuth2PermissionGrant",
    "users": "User",
    "subscribedSkus": "SubscribedSku",
    "licenseDetails": "LicenseDetails",
    "authorizationPolicy": "AuthorizationPolicy",
    "microsoft.graph.directoryRole": "DirectoryRole",
    "graph.directoryRole": "DirectoryRole",
    "owners": "DirectoryObject",
}


def entity_of(path: str) -> str | None:
    """The entity type a Graph path returns (`/v1.0/users/x/licenseDetails` -> LicenseDetails), if known."""
    for segment in reversed(path.split("/")):
        name = segment.split("(", 1)[0]
        if name in ENTITY_OF_SEGMENT:
            return ENTITY_OF_SEGMENT[name]
    return None


@functools.cache
def properties(entity: str) -> frozenset[str]:
    """The properties Graph v1.0 defines on an entity type, read from msgraph-sdk's models (generated from
    Graph's v1.0 metadata): what `$select` may name."""
    module = importlib.import_module(f"msgraph.generated.models.{_snake(entity)}")
    return frozenset(getattr(module, entity)().get_field_deserializers()) - {"@odata.type"}


def _snake(name: str) -> str:
    return {"OAuth2PermissionGrant": "o_auth2_permission_grant"}.get(name) or re.sub(
        r"(?<!^)([A-Z])", r"_\1", name
    ).lower()


def check_query(path: str, query: dict[str, str]) -> None:
    """What Graph refuses in the query options of a read, before it looks at any object."""
    top = query.get("$top")
    if top is not None and (not top.isdigit() or not 1 <= int(top) <= MAX_TOP):
        raise ODataError(
            "Request_BadRequest", f"Invalid page size specified: '{top}'. Must be between 1 and {MAX_TOP}."
        )
    entity = entity_of(path)
    if entity and query.get("$select"):
        known = properties(entity)
        for name in (f.strip() for f in query["$select"].split(",")):
            if name and name not in known:
                raise ODataError(
                    "Request_BadRequest",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.{_lower_first(entity)}'.",
                )


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]
