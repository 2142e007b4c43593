"""`mailoauth diff` for people: a terminal listing, and a PR comment in the style of tfcmt.

The comment opens with a one-line summary and the high-risk changes, then one collapsible
section per stack with a table per app. It stays under GitHub's comment size limit by falling
back to per-stack counts; high-risk changes are always listed first.
"""

from __future__ import annotations

import html

from mailoauth.base.style import count, paint
from mailoauth.review.diff import AppDiff, Change, Report, Revision, StackDiff, highest
from mailoauth.review.plan import consent_label

SIGN = {"added": "+", "removed": "-", "changed": "~", "rotated": "~", "renamed": "~"}
KIND = {
    "app": "app",
    "tenant": "tenant",
    "cloud": "cloud",
    "audience": "audience",
    "adminConsent": "admin consent",
    "permission": "permission",
    "redirectUri": "redirect URI",
    "secret": "secret",
    "owner": "owner",
    "mailbox": "mailbox",
    "displayName": "display name",
    "allowWideAudience": "wide audience ack",
    "allowPublicClientFlows": "public client flows",
    "clientId": "client id",
    "import": "import",
}
BADGE = {"high": ":red_circle: **high**", "medium": ":orange_circle: medium", "low": ":white_circle: low"}
ADMIN = "For the mail handler's admin, after `pulumi up`:"
MARKDOWN_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters


def details(c: Change) -> str:
    """The facts of a change in one line: a permission's resource, GUID, consent and access, or before → after."""
    if c.permission:
        p = c.permission
        text = f"{p['resource']}, {p['id']}, {consent_label(p)}, {p['access']}"
        return text + (f", via {' + '.join(p['via'])}" if p["via"] else "")
    if c.kind == "secret":
        return f"{c.before} → {c.after}" if c.before and c.after else c.after or c.before or ""
    return (c.after or c.before or "") if c.kind == "app" else ""  # an app's display name; values are in the subject


def render_text(report: Report, colour: bool = False) -> str:
    """The terminal report; with `colour`, high-risk rows (either axis) in red, medium ones in yellow."""
    lines = [report.summary()]
    for stack in report.changed:
        lines += ["", f"stack {stack.name} ({stack.status}, security {stack.risk}, availability {stack.availability})"]
        lines += [_text_row(c, "  ", colour) for c in stack.changes]
        for app in stack.apps:
            levels = f"security {app.risk}, availability {app.availability}"
            lines.append(f"  {SIGN[app.status]} {app.key}: {app.display_name}  [{levels}]")
            lines += [_text_row(c, "      ", colour) for c in app.changes]
            lines += [f"      ! {w}" for w in app.warnings]
            lines += [f"      → mail handler: {note}" for note in app.downstream]
    return "\n".join(lines) + "\n"


def _text_row(c: Change, indent: str, colour: bool = False) -> str:
    facts = details(c)
    row = (
        f"{SIGN[c.action]} {KIND[c.kind]:<17} {c.subject}"
        + (f"  ({facts})" if facts else "")
        + f"  [security {c.risk}{': ' + c.why if c.why else ''}]"
        + (f" [availability {c.availability}: {c.outage}]" if c.outage else "")
    )
    return indent + paint(row, highest((c.risk, c.availability)), colour)


def render_markdown(report: Report, limit: int = MARKDOWN_LIMIT) -> str:
    head = [f"**mailoauth diff**: {_escape(report.summary())}", ""]
    if not report.changed:
        return "\n".join(head)
    high = [*_high_risk_table(report, "security"), *_high_risk_table(report, "availability")]
    full = "\n".join([*head, *high, *(line for s in report.changed for line in _stack_section(s)), _footer(report)])
    if len(full) <= limit:
        return full
    compact = [*head, *high, "### Stacks", "", *(_stack_line(s) for s in report.changed), "", _too_long(report)]
    text = "\n".join(compact)
    return text if len(text) <= limit else _cut(text, limit)


