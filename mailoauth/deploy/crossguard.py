"""The guardrails of `guardrails.rules` applied to azuread resource inputs, for the CrossGuard pack in policy/.

`Project.violations(rule, resource)` takes plain data (type, name, inputs, URN, parent URN) and returns
the violation messages; `policies(root)` wraps one `ResourceValidationPolicy` per rule around it for
`policy/__main__.py`. An Application, secret or consent grant the program registers under a `MailApp`
is judged against its app's declaration in the stack file named by its URN; any other (written by
hand, another project) against the scope catalogue alone. Only this module imports pulumi_policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from mailoauth.base import yamlio
from mailoauth.base.keyspec import key_schema
from mailoauth.base.problems import InvalidInput, Problems
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import AUDIENCE_OF_SIGN_IN
from mailoauth.guardrails import rules
from mailoauth.project import assembly, files
from mailoauth.project.context import utc_today
from mailoauth.project.guard import project_guard

APPLICATION = "azuread:index/application:Application"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
COMPONENT = "mailoauth:index:MailApp"
DEFAULT_SIGN_IN_AUDIENCE = "AzureADMyOrg"  # the provider's default when signInAudience is not set
GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@dataclass(frozen=True)
class Resource:
    """What CrossGuard tells a resource validation: type, logical name, inputs (camelCase), URN, parent URN."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    parent: str | None = None


@dataclass(frozen=True)
class Urn:
    stack: str
    project: str
    type: str  # the qualified type: parent types and the resource's own, joined by '$'
    name: str

    @classmethod
    def parse(cls, urn: str | None) -> Urn | None:
        """`urn:pulumi:<stack>::<project>::<qualified type>::<name>`, or None for anything else."""
        head, _, rest = (urn or "").partition("::")
        project, _, rest = rest.partition("::")
        qualified, _, name = rest.partition("::")
        if not head.startswith("urn:pulumi:") or not name:
            return None
        return cls(head.removeprefix("urn:pulumi:"), project, qualified, name)


class Project:
    """The project files the pack judges against (catalogue, policy, stack files), each read once."""

    def __init__(self, root: Path, today: date | None = None):
        self.tree = WorkTree(root)
        self.catalogue = catalogue.load(self.tree)
        self.guard = project_guard(self.tree, self.catalogue.products)
        self.today = today or utc_today()
        self.name = _project_name(self.tree)
        self._declarations: dict[tuple[str, str], rules.Declaration | None] = {}

    @property
    def policy(self) -> rules.Policy:
        return self.guard.policy

    def violations(self, rule: rules.Rule, resource: Resource, params: Mapping[str, Any] | None = None) -> list[str]:
        """The rule's findings on one resource, as messages that name the input property."""
        judged = self.subject(resource)
        if judged is None:
            return []
        subject, paths = judged
        urn = Urn.parse(resource.urn)
        own_stack = urn.stack if urn and urn.project == self.name else None
        ctx = rules.Context(self.catalogue, self.today, own_stack, self.guard)
        return [
            f"{paths.get(f.where, f.where[0])}: {f.message}; {rules.hint_of(rule, f)}"
            for f in rule.findings(subject, ctx, {**self.policy.params(rule), **(params or {})})
        ]

    def subject(self, resource: Resource) -> tuple[rules.Subject, dict[tuple[str | int, ...], str]] | None:
        """The rules' view of a resource and, per finding location, the input property it came from."""
        props = resource.props
        if resource.type == APPLICATION:
            accesses = self._required_accesses(props)
            redirects = _redirects(props)
            audience = AUDIENCE_OF_SIGN_IN.get(str(props.get("signInAudience") or DEFAULT_SIGN_IN_AUDIENCE))
            registration = rules.ApplicationSubject(
                resource.name,
                audience,
                tuple(uri for _, uri in redirects),
                tuple(a for _, a in accesses),
                tuple(str(o) for o in props.get("owners") or ()),
                self.declaration(resource),
                _token_version(props),
            )
            paths = {("permissions", i): p for i, (p, _) in enumerate(accesses)}
            paths |= {("redirectUris", i): p for i, (p, _) in enumerate(redirects)}
            return registration, paths | {
                ("audience",): "signInAudience",
                ("owners",): "owners",
                ("accessTokenVersion",): "api.requestedAccessTokenVersion",
            }
        if resource.type == PASSWORD:
            start = _date(props.get("startDate"))
            end = _date(props.get("endDate")) or _relative_end(props.get("endDateRelative"), start or self.today)
            return rules.Password(resource.name, end, start), {("end",): "endDate"}
        if resource.type == GRANT:
            claims = [str(c) for c in props.get("claimValues") or ()]
            claimed = tuple(self._claim(c) for c in claims)
            grant = rules.GrantSubject(resource.name, claimed, self.declaration(resource))
            return grant, {("permissions", i): f"claimValues[{i}]" for i in range(len(claims))}
        return None

    def declaration(self, resource: Resource) -> rules.Declaration | None:
        """What the stack file asks for the MailApp this resource belongs to; None for anything else."""
        urn, parent = Urn.parse(resource.urn), Urn.parse(resource.parent)
        if not urn or not parent or urn.project != self.name or parent.type.split("$")[-1] != COMPONENT:
            return None
        key = (urn.stack, parent.name)
        if key not in self._declarations:
            self._declarations[key] = self._read_declaration(*key)
        return self._declarations[key]

    def _read_declaration(self, stack: str, app_key: str) -> rules.Declaration | None:
        try:
            _, doc = files.read_stack(self.tree, stack)
        except InvalidInput:
            return None
        raw = files.raw_apps(doc).get(app_key)
        if not isinstance(raw, dict):
            return None
        problems = Problems(files.stack_file(stack))  # the file's own problems are validate's to report
        return rules.declaration(self.catalogue, assembly.app_values(problems, (), raw, self.catalogue).values)

    def _required_accesses(self, props: Mapping[str, Any]) -> list[tuple[str, rules.Access]]:
        out = []
        for r, required in enumerate(props.get("requiredResourceAccesses") or ()):
            resource_app_id = str(required.get("resourceAppId") or "")
            for a, entry in enumerate(required.get("resourceAccesses") or ()):
                kind, ident = str(entry.get("type") or "Scope"), str(entry.get("id") or "")
                scope = self.catalogue.by_id.get((resource_app_id.lower(), ident.lower())) if kind == "Scope" else None
                access = rules.Access(scope.value if scope else ident, kind, resource_app_id, scope)
                out.append((f"requiredResourceAccesses[{r}].resourceAccesses[{a}]", access))
        return out

    def _claim(self, value: str) -> rules.Access:
        scope = self.catalogue.scopes.get(value)
        return rules.Access(value, "Scope", scope.resource_app_id if scope else None, scope)


