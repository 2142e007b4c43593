"""A throwaway mailoauth project (Pulumi.yaml, the real scopes/, one stack file) for CLI tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.cloud import TENANT_ID

ROOT = Path(__file__).resolve().parents[2]


def write_project(
    folder: Path,
    apps: dict[str, dict[str, Any]],
    stack: str = "test",
    tenant_id: str = TENANT_ID,
    environment: str = "global",
) -> Path:
    """`folder` as a project with stacks/Pulumi.<stack>.yaml holding `apps` (the mailoauth:apps mapping)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    if not (folder / "scopes").exists():
        shutil.copytree(ROOT / "scopes", folder / "scopes")
    (folder / "stacks").mkdir(exist_ok=True)
    config = {"azuread:tenantId": tenant_id, "azuread:environment": environment, "mailoauth:apps": apps}
    (folder / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return folder
