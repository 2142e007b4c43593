"""What product profiles cost: `validate --all` with apps that name a product against the same apps written out.

Run on demand (not a test):  python benchmarks/bench_products.py [--stacks 200] [--apps 5] [--repeat 5]

Two synthetic projects of STACKS stack files with APPS apps each are written to a temporary folder: in one
every app names a product and its use cases (Odoo, callback from instanceUrl), in the other the same apps
give scopeSets and redirectUris themselves. Figures are the best of --repeat runs:
  catalogue   catalogue.load with the profiles (what every command that reads stacks pays once)
  written     check_stacks over the project with written-out keys
  product     check_stacks over the project whose apps derive their keys from the profile
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_core import best  # noqa: E402 (this folder: the other benchmarks' timing helper)

from mailoauth.base.tree import WorkTree  # noqa: E402
from mailoauth.desired import catalogue  # noqa: E402
from mailoauth.project import loader  # noqa: E402
from mailoauth.project.context import ProjectContext  # noqa: E402


def app(stack: int, key: int, product: bool) -> dict[str, Any]:
    base: dict[str, Any] = {
        "displayName": f"Odoo mail {stack}/{key}",
        "secret": {"description": f"s{stack}a{key}", "expires": date(2027, 5, 31)},
    }
    instance = f"https://erp-{stack}-{key}.example.com"
    if product:
        return {**base, "product": "odoo", "useCases": ["incoming-imap", "outgoing-smtp"], "instanceUrl": instance}
    return {**base, "scopeSets": ["imap", "smtp"], "redirectUris": [f"{instance}/microsoft_outlook/confirm"]}


def write_project(folder: Path, stacks: int, apps: int, product: bool) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    for sub in ("scopes", "policy", "products"):
        shutil.copytree(ROOT / sub, folder / sub)
    (folder / "stacks").mkdir()
    for s in range(stacks):
        config = {
            "azuread:tenantId": "11111111-2222-3333-4444-555555555555",
            "mailoauth:apps": {f"app-{a}": app(s, a, product) for a in range(apps)},
        }
        (folder / "stacks" / f"Pulumi.s{s:04d}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = {kind: Path(tmp) / kind for kind in ("written", "product")}
        for kind, folder in folders.items():
            folder.mkdir()
            write_project(folder, args.stacks, args.apps, kind == "product")
        cat = catalogue.load(WorkTree(folders["product"]))
        figures = {"catalogue": best(lambda: catalogue.load(WorkTree(folders["product"])), args.repeat)}
        for kind, folder in folders.items():
            tree, project = WorkTree(folder), ProjectContext(cat, date(2026, 11, 27))

            def run(tree: WorkTree = tree, project: ProjectContext = project) -> None:
                _stacks, problems = loader.check_stacks(tree, project)
                assert not [p for p in problems if p.severity == "error"], problems[:3]

            figures[kind] = best(run, args.repeat)
    apps = args.stacks * args.apps
    for name, seconds in figures.items():
        print(f"{name:<10} {seconds * 1000:9.1f} ms")
    print(f"product/written {figures['product'] / figures['written']:.2f}x over {apps} apps")


if __name__ == "__main__":
    main()
