"""What a change to `stacks/` and `scopes/` does to each stack's desired state, rated for a reviewer.

The comparison runs on the models `plan` shows (built by `project.loader` at each revision), never on
YAML text: reordering, comments and equivalent spellings compare equal, and a change to a shared
scope set shows up in every app that uses it. Each change carries a risk level and the reason for
it, so the permission a helpdesk app gains is the first thing a security reviewer reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypedDict, cast

from mailoauth.base.problems import Problem
from mailoauth.base.style import count
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.endpoints import app_endpoints
from mailoauth.desired.exchange import exchange_online
from mailoauth.desired.model import App, Permission, SecretSlot, Stack
from mailoauth.guardrails import rules
from mailoauth.review.plan import permission_document

RISKS = ("low", "medium", "high")
# Two ways a change can hurt: it widens what the registration may do (security), or it stops something
# that works today (availability: the mail handler's secret, callback, permission, audience or endpoints).
AXES = ("security", "availability")
# Who can sign in under each audience; "home" is the stack's own tenant.
REACH = {
    "single-tenant": {"home"},
    "multi-tenant": {"home", "other tenants"},
    "multi-tenant-and-personal": {"home", "other tenants", "personal accounts"},
    "personal": {"personal accounts"},
}
PERMISSION_RISK = {
    "send": ("high", "sends mail as the signed-in user"),
    "write": ("high", "changes, moves or deletes mail"),
    "read": ("medium", "reads mail"),
    "identity": ("low", "sign-in and profile only"),
}
REPLACES = "replaces the registration: new client id and secret, users consent again"
HANDLER_SLOT = "the mail handler may still use it"
APPS_PATH = ("config", "mailoauth:apps")


class Outage(TypedDict, total=False):
    """The availability side of a change, passed to Change as keywords: its level and what may stop."""

    availability: str
    outage: str


@dataclass(frozen=True)
class Change:
    """One reviewable difference: `kind` is what changed, `action` how, `why` the reason for `risk` (security),
    `outage` the reason for `availability` (what may stop working)."""

    kind: str  # stack-level: tenant, cloud; app-level: app, audience, permission, redirectUri, secret, ...
    action: str  # added | removed | changed | rotated | renamed
    subject: str
    risk: str = "low"
    why: str = ""
    before: str | None = None
    after: str | None = None
    permission: dict[str, Any] | None = None
    availability: str = "low"
    outage: str | None = None

    def level(self, axis: str) -> str:
        return self.risk if axis == "security" else self.availability

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class AppDiff:
    key: str
    status: str  # added | removed | renamed | changed
    display_name: str
    changes: tuple[Change, ...]
    renamed_from: str | None = None
    scope_sets: tuple[str, ...] = ()
    admin_consent: bool = False
    warnings: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()  # what the mail handler's admin must change after pulumi up

    @property
    def risk(self) -> str:
        return highest(c.risk for c in self.changes)

    @property
    def availability(self) -> str:
        return highest(c.availability for c in self.changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "app": self.key,
            "status": self.status,
            "displayName": self.display_name,
            "renamedFrom": self.renamed_from,
            "risk": self.risk,
            "availability": self.availability,
            "scopeSets": list(self.scope_sets),
            "adminConsent": self.admin_consent,
            "warnings": list(self.warnings),
            "downstream": list(self.downstream),
            "changes": [c.as_json() for c in self.changes],
        }


@dataclass(frozen=True)
class StackDiff:
    name: str
    status: str  # added | removed | changed | unchanged
    changes: tuple[Change, ...] = ()  # the stack's own: tenant, cloud
    apps: tuple[AppDiff, ...] = ()

    @property
    def all_changes(self) -> list[Change]:
        return [*self.changes, *(c for a in self.apps for c in a.changes)]

    @property
    def risk(self) -> str:
        return highest(c.risk for c in self.all_changes)

    @property
    def availability(self) -> str:
        return highest(c.availability for c in self.all_changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.name,
            "status": self.status,
            "risk": self.risk if self.all_changes else None,
            "availability": self.availability if self.all_changes else None,
            "changes": [c.as_json() for c in self.changes],
            "apps": [a.as_json() for a in self.apps],
        }


@dataclass(frozen=True)
class Revision:
    """One side of the comparison: a git revision (ref and commit), or the working tree (neither)."""

    ref: str | None = None
    commit: str | None = None

    @property
    def name(self) -> str:
        return self.ref or "working tree"

    def as_json(self) -> dict[str, str | None]:
        return {"ref": self.ref, "commit": self.commit}


@dataclass(frozen=True)
class Side:
    """Everything loaded from one revision: its stacks and the catalogue they were built with."""

    revision: Revision
    stacks: dict[str, Stack]
    catalogue: Catalogue


@dataclass(frozen=True)
class Report:
    base: Revision
    head: Revision
    stacks: tuple[StackDiff, ...]

    @property
    def changed(self) -> list[StackDiff]:
        """The stacks that changed, riskiest first (by name within a level)."""
        return sorted((s for s in self.stacks if s.status != "unchanged"), key=lambda s: -_worst(s))

    def changes(self, axis: str = "security") -> list[tuple[StackDiff, AppDiff | None, Change]]:
        """Every change with where it is, highest risk on `axis` first (stable within a level)."""
        found: list[tuple[StackDiff, AppDiff | None, Change]] = [(s, None, c) for s in self.changed for c in s.changes]
        found += [(s, a, c) for s in self.changed for a in s.apps for c in a.changes]
        return sorted(found, key=lambda t: -RISKS.index(t[2].level(axis)))

    def counts(self) -> dict[str, Any]:
        """Change counts; the top-level high/medium/low are the security axis (as before availability came)."""
        every = [c for s in self.changed for c in s.all_changes]
        return {
            "stacks": len(self.stacks),
            "stacksChanged": len(self.changed),
            "appsChanged": sum(len(s.apps) for s in self.changed),
            **{risk: sum(c.risk == risk for c in every) for risk in reversed(RISKS)},
            "availability": {risk: sum(c.availability == risk for c in every) for risk in reversed(RISKS)},
        }

    def has_risk(self, level: str, axis: str = "security") -> bool:
        return any(RISKS.index(c.level(axis)) >= RISKS.index(level) for _, _, c in self.changes(axis))

    def summary(self) -> str:
        """The one line a reviewer reads first: both axes."""
        n = self.counts()
        where = f"{self.base.name} → {self.head.name}"
        if not self.changed:
            return f"No changes to the desired state of {count(n['stacks'], 'stack')} ({where})."
        return (
            f"{count(n['appsChanged'], 'app')} changed in {n['stacksChanged']} of {count(n['stacks'], 'stack')} "
            f"({where}): {count(sum(n[r] for r in RISKS), 'change')}; security {_levels(n)}; "
            f"availability {_levels(n['availability'])}."
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base.as_json(),
            "head": self.head.as_json(),
            "changed": bool(self.changed),
            "summary": self.summary(),
            "counts": self.counts(),
            "stacks": [s.as_json() for s in self.changed],
            "unchanged": [s.name for s in self.stacks if s.status == "unchanged"],
        }


def _levels(n: dict[str, Any]) -> str:
    return ", ".join(f"{n[r]} {r}{'-risk' if r == 'high' else ''}" for r in reversed(RISKS) if n[r]) or "none"


def _worst(item: StackDiff | AppDiff) -> int:
    """Sort key: the higher of both axes, then security."""
    levels = RISKS.index(item.risk), RISKS.index(item.availability)
    return max(levels) * 3 + levels[0]


def highest(risks: Iterable[str]) -> str:
    return max(risks, key=RISKS.index, default="low")


Catalogues = tuple[Catalogue, Catalogue]  # base, head: to tell which scope set brought a permission in


def compare(base: Side, head: Side, names: list[str], today: date) -> Report:
    """The report over `names`; a stack in neither side's models is one that cannot have changed.
    `today` tells a still-valid secret slot (the mail handler may use it) from an expired one."""
    cats = (base.catalogue, head.catalogue)
    diffs = tuple(diff_stack(base.stacks.get(n), head.stacks.get(n), n, cats, today) for n in names)
    return Report(base.revision, head.revision, diffs)


def expired_new_slots(base: Side, head: Side, today: date) -> list[Problem]:
    """A secret slot that the change adds or edits must expire after `today` (the head's date); a slot that
    expired untouched is a finding of `validate` and `secrets report`, not a reason to refuse the change."""
    problems = []
    for name, stack in head.stacks.items():
        old = base.stacks.get(name)
        for key, app in stack.apps.items():
            before = {s.name: s for s in old.apps[key].secrets} if old and key in old.apps else {}
            problems += [
                Problem(
                    f"{stack.file} ({head.revision.name})",
                    (*APPS_PATH, key, "secrets"),
                    f"slot '{slot.name}' is added or edited by this change but expires {slot.expires.isoformat()}, "
                    f"not after {today.isoformat()}",
                    slot.expires.isoformat(),
                    hint=f"pick a later expiry, or leave the slot as it was and run `mailoauth secrets rotate --stack "
                    f"{name} --app {key}`",
                )
                for slot in app.secrets
                if slot.expires <= today and before.get(slot.name) != slot
            ]
    return problems


def diff_stack(old: Stack | None, new: Stack | None, name: str, cats: Catalogues, today: date) -> StackDiff:
    if old is None and new is None:
        return StackDiff(name, "unchanged")
    changes = _stack_changes(old, new) if old and new else []
    old_apps, new_apps = (old.apps if old else {}), (new.apps if new else {})
    removed = [k for k in old_apps if k not in new_apps]
    added = [k for k in new_apps if k not in old_apps]
    renamed = pair_renames([old_apps[k] for k in removed], [new_apps[k] for k in added])
    apps: list[AppDiff] = []
    for key, app in new_apps.items():
        warnings = tuple(w.message for w in new.app_warnings(key)) if new else ()
        if key in old_apps:
            found = diff_app(old_apps[key], app, cats, today)
            if found and old and new:
                notes = downstream(old, old_apps[key], new, app, name)
                apps.append(_app_diff(app, "changed", found, warnings, downstream=notes))
        elif key in renamed:
            was = old_apps[renamed[key]]
            rename = Change("app", "renamed", f"{was.key} → {key}", "medium", REPLACES, **_replaced(was.key))
            notes = (f"a new registration: configure the mail handler with apps.{key} and clientSecrets.{key}",)
            changes = [rename, *diff_app(was, app, cats, today)]
            apps.append(_app_diff(app, "renamed", changes, warnings, was.key, notes))
        else:
            apps.append(_app_diff(app, "added", _added_app(app, cats, today), warnings))
    gone = set(renamed.values())
    apps += [_app_diff(old_apps[k], "removed", _removed_app(old_apps[k], cats[0])) for k in removed if k not in gone]
    status = "added" if old is None else "removed" if new is None else "changed" if changes or apps else "unchanged"
    apps.sort(key=lambda a: -_worst(a))  # riskiest first, file order within a level
    return StackDiff(name, status, tuple(changes), tuple(apps))


def _replaced(key: str) -> Outage:
    return {"availability": "high", "outage": f"app {key} is deleted: its client id and secrets stop working"}


def _stack_changes(old: Stack, new: Stack) -> list[Change]:
    changes = []
    outage: Outage = {
        "availability": "high",
        "outage": "every mail handler needs the new client id, secret and endpoints",
    }
    if old.tenant_id != new.tenant_id:
        why = f"every app is registered in another tenant; {REPLACES}"
        changes.append(setting("tenant", old.tenant_id, new.tenant_id, "high", why, **outage))
    if old.cloud.name != new.cloud.name:
        why = f"every app is registered in another Microsoft cloud; {REPLACES}"
        changes.append(setting("cloud", old.cloud.name, new.cloud.name, "high", why, **outage))
    return changes


def _app_diff(
    app: App,
    status: str,
    changes: list[Change],
    warnings: tuple[str, ...] = (),
    renamed_from: str | None = None,
    downstream: tuple[str, ...] = (),
) -> AppDiff:
    order = tuple(
        sorted(changes, key=lambda c: (c.kind != "app", -max(RISKS.index(c.risk), RISKS.index(c.availability))))
    )
    return AppDiff(
        app.key, status, app.display_name, order, renamed_from, app.scope_sets, app.admin_consent, warnings, downstream
    )


def downstream(old: Stack, was: App, new: Stack, now: App, stack: str) -> tuple[str, ...]:
    """What the mail handler's admin changes after `pulumi up`: scope strings, endpoints, mail hosts, secret slot."""
    before, after = app_endpoints(was, old.cloud, old.tenant_id), app_endpoints(now, new.cloud, new.tenant_id)
    notes = [f"{name} endpoint: {after[name]}" for name in ("authorize", "token") if before[name] != after[name]]
    asked, asks = (cast(dict[str, str], ep["scopeRequests"]) for ep in (before, after))
    notes += [
        f"scope for {audience} tokens: {scope}" for audience, scope in asks.items() if asked.get(audience) != scope
    ]
    notes += [f"no {a} tokens any more: stop requesting {s}" for a, s in asked.items() if a not in asks]
    hosts, moved = (cast(dict[str, dict[str, object]], ep["mail"]) for ep in (before, after))
    notes += [
        f"{protocol}: " + ", ".join(f"{k} {v}" for k, v in host.items())
        for protocol, host in moved.items()
        if hosts.get(protocol) not in (None, host)
    ]
    return (*notes, *_secret_notes(was, now, stack))


def _secret_notes(was: App, now: App, stack: str) -> list[str]:
    names = {s.name for s in was.secrets}
    fresh = [s.name for s in now.secrets if s.name not in names]
    changed = [s.name for s in now.secrets if s.name in names and s not in was.secrets and not s.adopted]
    retire = f"mailoauth secrets retire --stack {stack} --app {now.key}"
    kept = [s for s in now.secrets if s.name in names and s.name not in changed]
    notes = [
        f"switch the client secret to clientSecretSlots.{now.key}.{n}" + (f", then `{retire}`" if kept else "")
        for n in fresh
    ]
    return notes + [
        f"slot {n} gets a new value: give the mail handler clientSecretSlots.{now.key}.{n}" for n in changed
    ]


def pair_renames(removed: list[App], added: list[App]) -> dict[str, str]:
    """New key -> old key for a removed and an added app with the same display name or permissions."""
    pairs: dict[str, str] = {}
    for same in (lambda a, b: a.display_name == b.display_name, lambda a, b: _grants(a) == _grants(b)):
        for new in added:
            if new.key in pairs:
                continue
            old = next((o for o in removed if o.key not in pairs.values() and same(o, new)), None)
            if old is not None:
                pairs[new.key] = old.key
    return pairs


def _grants(app: App) -> set[tuple[str, str]]:
    return {(p.resource_app_id, p.id) for p in app.permissions}


def _added_app(app: App, cats: Catalogues, today: date) -> list[Change]:
    why = "a new registration" + (f" that {_reach_text(app.audience)} can sign in to" if _wide(app.audience) else "")
    head = Change("app", "added", app.key, "high" if _wide(app.audience) else "low", why, after=app.display_name)
    return [head, *diff_app(None, app, cats, today)]


def _removed_app(app: App, cat: Catalogue) -> list[Change]:
    why = "the registration, its service principal and secrets are deleted; mail stops working for this app"
    head = Change("app", "removed", app.key, "medium", why, before=app.display_name, **_replaced(app.key))
    return [head, *(_permission_change("removed", p, app, cat, alone=False) for p in by_name(app.permissions))]


def diff_app(old: App | None, new: App, cats: Catalogues, today: date) -> list[Change]:
    """Changes from `old` to `new`; with no `old`, what the new app sets beyond the defaults."""
    return [
        *_audience(old, new),
        *_admin_consent(old, new),
        *_permissions(old, new, cats),
        *_redirect_uris(old, new),
        *_secrets(old.secrets if old else (), new.secrets, today),
        *_strings("owner", old.owners if old else (), new.owners, "medium", _OWNER_WHY),
        *_strings("mailbox", old.mailboxes if old else (), new.mailboxes, "low", ("", "")),
        *_settings(old, new),
    ]


_URI_WHY = ("authorization codes can be sent to this address", "sign-ins returning here fail with AADSTS50011")
_CONFIDENTIAL_URI_WHY = "authorization codes can be sent to this address, and the app's secret redeems them"


def _redirect_uris(old: App | None, new: App) -> list[Change]:
    """A new redirect URI on an existing app with a secret is high-risk: whoever receives a code there can
    redeem it with the secret (on a new app it is part of the app's own, separately rated, addition); a
    removed one is a high availability risk. An internationalised host is shown with its punycode form."""
    confidential = old is not None and bool(new.secrets)
    risk, why = ("high", _CONFIDENTIAL_URI_WHY) if confidential else ("medium", _URI_WHY[0])
    uris = old.redirect_uris if old else ()
    changes = _strings("redirectUri", uris, new.redirect_uris, risk, (why, _URI_WHY[1]), "high")
    return [replace(c, subject=rules.shown_uri(c.subject)) for c in changes]


_OWNER_WHY = ("an owner can add secrets and change the registration", "")


def _reach_text(audience: str) -> str:
    return " and ".join(sorted(REACH[audience] - {"home"}))


def _wide(audience: str, before: str = "single-tenant") -> bool:
    return bool(REACH[audience] - REACH[before] - {"home"})


def _audience(old: App | None, new: App) -> list[Change]:
    before = old.audience if old else None
    if before == new.audience or (before is None and new.audience == "single-tenant"):
        return []
    widened = _wide(new.audience, before or "single-tenant")
    gained = " and ".join(sorted(REACH[new.audience] - REACH[before or "single-tenant"] - {"home"}))
    lost = " and ".join(sorted(REACH[before or "single-tenant"] - REACH[new.audience])).replace("home", "this tenant")
    why = f"{gained} can now sign in" if widened else "fewer accounts can sign in"
    outage: Outage = {"availability": "high", "outage": f"accounts of {lost} can no longer sign in"} if lost else {}
    return [setting("audience", before, new.audience, "high" if widened else "low", why, **outage)]


def _admin_consent(old: App | None, new: App) -> list[Change]:
    if (old.admin_consent if old else False) == new.admin_consent:
        return []
    before = _yes(old.admin_consent) if old else None
    if new.admin_consent:
        why = "grants the delegated permissions for every user in the tenant, without asking them"
        return [setting("adminConsent", before, "yes", "high", why)]
    outage = "mailboxes whose users never consented themselves stop working until they do"
    return [
        setting(
            "adminConsent",
            before,
            "no",
            "low",
            "each user is asked to consent again",
            availability="medium",
            outage=outage,
        )
    ]


def setting(
    kind: str,
    before: str | None,
    after: str | None,
    risk: str,
    why: str,
    availability: str = "low",
    outage: str | None = None,
) -> Change:
    """A single value that changed; its subject reads 'before → after' (just the value on a new app)."""
    subject = after or "(none)" if before is None else f"{before} → {after or '(none)'}"
    return Change(kind, "changed", subject, risk, why, before, after, availability=availability, outage=outage)


def by_name(perms: Iterable[Permission]) -> list[Permission]:
    """People read permissions by resource and name (as `plan` lists them)."""
    return sorted(perms, key=lambda p: (p.resource, p.value.casefold()))


def permission_risk(p: Permission) -> tuple[str, str]:
    return ews_risk() if p.protocol == "ews" else PERMISSION_RISK[p.access]


def ews_risk() -> tuple[str, str]:
    facts = exchange_online()
    return (
        "high",
        f"EWS: full mailbox access; Exchange Online blocks EWS from {facts.ews_blocked.isoformat()} unless "
        f"allow-listed and shuts it down on {facts.ews_shutdown.isoformat()}",
    )


def _permission_change(action: str, p: Permission, app: App, cat: Catalogue, alone: bool = True) -> Change:
    """`alone`: removed while the app stays, so the mail handler loses what it may rely on."""
    risk, why = permission_risk(p) if action == "added" else ("low", "access is withdrawn")
    if action == "added" and app.admin_consent:
        why += "; granted for every user by admin consent"
    lost = alone and action == "removed" and p.access != "identity"
    outage: Outage = {"availability": "high", "outage": f"the mail handler loses {p.protocol} access"} if lost else {}
    return Change("permission", action, p.value, risk, why, permission=permission_json(p, app, cat), **outage)


def permission_json(p: Permission, app: App, cat: Catalogue) -> dict[str, Any]:
    """The plan's permission document, plus the protocol and the scope sets that bring it in."""
    via = [s for s in app.scope_sets if s in cat.sets and p.value in cat.sets[s].scopes]
    if p.value in app.extra_scopes:
        via.append("scopes")
    return {**permission_document(p), "protocol": p.protocol, "via": via}


def _permissions(old: App | None, new: App, cats: Catalogues) -> list[Change]:
    before = {(p.resource_app_id, p.id): p for p in old.permissions} if old else {}
    after = {(p.resource_app_id, p.id): p for p in new.permissions}
    added = by_name(p for k, p in after.items() if k not in before)
    changes = [_permission_change("added", p, new, cats[1]) for p in added]
    if old:
        removed = by_name(p for k, p in before.items() if k not in after)
        changes += [_permission_change("removed", p, old, cats[0]) for p in removed]
    for k in (k for k in after if k in before):
        was, now = before[k], after[k]
        if was is not now and was != now:
            risk, why = permission_risk(now)
            widened = RISKS.index(risk) > RISKS.index(permission_risk(was)[0])
            changes.append(
                Change(
                    "permission",
                    "changed",
                    now.value,
                    risk if widened else "low",
                    f"the catalogue entry changed: {why}" if widened else "the catalogue entry changed",
                    f"{was.value}, {was.access}, admin consent required: {_yes(was.admin_consent_required)}",
                    f"{now.value}, {now.access}, admin consent required: {_yes(now.admin_consent_required)}",
                    permission_json(now, new, cats[1]),
                )
            )
    return changes


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _strings(
    kind: str, before: Iterable[str], after: Iterable[str], risk: str, why: tuple[str, str], removal: str = "low"
) -> list[Change]:
    """Set-like lists (order carries no meaning in Entra): what was added at `risk` (security), what was
    removed at `removal` (availability)."""
    old, new = dict.fromkeys(before), dict.fromkeys(after)  # ordered, and linear to look up
    gone: Outage = {"availability": removal, "outage": why[1]} if removal != "low" else {}
    return [Change(kind, "added", v, risk, why[0]) for v in new if v not in old] + [
        Change(kind, "removed", v, "low", "" if gone else why[1], **gone) for v in old if v not in new
    ]


def _slot(s: SecretSlot) -> str:
    return f"{s.description}, expires {s.expires.isoformat()}"


def _slot_change(was: SecretSlot, now: SecretSlot) -> tuple[str, str]:
    """Before and after of a rotated slot, naming only what differs."""
    if was.description == now.description:
        return f"expires {was.expires.isoformat()}", f"expires {now.expires.isoformat()}"
    return _slot(was), _slot(now)


def _secrets(old: tuple[SecretSlot, ...], new: tuple[SecretSlot, ...], today: date) -> list[Change]:
    """Slots by name. Security: a new value is low risk. Availability: a slot that disappears, or is issued
    anew, while it has not expired is high: the mail handler may still use it."""
    before, after = {s.name: s for s in old}, {s.name: s for s in new}
    changes = []
    for name, now in after.items():
        was = before.get(name)
        if was and (was.description, was.expires) != (now.description, now.expires):
            why = "a new secret value is issued and the old one deleted"
            changes.append(
                Change("secret", "rotated", f"slot '{name}'", "low", why, *_slot_change(was, now), **_cut(was, today))
            )
        elif was and was.key_id != now.key_id:
            changes.append(
                Change("secret", "changed", f"slot '{name}'", "low", "adopted key id", was.key_id, now.key_id)
            )
    gone = [s for n, s in before.items() if n not in after]
    fresh = [s for n, s in after.items() if n not in before]
    kept = [n for n in after if n in before]
    while gone and fresh and not kept:  # one slot swapped for another: a rotation without overlap
        was, now = gone.pop(0), fresh.pop(0)
        why = "a new secret value is issued and the old one deleted"
        subject = f"slot '{was.name}' → '{now.name}'"
        changes.append(Change("secret", "rotated", subject, "low", why, _slot(was), _slot(now), **_cut(was, today)))
    overlap = f", slot{'s' if len(kept) > 1 else ''} {', '.join(repr(n) for n in kept)} kept until retire"
    changes += [
        Change(
            "secret",
            "added",
            f"slot '{s.name}'",
            "low",
            f"rotation: slot '{s.name}' added{overlap}" if kept else "a new secret value",
            after=_slot(s),
        )
        for s in fresh
    ]
    changes += [
        Change("secret", "removed", f"slot '{s.name}'", "low", "the secret stops working", _slot(s), **_cut(s, today))
        for s in gone
    ]
    return changes


def _cut(slot: SecretSlot, today: date) -> Outage:
    """Availability of deleting `slot`'s value: high while it is valid, nothing lost once it has expired or
    when it was adopted (`pulumi up` leaves an adopted secret in Entra ID)."""
    return {"availability": "high", "outage": HANDLER_SLOT} if slot.expires > today and not slot.adopted else {}


# Switches of an app: (kind, attribute, risk when switched on, why it matters).
FLAGS = (
    (
        "allowWideAudience",
        "allow_wide_audience",
        "medium",
        "allows write or send permissions on an app other tenants or personal accounts can use",
    ),
    (
        "allowPublicClientFlows",
        "allow_public_client_flows",
        "medium",
        "tokens can be obtained without the client secret (device code flow)",
    ),
)


def _settings(old: App | None, new: App) -> list[Change]:
    """Display name, the switches, the client id other commands look up and what `pulumi up` imports."""
    changes = []
    if old and old.display_name != new.display_name:
        changes.append(setting("displayName", old.display_name, new.display_name, "low", "shown on the consent screen"))
    for kind, attr, risk, why in FLAGS:
        was, now = bool(old and getattr(old, attr)), getattr(new, attr)
        if was != now:
            changes.append(setting(kind, _yes(was) if old else None, _yes(now), risk if now else "low", why))
    if (old.client_id if old else None) != new.client_id:
        why = "the registration audit, preflight and consent look up"
        changes.append(setting("clientId", old.client_id if old else None, new.client_id, "low", why))
    if (old.imports if old else None) != new.imports:
        why = "pulumi up imports this existing registration instead of creating one"
        before = old.imports.application if old and old.imports else None
        changes.append(setting("import", before, new.imports.application if new.imports else None, "medium", why))
    return changes
