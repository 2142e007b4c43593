"""Microsoft Graph requests and time of `consent list` and `consent revoke --all` as consenting users grow.

Run from the project root:  /work/venv/bin/python benchmarks/bench_consent.py [USERS ...]
For each count, one app is deployed into the fake tenant with that many users' own consents; the
real CLI lists them (users named in batched `id in (...)` lookups) and then revokes them all
(DELETEs, 20 to a batch). The fake server counts HTTP requests (a $batch counts once) and the Graph
operations inside them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailoauth.base.tree import WorkTree
from mailoauth.cli import main
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from tests.fakes.cloud import FakeCloud
from tests.fakes.project import mail_app, write_project

TODAY = "2026-06-01"


def consented(cloud: FakeCloud, folder: Path, users: int) -> None:
    """A fresh tenant holding the one-app stack and `users` users who each consented to it."""
    cloud.reset()
    write_project(folder, {"mail": mail_app("Jira mail handler", ["imap", "smtp"])})
    tree = WorkTree(folder)
    stack = loader.load_stack(tree, "test", ProjectContext(catalogue.load(tree), date.fromisoformat(TODAY)))
    sp = cloud.tenant.deploy(stack)["mail"].service_principal
    for i in range(users):
        user = cloud.tenant.add_user(f"user{i:05d}@example.com")
        cloud.tenant.add_grant(sp, cloud.tenant.graph_sp, ["IMAP.AccessAsUser.All", "SMTP.Send"], user["id"])
    cloud.graph_router.reset()


def timed(cloud: FakeCloud, folder: Path, *argv: str) -> tuple[int, int, float]:
    """(HTTP requests, Graph operations, seconds) of one CLI run, which must exit 0."""
    cloud.graph_router.reset()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["-C", str(folder), "consent", *argv, "--stack", "test", "--graph-url", cloud.graph_url])
    if code != 0:
        raise SystemExit(f"consent {' '.join(argv)} exited {code}")
    return len(cloud.graph.http_requests), len(cloud.graph.calls), time.perf_counter() - start


@contextlib.contextmanager
def signed_in() -> Iterator[tuple[FakeCloud, Path]]:
    """A running fake cloud the CLI signs in to, and a folder for the project."""
    cloud = FakeCloud().start()
    os.environ.update({**cloud.env(), "MAILOAUTH_TODAY": TODAY})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield cloud, Path(tmp)
    finally:
        cloud.stop()


def run(counts: list[int]) -> None:
    commands = {"list": ("list",), "revoke --all": ("revoke", "--app", "mail", "--all", "--yes")}
    with signed_in() as (cloud, folder):
        consented(cloud, folder, 1)
        timed(cloud, folder, "list")  # warm-up: msgraph's lazy imports
        print(f"{'users':>6} {'command':>12} {'HTTP requests':>14} {'Graph ops':>10} {'seconds':>8}")
        for n in counts:
            consented(cloud, folder, n)
            for name, argv in commands.items():
                http, ops, elapsed = timed(cloud, folder, *argv)
                print(f"{n:>6} {name:>12} {http:>14} {ops:>10} {elapsed:>8.2f}")
            if cloud.tenant.grants:
                raise SystemExit(f"{len(cloud.tenant.grants)} grant(s) left after revoke --all")


if __name__ == "__main__":
    run([int(a) for a in sys.argv[1:]] or [1, 20, 100, 500])
