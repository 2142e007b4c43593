"""Guardrails: least-privilege rules written once, run by `plan`/`validate`, the program and the policy pack.

Each rule is a plain function over a *subject*, the shape of one resource the program registers:
an app registration, a client secret, an admin consent grant. `assembly.build_stack` builds the
subjects from a stack file's desired state (`check_app`); the CrossGuard pack (`mailoauth.deploy.crossguard`)
builds them from the azuread resource inputs Pulumi sends. Both judge with the same functions, so a
rule cannot drift between the CLI, `pulumi up` and `pulumi preview --policy-pack policy`.

Levels and parameters come from `policy/rules.yaml` (see docs/guardrails.md); `POLICY_KEYS` describes
that file, and its JSON Schema is generated from it.
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from mailoauth.base.keyspec import Key
from mailoauth.base.problems import KeyPath, Problems
from mailoauth.desired import entra
from mailoauth.desired.catalogue import ALWAYS_SET, Catalogue, Scope
from mailoauth.desired.exchange import exchange_online
from mailoauth.desired.model import (
    DEPLOYER,
    PERSONAL_AUDIENCES,
    PERSONAL_TOKEN_VERSION,
    WIDE_AUDIENCES,
    Permission,
    SecretSlot,
    access_token_version,
)

LEVELS = ("mandatory", "advisory", "disabled")
POLICY_FILE = "policy/rules.yaml"
GRAPH_DEFAULT_MONTHS = 24  # addPassword without an end date gives two years
MAX_SECRET_MONTHS = 24  # secret-max-lifetime's default: the longest the portal offers
USER_READ = "User.Read"
RISKY_ACCESS = ("write", "send")


@lru_cache(maxsize=1024)  # the rules ask for the same few limits (today + N months) for every secret
def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 -> Feb 28/29), and to
    the calendar's last day (a policy's `maxMonths: 99999999` means no practical limit, not a crash)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=1 << 16)  # each redirect URI is split by several checks (and a fleet has thousands)
def split_uri(uri: str) -> SplitResult | None:
    """urlsplit, or None for text it cannot split (an unclosed IPv6 bracket)."""
    try:
        return urlsplit(uri)
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)
def uri_host(uri: str) -> str | None:
    """The host of a URI, lower case, as urlsplit reads it (None when it has none or cannot be split)."""
    parts = split_uri(uri)
    return parts.hostname if parts else None


def idn_host(uri: str) -> str | None:
    """The ASCII (punycode) form of a URI's host when it is written in other characters, else None.
    A look-alike host (a Cyrillic letter in place of a Latin one) reads as one host and is another."""
    if uri.isascii():  # then so is its host
        return None
    host = uri_host(uri)
    if not host or host.isascii():
        return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return "(not a valid internationalised host name)"


def shown_uri(uri: str) -> str:
    """A URI as a reviewer should see it: an internationalised host with its punycode form beside it."""
    ascii_host = idn_host(uri)
    return f"{uri} (host {ascii_host})" if ascii_host else uri


def is_loopback(uri: str) -> bool:
    return uri_host(uri) in entra.limits().loopback_hosts


# --- subjects: what a rule looks at -------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """One permission as registered; `scope` is the catalogue's entry (None when the catalogue lacks it)."""

    name: str  # the scope's value when known, else what the resource says (a claim value or a GUID)
    type: str = "Scope"  # Scope (delegated) | Role (application)
    resource_app_id: str | None = None
    scope: Scope | None = None


@dataclass(frozen=True)
class Declaration:
    """What a stack file asks for one app; resources written outside the stack files have none."""

    scopes: frozenset[str]  # every scope its sets (with `general` and includes) and `scopes:` expand to
    asked: frozenset[str]  # scopes named in `scopes:` or directly in a set listed in `scopeSets:`
    allow_wide_audience: bool = False
    allow_ews: bool = False


@dataclass(frozen=True)
class ApplicationSubject:
    """An app registration (azuread Application)."""

    name: str
    audience: str | None  # a model.SIGN_IN_AUDIENCE key; None when not recognised
    redirect_uris: tuple[str, ...]
    permissions: tuple[Access, ...]
    owners: tuple[str, ...]
    declaration: Declaration | None = None
    access_token_version: int | None = None  # api.requestedAccessTokenVersion; None: the provider's default, 1


@dataclass(frozen=True)
class Password:
    """A client secret (azuread ApplicationPassword)."""

    name: str
    end: date | None  # None: not pinned, Microsoft Graph picks the expiry
    start: date | None = None  # None: valid from today


