"""What the guardrails cost: `validate --all` with and without the rules, and the pack per resource.

Run on demand (not a test):  python benchmarks/bench_guardrails.py [--stacks 200] [--apps 5] [--repeat 5]

A synthetic project of STACKS stack files with APPS apps each (real scope sets, unique callbacks) is
written to a temporary folder. Figures are the best of --repeat runs:
  parse      every stack file with PyYAML's C loader, nothing else (the floor)
  core       check_stacks with every rule disabled (parse, core checks, desired state)
  rules      check_stacks with policy/rules.yaml (core checks + every guardrail, cross-stack included)
  pack       the pack's 11 policies on one Application and one ApplicationPassword, per resource pair
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailoauth.base.tree import WorkTree  # noqa: E402
from mailoauth.deploy import crossguard  # noqa: E402
from mailoauth.desired import catalogue  # noqa: E402
from mailoauth.guardrails import rules  # noqa: E402
from mailoauth.project.context import ProjectContext  # noqa: E402
from mailoauth.project.loader import check_stacks  # noqa: E402

SETS = (["imap", "smtp"], ["graph-read"], ["imap"], ["smtp"], ["graph-read-only", "smtp"])


def write_project(folder: Path, stacks: int, apps: int) -> None:
    for name in ("Pulumi.yaml",):
        shutil.copy(ROOT / name, folder / name)
    for sub in ("scopes", "policy"):
        shutil.copytree(ROOT / sub, folder / sub)
    (folder / "stacks").mkdir()
    for s in range(stacks):
        config = {
            "azuread:tenantId": "11111111-2222-3333-4444-555555555555",
            "mailoauth:apps": {
                f"app-{a}": {
                    "displayName": f"Mail app {s}/{a}",
                    "audience": "single-tenant",
                    "redirectUris": [f"https://jira-{s}-{a}.example.com/plugins/servlet/oauth2/callback"],
                    "scopeSets": SETS[a % len(SETS)],
                    "secret": {"description": f"s{s}a{a}", "expires": date(2027, 5, 31)},
                }
                for a in range(apps)
            },
        }
        (folder / "stacks" / f"Pulumi.s{s:04d}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")


def best(repeat: int, *works: Callable[[], object]) -> list[float]:
    """Best time of each piece of work, run in turns so that a busy machine slows all of them alike."""
    times: list[list[float]] = [[] for _ in works]
    for _ in range(repeat):
        for spent, work in zip(times, works, strict=True):
            start = time.perf_counter()
            work()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_project(folder, args.stacks, args.apps)
        tree = WorkTree(folder)
        cat = catalogue.load(tree)
        today = date(2026, 11, 27)
        off = rules.Policy({r.id: {"level": "disabled"} for r in rules.RULES})
        files = sorted((folder / "stacks").iterdir())
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        parse, core, full = best(
            args.repeat,
            lambda: [yaml.load(f.read_text(), Loader=loader) for f in files],
            lambda: check_stacks(tree, ProjectContext(cat, today, rules.Guard(off))),
            lambda: check_stacks(tree, ProjectContext(cat, today)),
        )
        stacks, problems = check_stacks(tree, ProjectContext(cat, today))
        assert len(stacks) == args.stacks and not problems, problems[:3]

        project = crossguard.Project(folder, today=today)
        application = crossguard.Resource(
            crossguard.APPLICATION,
            "app-0",
            {
                "signInAudience": "AzureADMyOrg",
                "owners": ["0d0d0d0d-1111-4222-8333-444444444444"],
                "web": {"redirectUris": ["https://jira-0-0.example.com/plugins/servlet/oauth2/callback"]},
                "requiredResourceAccesses": [
                    {
                        "resourceAppId": "00000003-0000-0000-c000-000000000000",
                        "resourceAccesses": [{"id": "652390e4-393a-48de-9484-05f9b1212954", "type": "Scope"}],
                    }
                ],
            },
            f"urn:pulumi:s0000::mailoauth::mailoauth:index:MailApp${crossguard.APPLICATION}::app-0",
            "urn:pulumi:s0000::mailoauth::pulumi:pulumi:Stack$mailoauth:index:MailApp::app-0",
        )
        password = crossguard.Resource(crossguard.PASSWORD, "app-0-secret", {"endDate": "2027-05-31T00:00:00Z"})
        pairs = 1000
        (pack,) = best(
            args.repeat,
            lambda: [
                project.violations(rule, resource)
                for _ in range(pairs)
                for resource in (application, password)
                for rule in rules.RULES
            ],
        )

    n_apps = args.stacks * args.apps
    print(f"synthetic project: {args.stacks} stacks x {args.apps} apps = {n_apps} apps; best of {args.repeat}")
    print(f"parse  {parse * 1000:8.1f} ms  (PyYAML C loader, stack files only)")
    print(f"core   {core * 1000:8.1f} ms  ({core / parse:.2f}x parse)")
    print(f"rules  {full * 1000:8.1f} ms  ({full / parse:.2f}x parse)")
    print(f"guardrail cost {(full - core) * 1000:.1f} ms = {(full - core) / n_apps * 1e6:.0f} us per app")
    print(
        f"pack   {pack / pairs * 1e6:8.0f} us per Application + ApplicationPassword (all {len(rules.RULES)} policies)"
    )


if __name__ == "__main__":
    main()
