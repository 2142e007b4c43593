"""Core benchmark: `mailoauth plan` against evaluating the Pulumi program under mocks, in one run.

    python benchmarks/bench_core.py [--apps 200] [--repeat 5]

Prints per-app costs and the ratios the README quotes. Absolute times depend on the machine;
the ratios are what to compare between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAILOAUTH_TODAY", "2026-11-27")

from mailoauth.base.tree import WorkTree  # noqa: E402
from mailoauth.desired import catalogue  # noqa: E402
from mailoauth.project import loader  # noqa: E402
from mailoauth.project.context import ProjectContext  # noqa: E402
from mailoauth.review import plan  # noqa: E402
from tests.pulumi_harness import run_program, stack_config  # noqa: E402

SETS = (["imap", "smtp"], ["graph-read"], ["smtp"], ["imap"], ["graph-read-only", "smtp"])


def synthetic_stack(apps: int, instance: str = "jira") -> dict:
    """A stack of `apps` apps whose callbacks are on hosts `<instance>-<i>` (one instance per stack in a project)."""
    return {
        "config": {
            "azuread:tenantId": "11111111-2222-3333-4444-555555555555",
            "mailoauth:apps": {
                f"app-{i}": {
                    "displayName": f"Mail handler {i}",
                    "redirectUris": [f"https://{instance}-{i}.example.com/plugins/servlet/oauth2/callback"],
                    "scopeSets": SETS[i % len(SETS)],
                    "secret": {"description": f"app-{i}", "expires": "2027-05-31"},
                    "adminConsent": i % 2 == 0,
                }
                for i in range(apps)
            },
        }
    }


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "Pulumi.yaml", project)
        shutil.copytree(ROOT / "scopes", project / "scopes")
        (project / "stacks").mkdir()
        doc = synthetic_stack(args.apps)
        (project / "stacks" / "Pulumi.bench.yaml").write_text(json.dumps(doc))  # JSON is YAML

        tree = WorkTree(project)
        plan_s = best(
            lambda: json.dumps(
                plan.plan_document(loader.load_stack(tree, "bench", ProjectContext(catalogue.load(tree))))
            ),
            args.repeat,
        )
        program_s = best(lambda: run_program(stack_config(doc), "bench"), max(1, args.repeat // 2))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cli = [sys.executable, "-m", "mailoauth", "-C", str(project), "plan", "--stack", "bench", "--format", "json"]
        cli_s = best(lambda: subprocess.run(cli, env=env, check=True, capture_output=True), args.repeat)
        bare_s = best(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.repeat)
    resources = args.apps * 3 + args.apps // 2 + (args.apps % 2)
    print(f"apps: {args.apps} ({resources} resources under mocks), best of {args.repeat}")
    print(f"plan in-process:          {plan_s * 1e3:8.1f} ms  ({plan_s / args.apps * 1e3:.3f} ms/app)")
    print(f"program under mocks:      {program_s * 1e3:8.1f} ms  ({program_s / args.apps * 1e3:.3f} ms/app)")
    print(f"`mailoauth plan` process: {cli_s * 1e3:8.1f} ms  (bare interpreter start {bare_s * 1e3:.1f} ms)")
    print(f"ratio program/plan: {program_s / plan_s:.1f}x; plan process / bare interpreter: {cli_s / bare_s:.1f}x")


if __name__ == "__main__":
    main()