@dataclass(frozen=True)
class GrantSubject:
    """Tenant-wide admin consent (azuread ServicePrincipalDelegatedPermissionGrant)."""

    name: str
    permissions: tuple[Access, ...]
    declaration: Declaration | None = None


Subject = ApplicationSubject | Password | GrantSubject


@dataclass(frozen=True)
class Violation:
    """One violation: `where` names the subject's field (and index) so each caller can point at its own input."""

    message: str
    where: tuple[str | int, ...]
    value: object = None
    hint: str | None = None


# --- policy: levels and parameters --------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """Enforcement level and parameters per rule id, as read from policy/rules.yaml (defaults otherwise)."""

    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def level(self, rule: Rule) -> str:
        return str(self.settings.get(rule.id, {}).get("level", rule.level))

    def params(self, rule: Rule) -> dict[str, Any]:
        chosen = {k: v for k, v in self.settings.get(rule.id, {}).items() if k != "level" and v is not None}
        return {**rule.defaults, **chosen}

    @cached_property
    def enabled(self) -> tuple[tuple[Rule, str, dict[str, Any]], ...]:
        """(rule, level, parameters) of every rule not disabled, worked out once per policy."""
        return tuple((r, self.level(r), self.params(r)) for r in RULES if self.level(r) != "disabled")

    def enabled_for(self, kind: type) -> tuple[tuple[Rule, str, dict[str, Any]], ...]:
        """The enabled rules that judge subjects of this type, in rule order, worked out once per type."""
        chosen = self._by_kind.get(kind)
        if chosen is None:
            chosen = self._by_kind[kind] = tuple(e for e in self.enabled if issubclass(kind, e[0].subjects))
        return chosen

    @cached_property
    def _by_kind(self) -> dict[type, tuple[tuple[Rule, str, dict[str, Any]], ...]]:
        return {}


@dataclass(frozen=True)
class Guard:
    """What the rules need beyond one stack: the project's policy and the callback URIs of every stack."""

    policy: Policy = field(default_factory=Policy)
    callbacks: Mapping[str, frozenset[str]] = field(default_factory=dict)  # URI -> stacks that register it


@dataclass(frozen=True)
class Context:
    """Everything a rule may consult besides its subject; `stack` is the subject's own stack, if known."""

    catalogue: Catalogue
    today: date
    stack: str | None = None
    guard: Guard = field(default_factory=Guard)


