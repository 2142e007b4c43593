"""The scope catalogue (`scopes/catalogue.yaml`) and the scope sets (`scopes/sets/*.yaml`).

The catalogue is the only place a permission GUID is written down; scope sets and stack files
name scopes by their value (`SMTP.Send`), and everything else looks the GUID up here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mailoauth.base import yamlio
from mailoauth.base.keyspec import Key, check_fields
from mailoauth.base.problems import Problems, did_you_mean, quoted, raise_if_errors
from mailoauth.base.tree import Tree
from mailoauth.desired.model import GUID_PATTERN
from mailoauth.desired.products import Product, load_products

CATALOGUE_FILE = "scopes/catalogue.yaml"
SETS_DIR = "scopes/sets"
ALWAYS_SET = "general"
ACCESS = ("identity", "read", "write", "send")
AUDIENCES = ("oidc", "graph", "outlook", "ews")
PROTOCOLS = ("imap", "pop", "smtp", "graph", "ews")

# The shape of the two kinds of file, for the JSON Schemas in schema/ (`mailoauth schema`).
SCOPE_FIELDS = (
    Key("id", "string", "Permission GUID, as Entra stores it in requiredResourceAccess.", True, pattern=GUID_PATTERN),
    Key("adminConsent", "bool", "Whether Microsoft requires an admin to consent to it.", True),
    Key("access", "enum", "What it lets the app do with mail.", True, choices=ACCESS),
    Key("audience", "enum", "Token audience a mail client requests it under.", True, choices=AUDIENCES),
    Key("protocol", "enum", "The mail protocol it serves.", choices=PROTOCOLS),
    Key("source", "string", "Where the GUID and the consent flag were confirmed."),
)
RESOURCE_FIELDS = (
    Key("name", "string", "Display name of the resource application (default: its key)."),
    Key("appId", "string", "The resource application's appId.", True, pattern=GUID_PATTERN),
    Key("scopes", "map", "Delegated scopes by value; names are unique across resources.", True, fields=SCOPE_FIELDS),
)
CATALOGUE_KEYS = (
    Key(
        "resources",
        "map",
        "Resource applications (Microsoft Graph, Exchange Online) by key.",
        True,
        fields=RESOURCE_FIELDS,
    ),
)
SCOPE_SET_KEYS = (
    Key("description", "string", "What the set is for; shown to reviewers."),
    Key("includes", "strings", "Other scope sets whose scopes this set adds.", default=[]),
    Key("scopes", "strings", "Scope names from scopes/catalogue.yaml.", default=[]),
)


@dataclass(frozen=True)
class Scope:
    value: str
    id: str
    resource_key: str
    resource_name: str
    resource_app_id: str
    admin_consent: bool
    access: str
    audience: str
    protocol: str | None
    source: str


@dataclass(frozen=True)
class ScopeSet:
    name: str
    description: str
    includes: tuple[str, ...]
    scopes: tuple[str, ...]
    file: str


@dataclass(frozen=True)
class Catalogue:
    scopes: dict[str, Scope]
    sets: dict[str, ScopeSet]
    products: dict[str, Product] = field(default_factory=dict)  # products/*.yaml by file name
    # What one combination of set and scope names expands to, computed once: a fleet's thousands of
    # apps ask for a handful of combinations (expansion.app_permissions, rules.declaration).
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def by_id(self) -> dict[tuple[str, str], Scope]:
        """(resource appId, permission id), both lower case -> the scope: how Entra names a permission."""
        return {(s.resource_app_id.lower(), s.id): s for s in self.scopes.values()}

    def resource_name(self, app_id: str) -> str | None:
        """The catalogue's name for a resource application, None when it lists no scope of it."""
        return next((s.resource_name for s in self.scopes.values() if s.resource_app_id == app_id), None)

    def expand(self, set_name: str) -> list[str]:
        """The set's scope names with its includes, depth first, each once (cycles are rejected at load)."""
        seen: dict[str, None] = {}
        for name in self._set_closure(set_name):
            seen.update(dict.fromkeys(self.sets[name].scopes))
        return list(seen)

    def _set_closure(self, set_name: str) -> list[str]:
        """The set and every set it includes, depth first, each once; iterative, so any chain length is fine."""
        names: dict[str, None] = {}
        todo = [set_name]
        while todo:
            name = todo.pop()
            if name not in names:
                names[name] = None
                todo += reversed(self.sets[name].includes)
        return list(names)

    def closure(self, set_names: list[str]) -> list[str]:
        """Every set reached from `set_names` through includes, in first-seen order."""
        out: dict[str, None] = {}
        for name in set_names:
            out.update(dict.fromkeys(self._set_closure(name)))
        return list(out)


