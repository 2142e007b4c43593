"""Throwaway copies of this project for the guardrail tests: stack files, scope sets and policy edited per test."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailoauth import cli
from tests.projectcopy import DATA, copy_project

TODAY = "2026-11-27"  # EWS is blocked (since 2026-10-01) but not yet shut down (2027-04-01)
TENANT = "11111111-2222-3333-4444-555555555555"
CALLBACK = "https://jira-test.example.com/plugins/servlet/oauth2/callback"  # used by no example stack


def make_project(tmp: Path) -> Path:
    """A copy of the project's files (not its package): Pulumi.yaml, __main__.py, scopes/, stacks/, policy/."""
    return copy_project(tmp, "__main__.py", *DATA)


def app(**settings: Any) -> dict[str, Any]:
    """A valid single-tenant IMAP app whose secret expires in six months; keyword arguments override keys."""
    base: dict[str, Any] = {
        "displayName": "Jira mail handler (test)",
        "audience": "single-tenant",
        "redirectUris": [CALLBACK],
        "scopeSets": ["imap"],
        "secret": {"description": "jira-test", "expires": date(2027, 5, 27)},
    }
    return {k: v for k, v in {**base, **settings}.items() if v is not None}


def stack_doc(apps: dict[str, Any]) -> dict[str, Any]:
    return {"config": {"azuread:tenantId": TENANT, "mailoauth:apps": apps}}


def write_stack(root: Path, name: str, apps: dict[str, Any]) -> Path:
    path = root / "stacks" / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(stack_doc(apps), sort_keys=False), encoding="utf-8")
    return path


def write_yaml(path: Path, doc: Any) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def run_cli(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    """`mailoauth -C root ARGS` in-process: exit status, stdout, stderr."""
    capsys.readouterr()
    status = cli.main(["-C", str(root), *args])
    out, err = capsys.readouterr()
    return status, out, err
