"""Desired apps for the unit tests, built the way `plan` builds them (the real catalogue, no I/O beyond it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import App
from mailoauth.project.assembly import build_stack
from mailoauth.project.context import ProjectContext
from tests.projectcopy import ROOT

TODAY = date(2026, 11, 27)
TENANT = "11111111-2222-3333-4444-555555555555"
CALLBACK = "https://jira.example.com/plugins/servlet/oauth2/callback"
CATALOGUE = catalogue.load(WorkTree(ROOT))
GRAPH = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's appId
EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online's appId


def app(**settings: Any) -> App:
    """A single-tenant IMAP app 'Jira mail' with one secret slot; keyword arguments override its keys."""
    entry = {
        "displayName": "Jira mail",
        "audience": "single-tenant",
        "redirectUris": [CALLBACK],
        "scopeSets": ["imap"],
        "secret": {"description": "jira", "expires": "2027-05-27"},
        **settings,
    }
    doc = {"config": {"azuread:tenantId": TENANT, "mailoauth:apps": {"jira": entry}}}
    return build_stack("unit", doc, "stacks/Pulumi.unit.yaml", ProjectContext(CATALOGUE, TODAY)).apps["jira"]