RuleCheck = Callable[[Any, Context, Mapping[str, Any]], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """A guardrail: its id, default level, one-line rationale, fix hint, the subjects it judges and how."""

    id: str
    level: str
    rationale: str
    hint: str
    subjects: tuple[type, ...]
    check: RuleCheck
    params: tuple[Key, ...] = ()

    @property
    def defaults(self) -> dict[str, Any]:
        return {k.name: k.default for k in self.params}

    def findings(self, subject: Subject, ctx: Context, params: Mapping[str, Any] | None = None) -> list[Violation]:
        if not isinstance(subject, self.subjects):
            return []
        return list(self.check(subject, ctx, {**self.defaults, **(params or {})}))


# --- the rules ----------------------------------------------------------------------------------


def _delegated_only(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    for i, p in enumerate(s.permissions):
        if p.type != "Scope":
            yield Violation(
                f"{p.name} on {p.resource_app_id} is an application permission (type {p.type}): it works without a "
                "signed-in user, on every mailbox the tenant allows",
                ("permissions", i),
                p.name,
            )


def _declared_scopes(
    s: ApplicationSubject | GrantSubject, ctx: Context, params: Mapping[str, Any]
) -> Iterator[Violation]:
    for i, p in enumerate(s.permissions):
        if p.type != "Scope":
            continue  # delegated-only reports application permissions
        if s.declaration is None and p.scope is None:
            yield Violation(
                f"{p.name} is not a scope of the catalogue (scopes/catalogue.yaml); a mail app needs none outside it",
                ("permissions", i),
                p.name,
            )
        elif s.declaration is not None and p.name not in s.declaration.scopes:
            yield Violation(
                f"{p.name} is registered but not declared by the app's scopeSets or scopes in its stack file",
                ("permissions", i),
                p.name,
            )


def _user_read(s: ApplicationSubject | GrantSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    asked = s.declaration.asked if s.declaration else frozenset()
    for i, p in enumerate(s.permissions):
        if p.scope is not None and p.scope.value == USER_READ and USER_READ not in asked:
            yield Violation(
                "User.Read is registered but the app does not ask for it (it comes from the portal's default, the "
                "always-added 'general' set or a set included by another)",
                ("permissions", i),
                p.name,
            )


def _wide_audience(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    if s.audience not in WIDE_AUDIENCES or (s.declaration and s.declaration.allow_wide_audience):
        return
    risky = [p.name for p in s.permissions if p.scope is not None and p.scope.access in RISKY_ACCESS]
    if risky:
        who = "other tenants' users and personal accounts" if s.audience in PERSONAL_AUDIENCES else "other tenants"
        yield Violation(
            f"a {s.audience} app with write or send scopes ({', '.join(risky)}): {who} can consent to it changing "
            "or sending their mail",
            ("audience",),
            s.audience,
        )


def _personal_token_version(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    version = s.access_token_version or 1
    if s.audience in PERSONAL_AUDIENCES and version != PERSONAL_TOKEN_VERSION:
        yield Violation(
            f"a {s.audience} app requests v{version} access tokens; apps that allow personal accounts must request "
            f"v{PERSONAL_TOKEN_VERSION} (the azuread provider refuses the plan)",
            ("accessTokenVersion",),
            version,
        )


def _secret_lifetime(s: Password, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    months = int(params["maxMonths"])
    start = s.start or ctx.today
    end = s.end or add_months(start, GRAPH_DEFAULT_MONTHS)
    limit = add_months(start, months)
    if end > limit:
        since = "today" if s.start is None else start.isoformat()
        unpinned = "" if s.end else " (no end date: Microsoft Graph gives two years)"
        yield Violation(
            f"secret expires {end.isoformat()}, more than {months} months from {since}{unpinned}",
            ("end",),
            end.isoformat(),
            hint=f"expire on {limit.isoformat()} or earlier",
        )


def _redirect_https(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    for i, uri in enumerate(s.redirect_uris):
        parts = split_uri(uri)
        if parts is not None and parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(uri)):
            yield Violation(
                f"redirect URI {uri!r} must use https (http only for localhost or 127.0.0.1)", ("redirectUris", i), uri
            )


def _redirect_no_wildcard(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    for i, uri in enumerate(s.redirect_uris):
        if "*" in uri:
            yield Violation(f"redirect URI {uri!r} has a wildcard", ("redirectUris", i), uri)


def _owners(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    if not s.owners:
        yield Violation("the app registration has no owner", ("owners",), [])


def _ews_retirement(
    s: ApplicationSubject | GrantSubject, ctx: Context, params: Mapping[str, Any]
) -> Iterator[Violation]:
    for i, p in enumerate(s.permissions):
        if p.scope is not None and p.scope.protocol == "ews":
            yield Violation(f"{p.name} (EWS): {ews_status(ctx.today)}", ("permissions", i), p.name)


def _ews_opt_in(s: ApplicationSubject | GrantSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    if s.declaration is not None and s.declaration.allow_ews:
        return
    for i, p in enumerate(s.permissions):
        if p.scope is not None and p.scope.protocol == "ews":
            yield Violation(
                f"{p.name} (EWS) without allowEws: true: {ews_status(ctx.today)}", ("permissions", i), p.name
            )


def ews_status(today: date) -> str:
    """Where Exchange Online's EWS retirement stands on `today`."""
    facts = exchange_online()
    if today >= facts.ews_shutdown:
        return f"Exchange Online shut EWS down on {facts.ews_shutdown.isoformat()}; the scope no longer works there"
    blocked = "has blocked EWS since" if today >= facts.ews_blocked else "blocks EWS from"
    return (
        f"Exchange Online {blocked} {facts.ews_blocked.isoformat()} unless the tenant allow-lists the app, "
        f"and shuts it down on {facts.ews_shutdown.isoformat()}"
    )


def _unique_callback(s: ApplicationSubject, ctx: Context, params: Mapping[str, Any]) -> Iterator[Violation]:
    for i, uri in enumerate(s.redirect_uris):
        others = sorted(ctx.guard.callbacks.get(uri, frozenset()) - {ctx.stack})
        if others:
            yield Violation(
                f"redirect URI {uri!r} is also registered by stack {', '.join(others)}: an instance's callback "
                "must belong to one stack",
                ("redirectUris", i),
                uri,
            )


def _months(default: int, doc: str) -> tuple[Key, ...]:
    return (Key("maxMonths", "int", doc, default=default),)


RULES: tuple[Rule, ...] = (
    Rule(
        "delegated-only",
        "mandatory",
        "Only delegated (Scope) permissions: an application role reads or sends any mailbox without a user.",
        "register delegated scopes from scopes/catalogue.yaml; remove application roles (type Role)",
        (ApplicationSubject,),
        _delegated_only,
    ),
    Rule(
        "declared-scopes",
        "mandatory",
        "An app holds only the scopes its stack file declares (scope sets and scopes:), or catalogue scopes when "
        "written by hand.",
        "declare the scope in the app's scopeSets or scopes, or remove it from the registration",
        (ApplicationSubject, GrantSubject),
        _declared_scopes,
    ),
    Rule(
        "user-read",
        "mandatory",
        "User.Read only when the app asks for it by name; the portal adds it by default and mail needs none of it.",
        "add User.Read to the app's scopes: if it reads the user's profile; otherwise remove it from the set",
        (ApplicationSubject, GrantSubject),
        _user_read,
    ),
    Rule(
        "wide-audience-write",
        "mandatory",
        "Write or send scopes on a multi-tenant or personal-account app need an explicit allowWideAudience: true.",
        "set allowWideAudience: true to acknowledge it, or use audience: single-tenant",
        (ApplicationSubject,),
        _wide_audience,
    ),
    Rule(
        "secret-max-lifetime",
        "mandatory",
        "Client secrets expire within the maximum lifetime (default 24 months, the portal's limit).",
        "pin an earlier expires date; rotate with two slots (secrets:) instead of long-lived secrets",
        (Password,),
        _secret_lifetime,
        _months(MAX_SECRET_MONTHS, "Longest allowed secret lifetime in months."),
    ),
    Rule(
        "secret-recommended-lifetime",
        "advisory",
        "Client secrets should expire within the recommended lifetime (default 12 months, Microsoft's advice).",
        "pin an earlier expires date; rotate with two slots (secrets:) instead of long-lived secrets",
        (Password,),
        _secret_lifetime,
        _months(12, "Recommended secret lifetime in months."),
    ),
    Rule(
        "redirect-https",
        "mandatory",
        "Redirect URIs use https (http only for localhost or 127.0.0.1), so codes are not sent in clear text.",
        "use the instance's https callback URL",
        (ApplicationSubject,),
        _redirect_https,
    ),
    Rule(
        "redirect-no-wildcard",
        "mandatory",
        "Redirect URIs have no wildcards, so a code cannot be sent to a host nobody reviewed.",
        "list each callback URL explicitly",
        (ApplicationSubject,),
        _redirect_no_wildcard,
    ),
    Rule(
        "owners",
        "mandatory",
        "Every app registration has at least one owner who can rotate its secret and answer for it.",
        "set owners (the program always adds the deploying principal)",
        (ApplicationSubject,),
        _owners,
    ),
    Rule(
        "ews-retirement",
        "advisory",
        f"EWS scopes stop working in Exchange Online: blocked from {exchange_online().ews_blocked} unless "
        f"allow-listed, shut down {exchange_online().ews_shutdown}.",
        "send MIME through Graph sendMail instead (scopeSets: [graph-send], Mail.Send alone)",
        (ApplicationSubject, GrantSubject),
        _ews_retirement,
    ),
    Rule(
        "ews-opt-in",
        "mandatory",
        "EWS scopes only where the stack file acknowledges them with allowEws: true: EWS is blocked in Exchange "
        "Online and shut down soon, and Graph sendMail takes MIME.",
        "send MIME through Graph sendMail (scopeSets: [graph-send]); if the product cannot, set allowEws: true",
        (ApplicationSubject, GrantSubject),
        _ews_opt_in,
    ),
    Rule(
        "personal-token-version",
        "mandatory",
        "Apps that allow personal Microsoft accounts request v2 access tokens; the azuread provider refuses v1 at "
        "plan time.",
        "set api.requestedAccessTokenVersion to 2 (the program does so for these audiences)",
        (ApplicationSubject,),
        _personal_token_version,
    ),
    Rule(
        "unique-callback",
        "mandatory",
        "An instance's callback URL is registered by one stack only, so one instance cannot receive another's codes.",
        "give each stack its own instance's callback URL",
        (ApplicationSubject,),
        _unique_callback,
    ),
)
RULE_IDS = tuple(r.id for r in RULES)

POLICY_KEYS = (
    Key(
        "rules",
        "object",
        "Enforcement level (mandatory, advisory, disabled) and parameters per rule id.",
        fields=tuple(
            Key(
                r.id,
                "object",
                r.rationale,
                fields=(Key("level", "enum", f"Default: {r.level}.", default=r.level, choices=LEVELS), *r.params),
            )
            for r in RULES
        ),
    ),
)


def policy_from_values(values: Mapping[str, Any]) -> Policy:
    """A Policy from policy/rules.yaml's checked values (missing rules keep their defaults)."""
    return Policy({rule_id: dict(v) for rule_id, v in (values.get("rules") or {}).items() if v})


def evaluate(subject: Subject, ctx: Context) -> Iterator[tuple[Rule, str, Violation]]:
    """Every enabled rule's findings on one subject, with the level it is enforced at."""
    for rule, level, params in ctx.guard.policy.enabled_for(type(subject)):
        for finding in rule.check(subject, ctx, params):
            yield rule, level, finding


def hint_of(rule: Rule, finding: Violation) -> str:
    return f"{finding.hint}; {rule.hint}" if finding.hint else rule.hint


# --- the desired state as subjects --------------------------------------------------------------


def declaration(catalogue: Catalogue, values: Mapping[str, Any]) -> Declaration:
    """What an app's checked stack-file values ask for (unknown set names are skipped: core checks report them)."""
    sets, extra = tuple(values.get("scopeSets") or ()), tuple(values.get("scopes") or ())
    wide, ews = bool(values.get("allowWideAudience")), bool(values.get("allowEws"))
    key = ("declaration", sets, extra, wide, ews)  # these alone decide it: each combination built once per catalogue
    held = catalogue.memo.get(key)
    if held is None:
        held = catalogue.memo[key] = Declaration(*_declared_names(catalogue, sets, extra), wide, ews)
    return held


def _declared_names(
    catalogue: Catalogue, sets: tuple[str, ...], extra: tuple[str, ...]
) -> tuple[frozenset[str], frozenset[str]]:
    named = [s for s in sets if s in catalogue.sets]
    expanded = {name for s in {ALWAYS_SET, *named} & set(catalogue.sets) for name in catalogue.expand(s)}
    asked = {name for s in named for name in catalogue.sets[s].scopes}
    return frozenset(expanded | set(extra)), frozenset(asked | set(extra))


def check_app(
    found: Problems,
    path: KeyPath,
    values: Mapping[str, Any],
    permissions: Sequence[Permission],
    secrets: Sequence[SecretSlot] | None,
    ctx: Context,
) -> None:
    """Run the rules on one app of a stack file; findings become problems at the app's own keys."""
    registration = ApplicationSubject(
        str(path[-1]),
        values.get("audience"),
        tuple(values.get("redirectUris") or ()),
        _accesses(ctx.catalogue, permissions),
        (DEPLOYER, *(values.get("owners") or ())),
        declaration(ctx.catalogue, values),
        access_token_version(values.get("audience")),
    )
    subjects: list[tuple[Subject, KeyPath]] = [(registration, ())]
    for i, slot in enumerate(secrets or ()):
        slot_path = ("secret",) if values.get("secret") is not None else ("secrets", i)
        subjects.append((Password(slot.name, slot.expires), (*slot_path, "expires")))
    for subject, own_path in subjects:
        for rule, level, finding in evaluate(subject, ctx):
            report = found.error if level == "mandatory" else found.warn
            where = own_path or _yaml_path(finding, registration, values)
            report((*path, *where), finding.message, finding.value, hint_of(rule, finding), rule.id)


def _accesses(catalogue: Catalogue, permissions: Sequence[Permission]) -> tuple[Access, ...]:
    """The permissions as rule subjects; apps with the same scope combination share the same Permission
    objects (the catalogue's expansion memo), so each combination is converted once per catalogue."""
    key = ("accesses", *map(id, permissions))
    held = catalogue.memo.get(key)
    if held is None or not all(map(operator.is_, held[0], permissions)):  # the same objects, not reused ids
        accesses = tuple(Access(p.value, p.type, p.resource_app_id, catalogue.scopes.get(p.value)) for p in permissions)
        held = catalogue.memo[key] = (tuple(permissions), accesses)
    return held[1]


def _yaml_path(finding: Violation, registration: ApplicationSubject, values: Mapping[str, Any]) -> KeyPath:
    """Where in the app's YAML a registration finding points: the scope's entry, a redirect URI, a key."""
    field_name, *index = finding.where
    if field_name == "permissions":
        extra = list(values.get("scopes") or ())
        name = registration.permissions[int(index[0])].name
        return ("scopes", extra.index(name)) if name in extra else ("scopeSets",)
    return (field_name, *index)