def _token_version(props: Mapping[str, Any]) -> int | None:
    """`api.requestedAccessTokenVersion`; None when the API block or the value is absent (the provider's 1)."""
    api = props.get("api")
    version = api.get("requestedAccessTokenVersion") if isinstance(api, Mapping) else None
    return int(version) if isinstance(version, int | float) and not isinstance(version, bool) else None


def _redirects(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Web and SPA redirect URIs with their input paths (public-client URIs follow other rules)."""
    out = []
    for platform in ("web", "spa"):
        block = props.get(platform)
        uris = block.get("redirectUris") if isinstance(block, Mapping) else None
        out += [(f"{platform}.redirectUris[{i}]", str(u)) for i, u in enumerate(uris or ())]
    return out


def _date(value: Any) -> date | None:
    """The UTC date of an RFC 3339 timestamp (or a plain date); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc).date() if parsed.tzinfo else parsed.date()


def _relative_end(value: Any, start: date) -> date | None:
    """The deprecated `endDateRelative` (a Go duration such as `8760h`) as an end date."""
    match = GO_DURATION.match(value) if isinstance(value, str) and value else None
    if not match:
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return start + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _project_name(tree: WorkTree) -> str | None:
    text = tree.read_text("Pulumi.yaml")
    doc = yamlio.load(text, "Pulumi.yaml") if text is not None else None
    return str(doc["name"]) if isinstance(doc, dict) and doc.get("name") else None


# --- the pulumi_policy wrapping -----------------------------------------------------------------


def policies(root: Path, project: Project | None = None) -> list[ResourceValidationPolicy]:
    """One resource validation policy per rule, at the level policy/rules.yaml gives it.

    `pulumi preview --policy-pack policy --policy-pack-config cfg.json` overrides a level or a
    parameter per rule id the usual CrossGuard way.
    """
    project = project or Project(root)
    return [
        ResourceValidationPolicy(
            name=rule.id,
            description=rule.rationale,
            validate=_validation(project, rule),
            enforcement_level=EnforcementLevel(project.policy.level(rule)),
            config_schema=_config_schema(project, rule),
            remediation_steps=rule.hint,
        )
        for rule in rules.RULES
    ]


def _config_schema(project: Project, rule: rules.Rule) -> PolicyConfigSchema | None:
    if not rule.params:
        return None
    chosen = project.policy.params(rule)
    return PolicyConfigSchema({k.name: {**key_schema(k), "default": chosen[k.name]} for k in rule.params})


def _validation(project: Project, rule: rules.Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        parent = args.opts.parent if args.opts is not None else None
        resource = Resource(args.resource_type, args.name, args.props, args.urn, parent)
        for message in project.violations(rule, resource, dict(args.get_config() or {})):
            report_violation(message, None)

    return validate
