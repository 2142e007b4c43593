"""How many Microsoft Graph requests `mailoauth audit` makes per app, against the fake Graph.

Run from the project root:  /work/venv/bin/python benchmarks/bench_audit.py [N ...]
For each N, a stack of N apps (found by client id, and again by display name) is deployed into the
fake tenant and audited through the real CLI; the fake server counts the HTTP requests it received
(a $batch counts once) and the Graph operations inside them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailoauth.base.tree import WorkTree
from mailoauth.cli import main
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from tests.fakes.cloud import FakeCloud
from tests.fakes.project import write_project

TODAY = "2026-06-01"


def apps(n: int, with_client_ids: bool) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for i in range(n):
        app: dict[str, object] = {
            "displayName": f"Mail handler {i:04d}",
            "redirectUris": [f"https://mail{i}.example.com/callback"],
            "scopeSets": ["imap", "smtp"],
            "secret": {"description": f"secret {i}", "expires": "2027-01-31"},
            "adminConsent": i % 2 == 0,
        }
        if with_client_ids:
            app["clientId"] = f"{i:08x}-0000-4000-8000-{i:012x}"
        out[f"app-{i:04d}"] = app
    return out


def measure(cloud: FakeCloud, folder: Path, n: int, with_client_ids: bool) -> tuple[int, int, float]:
    cloud.reset()
    write_project(folder, apps(n, with_client_ids))
    tree = WorkTree(folder)
    stack = loader.load_stack(tree, "test", ProjectContext(catalogue.load(tree), date.fromisoformat(TODAY)))
    cloud.tenant.deploy(stack)
    cloud.graph_router.reset()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["-C", str(folder), "audit", "--stack", "test", "--graph-url", cloud.graph_url, "--format", "json"])
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"audit of {n} apps exited {code}")
    return len(cloud.graph.http_requests), len(cloud.graph.calls), elapsed


def run(sizes: list[int]) -> None:
    cloud = FakeCloud().start()
    os.environ.update(cloud.env())
    os.environ["MAILOAUTH_TODAY"] = TODAY
    try:
        with tempfile.TemporaryDirectory() as tmp:
            measure(cloud, Path(tmp), 1, True)  # warm-up: msgraph's lazy model imports
            print(f"{'apps':>5} {'lookup':>12} {'HTTP requests':>14} {'per app':>8} {'Graph ops':>10} {'seconds':>8}")
            for n in sizes:
                for with_ids in (True, False):
                    http, ops, elapsed = measure(cloud, Path(tmp), n, with_ids)
                    lookup = "clientId" if with_ids else "displayName"
                    print(f"{n:>5} {lookup:>12} {http:>14} {http / n:>8.3f} {ops:>10} {elapsed:>8.2f}")
    finally:
        cloud.stop()


if __name__ == "__main__":
    run([int(a) for a in sys.argv[1:]] or [1, 20, 100, 300])
