"""The Entra facts in mailoauth/desired/entra.yaml: sourced, and what the code reads from them."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from mailoauth.graph.errors import permission_for

DOC = yaml.safe_load(resources.files("mailoauth.desired").joinpath("entra.yaml").read_text(encoding="utf-8"))


def test_every_group_names_its_source_and_every_permission_its_page() -> None:
    assert sorted(DOC) == ["graphPermissions", "limits", "roleTemplates"]
    assert all(str(group.get("source", "")).strip() for group in DOC.values())
    rows = DOC["graphPermissions"]["read"] + DOC["graphPermissions"]["write"]
    assert all(str(row.get("page", "")).strip() for row in rows)


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", "/subscribedSkus", "LicenseAssignment.Read.All"),
        ("GET", "/users", "User.ReadBasic.All"),
        ("GET", "/users/alice@contoso.example/licenseDetails", "User.Read.All"),
        ("GET", "/servicePrincipals/sp-1/oauth2PermissionGrants", "DelegatedPermissionGrant.Read.All"),
        ("GET", "/applications", "Application.Read.All"),
        ("GET", "/me/transitiveMemberOf", "User.Read"),
        ("POST", "/users/user-1/revokeSignInSessions", "User.RevokeSessions.All"),
        ("DELETE", "/oauth2PermissionGrants/g-1", "DelegatedPermissionGrant.ReadWrite.All"),
        ("PATCH", "/applications/o-1", "Application.ReadWrite.All"),
        ("GET", "/me/messages", None),
    ],
)
def test_the_permission_a_refused_request_needs(method: str, path: str, permission: str | None) -> None:
    assert permission_for(method, path) == permission