def load(tree: Tree) -> Catalogue:
    """Read and check the catalogue and every scope set; InvalidInput lists all problems found."""
    scopes, problems = _load_scopes(tree)
    raise_if_errors(problems)  # sets are checked against a sound catalogue only, so errors do not cascade
    sets, set_problems = _load_sets(tree, scopes)
    raise_if_errors(set_problems)
    profiles, product_problems = load_products(tree, sets, scopes)
    raise_if_errors(product_problems)
    return Catalogue(scopes, sets, profiles)


def _load_scopes(tree: Tree) -> tuple[dict[str, Scope], list]:
    text = tree.read_text(CATALOGUE_FILE)
    found = Problems(CATALOGUE_FILE)
    if text is None:
        found.error((), "the scope catalogue is missing", hint="restore scopes/catalogue.yaml from the repository")
        return {}, found.items
    values = check_fields(found, (), yamlio.load(text, CATALOGUE_FILE), CATALOGUE_KEYS)
    scopes: dict[str, Scope] = {}
    ids: dict[str, str] = {}
    for rkey, res in (values.get("resources") or {}).items():
        for value, entry in (res.get("scopes") or {}).items():
            scope = _scope(str(value), entry, rkey, res.get("name") or rkey, res.get("appId"))
            if scope is not None:
                _add_scope(found, ("resources", rkey, "scopes", value), scope, scopes, ids)
    return scopes, yamlio.with_lines(found.items, text)


def _scope(value: str, entry: dict[str, Any], rkey: str, rname: str, app_id: str | None) -> Scope | None:
    """The scope from its checked fields; None when a required one did not pass (its problem is recorded)."""
    if app_id is None or any(entry.get(k.name) is None for k in SCOPE_FIELDS if k.required):
        return None
    return Scope(
        value,
        entry["id"].lower(),
        rkey,
        rname,
        app_id,
        entry["adminConsent"],
        entry["access"],
        entry["audience"],
        entry.get("protocol"),
        entry.get("source") or "",
    )


def _add_scope(found: Problems, path: tuple, scope: Scope, scopes: dict[str, Scope], ids: dict[str, str]) -> None:
    if scope.value in scopes:
        found.error(path, "scope name is already defined", scope.value, hint="scope names must be unique")
    elif scope.id in ids:
        found.error((*path, "id"), f"GUID is already used by '{ids[scope.id]}'", scope.id)
    else:
        scopes[scope.value] = scope
        ids[scope.id] = scope.value


def _load_sets(tree: Tree, scopes: dict[str, Scope]) -> tuple[dict[str, ScopeSet], list]:
    sets: dict[str, ScopeSet] = {}
    problems: list = []
    for fname in tree.list_dir(SETS_DIR):
        if not fname.endswith((".yaml", ".yml")):
            continue
        file = f"{SETS_DIR}/{fname}"
        text = tree.read_text(file) or ""
        found = Problems(file)
        doc = yamlio.load(text, file)
        name = fname.rsplit(".", 1)[0]
        sets[name] = _scope_set(found, name, doc, scopes)
        problems += yamlio.with_lines(found.items, text)
    problems += _check_includes(sets)
    return sets, problems


def _scope_set(found: Problems, name: str, doc: Any, scopes: dict[str, Scope]) -> ScopeSet:
    values = check_fields(found, (), doc, SCOPE_SET_KEYS)
    names = values.get("scopes") or []
    for i, value in enumerate(names):
        if value not in scopes:
            found.error(
                ("scopes", i),
                f"unknown scope '{value}'",
                value,
                hint=did_you_mean(value, scopes) or f"add it to {CATALOGUE_FILE} first",
            )
    includes = values.get("includes") or []
    return ScopeSet(name, values.get("description") or "", tuple(includes), tuple(names), found.file)


def _check_includes(sets: dict[str, ScopeSet]) -> list:
    problems: list = []
    for s in sets.values():
        found = Problems(s.file)
        for i, inc in enumerate(s.includes):
            if inc not in sets:
                found.error(("includes", i), f"unknown scope set {quoted(inc)}", inc, hint=did_you_mean(inc, sets))
            elif _reaches(sets, inc, s.name):
                found.error(("includes", i), f"including {quoted(inc)} makes a cycle back to {quoted(s.name)}", inc)
        problems += found.items
    return problems


def _reaches(sets: dict[str, ScopeSet], start: str, target: str) -> bool:
    """Whether `target` is `start` or is included from it, through any number of sets (no recursion)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name == target:
            return True
        if name not in seen and name in sets:
            seen.add(name)
            todo += sets[name].includes
    return False
