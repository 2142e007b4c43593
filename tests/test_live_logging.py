"""A failing sign-in in a real process prints one line: no SDK log records, no token, no secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.project import mail_app, write_project
from tests.projectcopy import ROOT


def test_wrong_secret_prints_one_line_and_no_sdk_logging(fake_cloud, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"jira": mail_app("Jira", ["imap"])})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ARM_"))}
    env.update(
        fake_cloud.env(),
        AZURE_CLIENT_SECRET="Wr0ng~S3cret~value",
        PYTHONPATH=str(ROOT),
        MAILOAUTH_TODAY="2026-11-27",
        PATH=str(tmp_path),
    )
    # logging configured at DEBUG by the embedding process: the SDKs must still stay quiet
    code = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG); from mailoauth.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "-C",
            str(project),
            "audit",
            "--stack",
            "test",
            "--graph-url",
            fake_cloud.graph_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("DEBUG:asyncio:")]  # ours, not SDKs'
    assert len(lines) == 1, result.stderr
    assert "AADSTS7000215" in lines[0]
    assert "Wr0ng~S3cret~value" not in result.stderr + result.stdout
