"""A generated fleet: many stacks with a few apps each, in a real git repository, for tests and benchmarks.

Stack `sNNN` (tenant `NNNNNNNN-2222-3333-4444-555555555555`, the number in hex) has apps `app-0`...;
app `a` of stack `s` asks for `SETS[(s + a) % len(SETS)]`, so which stacks a scope set reaches
follows from the numbers alone (`stacks_using`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.gitrepo import GitRepo

SETS = (("imap", "smtp"), ("graph-read",), ("smtp",), ("imap",), ("graph-read-only", "smtp"), ("graph-send",))
AUDIENCES = ("single-tenant", "single-tenant", "multi-tenant", "single-tenant", "single-tenant", "single-tenant")


def name(s: int) -> str:
    return f"s{s:03}"


def stack_text(s: int, apps: int) -> str:
    lines = [
        f"# synthetic stack {s}",
        "config:",
        f"  azuread:tenantId: {s:08x}-2222-3333-4444-555555555555",
        "  mailoauth:apps:",
    ]
    for a in range(apps):
        kind = (s + a) % len(SETS)
        lines += [
            f"    app-{a}:",
            f"      displayName: Mail handler {s}-{a}",
            f"      audience: {AUDIENCES[kind]}",
            f"      redirectUris: [https://jira-{s}-{a}.example.com/plugins/servlet/oauth2/callback]",
            f"      scopeSets: [{', '.join(SETS[kind])}]",
            *(["      allowWideAudience: true"] if AUDIENCES[kind] != "single-tenant" else []),
            f"      secret: {{description: app-{s}-{a}, expires: 2027-0{1 + a % 9}-28}}",
            f"      adminConsent: {'true' if a % 2 else 'false'}",
            f"      mailboxes: [support-{a}@example.com]",
        ]
    return "\n".join(lines) + "\n"


def build(folder: Path, stacks: int, apps: int) -> GitRepo:
    """The project's scopes and policy with `stacks` generated stack files, committed on `main`."""
    repo = GitRepo(folder)
    shutil.rmtree(repo.project / "stacks")
    for s in range(stacks):
        repo.write(f"stacks/Pulumi.{name(s)}.yaml", stack_text(s, apps))
    repo.commit("synthetic stacks")
    return repo


def stacks_using(scope_set: str, stacks: int, apps: int) -> list[str]:
    """The stacks with an app that names `scope_set` directly."""
    return [name(s) for s in range(stacks) if any(scope_set in SETS[(s + a) % len(SETS)] for a in range(apps))]
