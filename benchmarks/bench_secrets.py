"""Secrets benchmark: `secrets report` over many stacks, and `secrets rotate` on a large stack file.

    python benchmarks/bench_secrets.py [--stacks 200] [--apps 5] [--big 200] [--repeat 5]

The report's own work (rows, sorting, rendering) is compared with loading and validating the stacks; rotate is
split into the layout search (ruamel.yaml re-emits the file until one layout reproduces it), the
edit and the validation of the result.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_core import best, synthetic_stack  # noqa: E402

from mailoauth.base.tree import WorkTree  # noqa: E402
from mailoauth.desired import catalogue  # noqa: E402
from mailoauth.edit import secretedit  # noqa: E402
from mailoauth.edit.rtyaml import RoundTrip  # noqa: E402
from mailoauth.project import loader  # noqa: E402
from mailoauth.project.context import ProjectContext  # noqa: E402
from mailoauth.project.guard import project_guard  # noqa: E402
from mailoauth.review import secretslots  # noqa: E402

TODAY = date(2026, 11, 27)


def write_project(project: Path, stacks: int, apps: int, big: int) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copytree(ROOT / "scopes", project / "scopes")
    (project / "stacks").mkdir()
    for i in range(stacks):
        text = f"# stack {i}\n" + yaml.safe_dump(synthetic_stack(apps, f"jira-s{i:03}"), sort_keys=False)
        (project / "stacks" / f"Pulumi.s{i:03}.yaml").write_text(text)
    text = "# the big one\n" + yaml.safe_dump(synthetic_stack(big, "jira-big"), sort_keys=False)
    (project / "stacks" / "Pulumi.big.yaml").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--big", type=int, default=200, help="apps in the stack file that is rotated")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        write_project(project, args.stacks, args.apps, args.big)
        tree = WorkTree(project)
        cat = catalogue.load(tree)
        window = secretslots.Duration(30, "d")

        end = window.after(TODAY)
        guard = project_guard(tree, cat.products)
        stacks = loader.load_stacks(tree, ProjectContext(cat, TODAY, check_expiry=False))
        load_s = best(lambda: loader.load_stacks(tree, ProjectContext(cat, TODAY, check_expiry=False)), args.repeat)
        report_s = best(
            lambda: secretslots.render_text(
                secretslots.report_document(secretslots.report_rows(stacks, TODAY, end), TODAY, window, end)
            ),
            args.repeat,
        )

        source = (project / "stacks" / "Pulumi.big.yaml").read_text()
        stack = loader.load_stack(tree, "big", ProjectContext(cat, TODAY, check_expiry=False))
        app = stack.apps["app-0"]
        rotation = secretslots.rotate(app, secretslots.new_expiry(secretslots.Duration(12, "m"), TODAY), TODAY)
        parse_s = best(lambda: RoundTrip.parse(source, stack.file), args.repeat)
        rotate_s = best(lambda: secretedit.edited_text(source, stack, rotation, cat, TODAY, guard), args.repeat)
        validate_s = best(lambda: loader.load_stack(tree, "big", ProjectContext(cat, TODAY)), args.repeat)

    slots = (args.stacks * args.apps) + args.big
    print(f"report: {args.stacks + 1} stacks, {slots} secret slots, best of {args.repeat}")
    print(f"  load + validate:        {load_s * 1e3:8.1f} ms")
    print(f"  rows, sort and render:  {report_s * 1e3:8.1f} ms  ({report_s / load_s:.1%} of the load)")
    print(f"rotate: one app of a {args.big}-app stack file ({len(source.splitlines())} lines)")
    print(f"  layout search (parse):  {parse_s * 1e3:8.1f} ms")
    print(f"  whole edit + checks:    {rotate_s * 1e3:8.1f} ms  (validating the file alone: {validate_s * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
