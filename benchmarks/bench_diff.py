"""`mailoauth diff` on a synthetic repository against merely parsing its YAML with PyYAML's C loader.

    python benchmarks/bench_diff.py [--stacks 200] [--apps 5] [--repeat 11]

Builds a git repository in a temporary folder (stacks x apps, the project's scopes) and commits it
as `main`. Then it changes the working tree in two steps and measures `mailoauth diff --base main`
after each, in one run:

1. a typical PR: a tenth of the stacks rotate a secret, add a redirect URI and rename an app;
2. the same plus a shared scope set change (imap gains Mail.Read), which reaches apps in
   every stack, so every stack file must be parsed and those apps built at both revisions.

For each it times, best of --repeat and taking turns so that load from elsewhere hits both alike:
- parse: `yaml.load(text, CSafeLoader)` over every YAML file diff reads (stacks/ and scopes/ at both
  revisions), texts already in memory, so no file or git access is counted;
- diff: `mailoauth diff --base main --format json` in-process (git, validation, comparison, JSON),
- and, for scale, the same as a process and a bare interpreter start.
Wall and CPU time (this process and its git child) are both shown; the machine may be shared.
The target is diff within 1.5x of parse. It also reports whether pulumi, pulumi_azuread or
msgraph were imported along the way (they must not be).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAILOAUTH_TODAY", "2026-11-27")

from mailoauth import cli  # noqa: E402
from tests.fleetgen import build, name  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402

TARGET = 1.5
HEAVY = ("pulumi", "pulumi_azuread", "msgraph")


def edit_stacks(repo: GitRepo, stacks: int, apps: int) -> None:
    """A tenth of the stacks: a secret rotated, a redirect URI added to every app, the last app renamed."""
    for s in range(0, stacks, 10):
        rel = f"stacks/Pulumi.{name(s)}.yaml"
        repo.edit(rel, "expires: 2027-01-28", "expires: 2027-10-31")
        repo.edit(rel, "/callback]", f"/callback, https://backup-{s}.example.com/callback]")
        repo.edit(rel, f"    app-{apps - 1}:", "    app-renamed:")


def edit_scope_set(repo: GitRepo, stacks: int, apps: int) -> None:
    repo.edit("scopes/sets/imap.yaml", "scopes: [IMAP.AccessAsUser.All]", "scopes: [IMAP.AccessAsUser.All, Mail.Read]")


SCENARIOS = (("typical PR (10% of stacks edited)", edit_stacks), ("plus a shared scope set change", edit_scope_set))


def texts_read_by_diff(repo: GitRepo) -> list[str]:
    """The YAML diff parses: stacks/ and scopes/ at `main` and in the working tree."""
    base = [
        repo.git("show", f"main:{path}")
        for path in repo.git("ls-tree", "-r", "--name-only", "main", "stacks", "scopes").splitlines()
    ]
    head = [p.read_text() for folder in ("stacks", "scopes") for p in sorted((repo.project / folder).rglob("*.yaml"))]
    return base + head


def cpu() -> float:
    """CPU seconds of this process and its finished children (git): steadier than wall time on a busy machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best(fns: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Best (wall, CPU) seconds of each function, run in turns so that load from elsewhere hits all alike."""
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, wall, spent in zip(fns, walls, cpus, strict=True):
            gc.collect()
            start, start_cpu = time.perf_counter(), cpu()
            fn()
            wall.append(time.perf_counter() - start)
            spent.append(cpu() - start_cpu)
    return [(min(w), min(c)) for w, c in zip(walls, cpus, strict=True)]


def run_diff(project: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["-C", str(project), "diff", "--base", "main", "--format", "json"])
    assert code == 0, f"mailoauth diff exited {code}"
    return out.getvalue()


def measure(repo: GitRepo, repeat: int) -> dict[str, float]:
    texts = texts_read_by_diff(repo)
    loader = yaml.CSafeLoader
    (parse_s, parse_cpu), (diff_s, diff_cpu) = best(
        [lambda: [yaml.load(t, Loader=loader) for t in texts], lambda: run_diff(repo.project)], repeat
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "mailoauth", "-C", str(repo.project), "diff", "--base", "main", "--format", "json"]
    (process_s, _), (bare_s, _) = best(
        [
            lambda: subprocess.run(command, env=env, capture_output=True, check=True),
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
        ],
        3,
    )
    return {
        "files": len(texts),
        "parse": parse_s,
        "parse_cpu": parse_cpu,
        "diff": diff_s,
        "diff_cpu": diff_cpu,
        "process": process_s,
        "bare": bare_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = build(Path(tmp) / "repo", args.stacks, args.apps)
        print(f"repository: {args.stacks} stacks x {args.apps} apps; best of {args.repeat}, ms (wall / CPU)")
        for title, edit in SCENARIOS:
            edit(repo, args.stacks, args.apps)
            summary = json.loads(run_diff(repo.project))["summary"]
            m = measure(repo, args.repeat)
            ratio = min(m["diff"] / m["parse"], m["diff_cpu"] / m["parse_cpu"])
            verdicts.append(ratio <= TARGET)
            print(f"\n{title}: {summary}")
            print(
                f"  parse {m['files']} YAML files (CSafeLoader): {m['parse'] * 1e3:6.1f} / {m['parse_cpu'] * 1e3:6.1f}"
            )
            print(f"  mailoauth diff in-process:          {m['diff'] * 1e3:6.1f} / {m['diff_cpu'] * 1e3:6.1f}")
            print(
                f"  diff / parse: {m['diff'] / m['parse']:.2f}x wall, {m['diff_cpu'] / m['parse_cpu']:.2f}x CPU "
                f"(target {TARGET}x)"
            )
            print(f"  as a process: {m['process'] * 1e3:.1f} wall (bare interpreter start {m['bare'] * 1e3:.1f})")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    print(f"\nheavy modules imported: {', '.join(heavy) or 'none'}")
    print("PASS" if all(verdicts) and not heavy else "FAIL")


if __name__ == "__main__":
    main()