HIGH_TITLES = {
    "security": "### :red_circle: High security risk: what the registration may now do",
    "availability": "### :warning: High availability risk: what may stop working",
}


def _high_risk_table(report: Report, axis: str) -> list[str]:
    rows = [(s, a, c) for s, a, c in report.changes(axis) if c.level(axis) == "high"]
    if not rows:
        return []
    out = [HIGH_TITLES[axis], "", "| stack | app | change | why |", "|---|---|---|---|"]
    out += [
        f"| {_code(s.name)} | {_code(a.key) if a else '(stack)'} | {SIGN[c.action]} {KIND[c.kind]} "
        f"{_code(c.subject)} | {_escape((c.why if axis == 'security' else c.outage) or '')} |"
        for s, a, c in rows
    ]
    return [*out, ""]


def _stack_line(s: StackDiff) -> str:
    return (
        f"- {_code(s.name)} ({s.status}): {count(len(s.apps), 'app')} changed, security {BADGE[s.risk]}, "
        f"availability {BADGE[s.availability]}"
    )


def _stack_section(s: StackDiff) -> list[str]:
    opened = " open" if "high" in (s.risk, s.availability) else ""
    out = [f"<details{opened}><summary>{_summary(s)}</summary>", ""]
    if s.changes:
        out += [*_table(s.changes), ""]
    for app in s.apps:
        out += _app_section(app)
    return [*out, "</details>", ""]


def _summary(s: StackDiff) -> str:
    return (
        f"stack <code>{html.escape(s.name)}</code> ({s.status}): {count(len(s.apps), 'app')} changed, "
        f"security {s.risk}, availability {s.availability}"
    )


def _app_section(app: AppDiff) -> list[str]:
    renamed = f" (was {_code(app.renamed_from)})" if app.renamed_from else ""
    out = [f"#### {SIGN[app.status]} {_code(app.key)}{renamed}: {_escape(app.display_name)} ({app.status})", ""]
    if app.status != "removed":
        sets = ", ".join(app.scope_sets) or "none"
        out += [f"scope sets: {_escape(sets)}; admin consent: {'yes' if app.admin_consent else 'no'}", ""]
    out += [f"> :warning: {_escape(w)}" for w in app.warnings]
    out += [""] if app.warnings else []
    out += [*_table(app.changes), ""]
    if app.downstream:
        out += [ADMIN, "", *(f"- {_escape(note)}" for note in app.downstream), ""]
    return out


def _table(changes: tuple[Change, ...]) -> list[str]:
    out = ["| | change | what | details | security | availability |", "|---|---|---|---|---|---|"]
    out += [
        f"| {SIGN[c.action]} | {KIND[c.kind]} | {_code(c.subject)} | {_escape(details(c))} | "
        f"{BADGE[c.risk]}{': ' + _escape(c.why) if c.why else ''} | "
        f"{BADGE[c.availability]}{': ' + _escape(c.outage) if c.outage else ''} |"
        for c in changes
    ]
    return out


def _footer(report: Report) -> str:
    return (
        f"<sub>Desired state from stacks/ and scopes/ at {_where(report.base)} and {_where(report.head)}, "
        "compared by `mailoauth diff`. No secret values are read or shown.</sub>\n"
    )


def _where(r: Revision) -> str:
    return f"{_code(r.ref)} ({r.commit[:12]})" if r.ref and r.commit else "the working tree"


def _too_long(report: Report) -> str:
    return (
        f"The full report is longer than a PR comment allows; run `mailoauth diff --base {report.base.name}` "
        "locally or see the job summary for every app's table.\n"
    )


def _cut(text: str, limit: int) -> str:
    note = "\n\n… (cut to fit a PR comment)\n"
    return text[: limit - len(note)].rsplit("\n", 1)[0] + note


def _escape(text: str) -> str:
    """User text (display names, warnings) as inert markdown: no HTML, no table breaks."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    """An inline code span that can sit in a table cell (backticks and pipes would end it early)."""
    return "`" + (text or "").replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"
