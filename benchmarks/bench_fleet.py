"""Fleet scale: every command a fleet runs, over 1,000 stacks x 5 apps, against parsing the same YAML.

    python benchmarks/bench_fleet.py [--stacks 1000] [--apps 5] [--repeat 5] [--memory-stacks 250]

Builds a git repository of generated stacks (tests/fleetgen.py) in a temporary folder, committed as
`main`, and measures in one run, each in-process with its output captured:

- validate --all: every stack, every rule;
- secrets report: every secret of every stack;
- diff, one stack: one stack file edited (`diff --base main --format json`);
- diff, scope set: imap gains Mail.Read, which reaches the apps that use it in most stacks;
- affected list: the deploy's job-list step for that change: `diff --format affected`, then
  `fleet jobs --affected`.

Each is compared with `yaml.load(text, CSafeLoader)` over the files it reads (stacks/, scopes/,
policy/ and products/ of the working tree, and of `main` for diff), texts already in memory: the floor, since
every command must at least parse them. Figures are the best of --repeat, taken in turns so that
load from elsewhere hits all alike; the ratio is the lower of wall and CPU (CPU counts git too). The
goal is at most 1.5x for each. Memory: the peak Python allocation (tracemalloc) of each command per
stack, at --memory-stacks and at --stacks stacks: flat per stack means the two agree.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAILOAUTH_TODAY", "2026-11-27")

from benchmarks.bench_diff import best  # noqa: E402
from mailoauth import cli  # noqa: E402
from tests import fleetgen  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402

TARGET = 1.5
SCOPE_SET = ("scopes/sets/imap.yaml", "scopes: [IMAP.AccessAsUser.All]", "scopes: [IMAP.AccessAsUser.All, Mail.Read]")


def mailoauth(project: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["-C", str(project), *args])
    assert code in ok, f"mailoauth {' '.join(args)} exited {code}"
    return out.getvalue()


def affected_list(project: Path) -> str:
    """The deploy workflow's job-list step, in-process: the affected stacks, then the chunks."""
    path = project.parent / "affected.json"
    path.write_text(mailoauth(project, "diff", "--base", "main", "--format", "affected"))
    return mailoauth(project, "fleet", "jobs", "--affected", str(path), "--format", "github")


def texts(repo: GitRepo, revisions: bool) -> list[str]:
    """The YAML a command parses: the working tree's stacks/, scopes/, policy/, products/ (and main's, for diff)."""
    folders = ("stacks", "scopes", "policy", "products")
    found = [p.read_text() for f in folders for p in sorted((repo.project / f).rglob("*.yaml"))]
    if revisions:
        listed = repo.git("ls-tree", "-r", "--name-only", "main", *folders).splitlines()
        found += [repo.git("show", f"main:{path}") for path in listed]
    return found


def one_stack(repo: GitRepo, stacks: int) -> None:
    """Edit one stack in the middle of the fleet: a redirect URI of its first app."""
    s = stacks // 2
    repo.edit(f"stacks/Pulumi.{fleetgen.name(s)}.yaml", f"jira-{s}-0.example.com", f"jira-{s}-0.example.org")


def commands(repo: GitRepo, stacks: int) -> list[tuple[str, Callable[[], object], bool, Callable[[], None]]]:
    """(name, the command, whether it reads main too, the edit made before it)."""
    p = repo.project
    return [
        ("validate --all", lambda: mailoauth(p, "validate", "--all"), False, lambda: None),
        ("secrets report", lambda: mailoauth(p, "secrets", "report", ok=(0, 1)), False, lambda: None),
        (
            "diff, one stack",
            lambda: mailoauth(p, "diff", "--base", "main", "--format", "json"),
            True,
            lambda: one_stack(repo, stacks),
        ),
        (
            "diff, scope set",
            lambda: mailoauth(p, "diff", "--base", "main", "--format", "json"),
            True,
            lambda: repo.edit(*SCOPE_SET),
        ),
        ("affected list", lambda: affected_list(p), True, lambda: None),
    ]


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(folder: Path, stacks: int, apps: int, repeat: int) -> tuple[list[tuple[str, float, float]], dict[str, int]]:
    """(name, ratio to parse, command ms) per command, and its peak bytes per stack."""
    repo = fleetgen.build(folder, stacks, apps)
    rows, memory = [], {}
    for name, command, revisions, edit in commands(repo, stacks):
        edit()
        parsed = texts(repo, revisions)
        (parse_s, parse_cpu), (cmd_s, cmd_cpu) = best(
            [lambda t=parsed: [yaml.load(x, Loader=yaml.CSafeLoader) for x in t], command], repeat
        )
        rows.append((name, min(cmd_s / parse_s, cmd_cpu / parse_cpu), cmd_s * 1e3, parse_s * 1e3))
        memory[name] = peak_bytes(command) // stacks
    return rows, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory-stacks", type=int, default=250, help="a smaller fleet, to compare memory per stack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows, memory = run(Path(tmp) / "fleet", args.stacks, args.apps, args.repeat)
        _, small = run(Path(tmp) / "small", args.memory_stacks, args.apps, 1)
    print(f"{args.stacks} stacks x {args.apps} apps; best of {args.repeat}")
    head = f"{'command':<18}{'ms':>9}{'parse ms':>10}{'ratio':>8}"
    print(f"{head}   peak KiB per stack at {args.memory_stacks} / {args.stacks}")
    for name, ratio, ms, parse_ms in rows:
        print(
            f"{name:<18}{ms:9.0f}{parse_ms:10.0f}{ratio:7.2f}x   {small[name] / 1024:8.1f} / {memory[name] / 1024:.1f}"
        )
    worst = max(r[1] for r in rows)
    print(f"worst ratio {worst:.2f}x (goal {TARGET}x): {'PASS' if worst <= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
