"""An app's permissions: its `scopeSets` and `scopes` expanded through the catalogue, less the members of the
always-added set that its `omitScopes` names.

The same names expand the same way in every app, so each combination is expanded once per catalogue
(`Catalogue.memo`); `diff` expands the apps a change under scopes/ reaches with the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from mailoauth.base.problems import KeyPath, Problems, did_you_mean, quoted
from mailoauth.desired.catalogue import ALWAYS_SET, Catalogue
from mailoauth.desired.model import Permission

PERMISSION_KEYS = ("scopeSets", "scopes", "omitScopes")  # all an app's permissions depend on


@dataclass(frozen=True)
class Expansion:
    """An app's permissions in the order its sets ask for them, the sets they come from, and the same
    permissions in registration order (by resource, then name)."""

    permissions: tuple[Permission, ...]
    sets: tuple[str, ...]
    ordered: tuple[Permission, ...]

    @cached_property
    def audiences(self) -> list[str]:
        """The token audiences the permissions need (User.Read alone asks for no token)."""
        return sorted({p.audience for p in self.permissions if p.protocol})

    @cached_property
    def per_resource(self) -> dict[str, int]:
        """How many permissions the app asks of each resource."""
        counts: dict[str, int] = {}
        for p in self.permissions:
            counts[p.resource] = counts.get(p.resource, 0) + 1
        return counts


def app_permissions(found: Problems, path: KeyPath, v: dict[str, Any], catalogue: Catalogue) -> Expansion:
    """An app's permissions from its `scopeSets` and `scopes`, and every set they reach; unknown names go to `found`.

    The same names expand the same way in every app, so each combination is expanded once per catalogue;
    the expansion sees only PERMISSION_KEYS, which make up the key it is remembered by.
    """
    given = {k: v[k] for k in PERMISSION_KEYS if k in v}
    key = ("permissions", *(tuple(given.get(k) or ()) for k in PERMISSION_KEYS))
    held = catalogue.memo.get(key)
    if held is None:
        before = len(found.items)
        permissions, sets = _app_permissions(found, path, given, catalogue)
        held = Expansion(tuple(permissions), tuple(sets), tuple(sorted(permissions, key=lambda p: p.sort_key)))
        if len(found.items) == before:  # problems name this app's keys: only a clean expansion is shared
            catalogue.memo[key] = held
    return held


def _app_permissions(
    found: Problems, path: KeyPath, v: dict[str, Any], catalogue: Catalogue
) -> tuple[list[Permission], list[str]]:
    asked = [ALWAYS_SET, *(s for s in v.get("scopeSets") or () if s != ALWAYS_SET)]
    known = [s for s in asked if s in catalogue.sets]
    omitted = _omitted(found, path, v.get("omitScopes") or [], catalogue)
    for i, name in enumerate(v.get("scopeSets") or ()):
        if name not in catalogue.sets:
            found.error(
                (*path, "scopeSets", i),
                f"unknown scope set {quoted(name)}",
                name,
                hint=did_you_mean(name, catalogue.sets) or f"sets: {', '.join(sorted(catalogue.sets))}",
            )
    names: list[str] = []
    for set_name in known:
        left_out = omitted if set_name == ALWAYS_SET else set()
        names += [n for n in catalogue.expand(set_name) if n not in names and n not in left_out]
    for i, name in enumerate(v.get("scopes") or ()):
        if name not in catalogue.scopes:
            found.error(
                (*path, "scopes", i),
                f"unknown scope {quoted(name)}",
                name,
                hint=did_you_mean(name, catalogue.scopes) or "add it to scopes/catalogue.yaml first",
            )
        elif name not in names:
            names.append(name)
    return [_permission(catalogue.scopes[n]) for n in names], catalogue.closure(known)


def _omitted(found: Problems, path: KeyPath, omit: list[str], catalogue: Catalogue) -> set[str]:
    """`omitScopes`: members of the always-added set only; another set or `scopes:` may still ask for them."""
    general = catalogue.expand(ALWAYS_SET) if ALWAYS_SET in catalogue.sets else []
    for i, name in enumerate(omit):
        if name not in general:
            found.error(
                (*path, "omitScopes", i),
                f"{quoted(name)} is not in the {ALWAYS_SET} set",
                name,
                hint=f"only {', '.join(general)} can be left out",
            )
    return set(omit)


def _permission(scope: Any) -> Permission:
    return Permission(
        scope.resource_key,
        scope.resource_name,
        scope.resource_app_id,
        scope.value,
        scope.id,
        scope.admin_consent,
        scope.access,
        scope.audience,
        scope.protocol,
    )
