"""Verify benchmark: what `mailoauth verify` itself costs, against the local fakes (no network latency).

    python benchmarks/bench_verify.py [--repeat 5]

A whole browser-flow verification of IMAP, SMTP and Graph, as a fresh process (what a user waits
for, imports included) and in a warm process (the protocol work alone), plus `mailoauth explain`.
Against Microsoft the round trips to login, Exchange and Graph dominate; these figures are the
floor the tool adds.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAILOAUTH_TODAY", "2026-11-27")

from mailoauth import cli  # noqa: E402
from tests.fakes.browser import UserBrowser  # noqa: E402
from tests.fakes.cloud import FakeCloud  # noqa: E402
from tests.mailfakes import FakeImap, FakeSmtp, Mailboxes, exchange_tokens  # noqa: E402
from tests.verify_world import USER, Deployment, verify_project  # noqa: E402


def median_s(run: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd (the fake SMTP server) logs a deprecation
    with tempfile.TemporaryDirectory() as tmp:
        cloud = FakeCloud(Path(tmp)).start()
        cloud.reset()
        os.environ.update(AZURE_AUTHORITY_HOST=cloud.authority, SSL_CERT_FILE=cloud.ca_path)
        account = cloud.signin.account(cloud.tenant.add_user(USER))
        imap_boxes = Mailboxes(tokens=exchange_tokens(cloud.book.claims, "IMAP.AccessAsUser.All"))
        smtp_boxes = Mailboxes(tokens=exchange_tokens(cloud.book.claims, "SMTP.Send"))
        with (
            FakeImap(cloud.tls.server_context(), imap_boxes) as imap,
            FakeSmtp(cloud.tls.server_context(), smtp_boxes) as smtp,
        ):
            browser = UserBrowser(cloud.ca_path, cloud.signin.session(account))
            (Path(tmp) / "project").mkdir()
            deployment = Deployment(cloud, verify_project(Path(tmp) / "project"), imap, smtp)
            deployment.deploy()
            outputs = json.dumps(deployment.outputs())
            argv = [*deployment.args("helpdesk"), "--outputs", "-"]
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "BROWSER": f"{sys.executable} -m tests.fakes.browser %s",
                "FAKE_BROWSER_COOKIE": browser.cookie or "",
            }

            def process() -> None:
                done = subprocess.run(
                    [sys.executable, "-m", "mailoauth", *argv],
                    input=outputs,
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
                assert done.returncode == 0, done.stdout + done.stderr

            def in_process() -> None:
                import webbrowser

                webbrowser.open = browser.open  # type: ignore[assignment]
                sys.stdin = io.StringIO(outputs)
                with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                    assert cli.main(argv) == 0

            def explain() -> None:
                subprocess.run(
                    [sys.executable, "-m", "mailoauth", "explain", "AADSTS65001"],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    check=True,
                )

            in_process()  # warm the imports (msgraph-sdk) once
            cold = median_s(process, args.repeat)
            warm = median_s(in_process, args.repeat)
            explain_s = median_s(explain, args.repeat)
        cloud.stop()
    print(f"mailoauth verify, browser flow, IMAP + SMTP + Graph against local fakes, median of {args.repeat}")
    print(f"  fresh process (imports, browser process, 8 steps): {cold * 1e3:8.0f} ms")
    print(f"  warm process (the steps alone):                    {warm * 1e3:8.0f} ms")
    print(f"  mailoauth explain (fresh process):                 {explain_s * 1e3:8.0f} ms")


if __name__ == "__main__":
    main()
