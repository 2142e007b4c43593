"""A throwaway mailoauth project (Pulumi.yaml, the real scopes/, one stack file) for CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.fakes.cloud import TENANT_ID
from tests.projectcopy import copy_project


def write_project(
    folder: Path,
    apps: dict[str, dict[str, Any]],
    stack: str = "test",
    tenant_id: str = TENANT_ID,
    environment: str = "global",
) -> Path:
    """`folder` as a project with stacks/Pulumi.<stack>.yaml holding `apps` (the mailoauth:apps mapping)."""
    copy_project(folder, "Pulumi.yaml", "scopes")
    (folder / "stacks").mkdir(exist_ok=True)
    config = {"azuread:tenantId": tenant_id, "azuread:environment": environment, "mailoauth:apps": apps}
    (folder / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return folder


CALLBACK = "https://jira.example.com/plugins/servlet/oauth2/callback"


def mail_app(display_name: str, scope_sets: list[str], secret: str = "secret", **extra: Any) -> dict[str, Any]:
    """One entry of mailoauth:apps: single-tenant, one redirect URI, one secret expiring 2027-06-30."""
    return {
        "displayName": display_name,
        "redirectUris": [CALLBACK],
        "scopeSets": scope_sets,
        "secret": {"description": secret, "expires": "2027-06-30"},
        **extra,
    }
