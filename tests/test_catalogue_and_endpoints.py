"""The catalogue's GUIDs against Microsoft's published values, and endpoints per audience and cloud."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue, endpoints
from mailoauth.desired.model import Stack
from mailoauth.project import assembly
from mailoauth.project.context import ProjectContext
from tests.projectcopy import ROOT

CATALOGUE = catalogue.load(WorkTree(ROOT))
GRAPH, EXCHANGE = "00000003-0000-0000-c000-000000000000", "00000002-0000-0ff1-ce00-000000000000"

# microsoftgraph/microsoft-graph-devx-content permissions-descriptions.json (checked 2026-11-27);
# EWS on Exchange Online: office-developer-exchange-docs, how-to-authenticate-an-ews-application-by-using-oauth.
PUBLISHED = {
    "offline_access": (GRAPH, "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
    "openid": (GRAPH, "37f7f235-527c-4136-accd-4a02d197296e"),
    "email": (GRAPH, "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"),
    "profile": (GRAPH, "14dad69e-099b-42c9-810b-d002981feec1"),
    "User.Read": (GRAPH, "e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
    "IMAP.AccessAsUser.All": (GRAPH, "652390e4-393a-48de-9484-05f9b1212954"),
    "POP.AccessAsUser.All": (GRAPH, "d7b7f2d9-0f45-4ea1-9d42-e50810c06991"),
    "SMTP.Send": (GRAPH, "258f6531-6087-4cc4-bb90-092c5fb3ed3f"),
    "Mail.Read": (GRAPH, "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"),
    "Mail.ReadBasic": (GRAPH, "a4b8392a-d8d1-4954-a029-8e668a39a170"),
    "Mail.ReadWrite": (GRAPH, "024d486e-b451-40bb-833d-3e66d98c5c73"),
    "Mail.Send": (GRAPH, "e383f46e-2787-4529-855e-0e479a3ffac0"),
    "Mail.Read.Shared": (GRAPH, "7b9103a5-4610-446b-9670-80643382c1fa"),
    "Mail.ReadWrite.Shared": (GRAPH, "5df07973-7d5d-46ed-9847-1271055cbd51"),
    "Mail.Send.Shared": (GRAPH, "a367ab51-6b49-43bf-a716-a1fb06d2a174"),
    "EWS.AccessAsUser.All": (EXCHANGE, "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5"),
}


def test_catalogue_matches_microsofts_published_ids() -> None:
    assert {v: (s.resource_app_id, s.id) for v, s in CATALOGUE.scopes.items()} == PUBLISHED
    assert not any(s.admin_consent for s in CATALOGUE.scopes.values())


def test_scope_sets_hold_what_the_vendor_guide_asks_for() -> None:
    """Except EWS: Graph's sendMail takes MIME, so graph-send is Mail.Send alone and EWS is the ews-send opt-in."""
    assert {name: CATALOGUE.expand(name) for name in CATALOGUE.sets} == {
        "general": ["offline_access", "openid", "email", "profile"],
        "imap": ["IMAP.AccessAsUser.All"],
        "pop": ["POP.AccessAsUser.All"],
        "smtp": ["SMTP.Send"],
        "graph-read": ["Mail.ReadWrite"],
        "graph-read-only": ["Mail.Read"],
        "graph-send": ["Mail.Send"],
        "ews-send": ["EWS.AccessAsUser.All"],
        "graph-read-shared": ["Mail.ReadWrite.Shared", "Mail.ReadWrite"],
        "graph-send-shared": ["Mail.Send.Shared", "Mail.Send"],
    }


def stack_for(cloud: str, audience: str, sets: list[str]) -> Stack:
    doc = {
        "config": {
            "azuread:tenantId": "11111111-2222-3333-4444-555555555555",
            "azuread:environment": cloud,
            "mailoauth:apps": {
                "a": {
                    "displayName": "A",
                    "audience": audience,
                    "scopeSets": sets,
                    "redirectUris": ["https://a.example.com/cb"],
                    "secret": {"description": "a", "expires": date(2027, 1, 1)},
                    "allowEws": "ews-send" in sets,
                }
            },
        }
    }
    return assembly.build_stack("t", doc, "t", ProjectContext(CATALOGUE, date(2026, 11, 27)))


@pytest.mark.parametrize(
    ("audience", "segment"),
    [
        ("single-tenant", "11111111-2222-3333-4444-555555555555"),
        ("multi-tenant", "organizations"),
        ("multi-tenant-and-personal", "common"),
        ("personal", "consumers"),
    ],
)
def test_authority_segment_per_audience(audience: str, segment: str) -> None:
    stack = stack_for("global", audience, [])
    ep = endpoints.app_endpoints(stack.apps["a"], stack.cloud, stack.tenant_id, "cid")
    assert ep["authorize"] == f"https://login.microsoftonline.com/{segment}/oauth2/v2.0/authorize"
    assert ep["token"] == f"https://login.microsoftonline.com/{segment}/oauth2/v2.0/token"
    if audience == "personal":
        assert ep["adminConsent"] is None
    else:  # never /common for admin consent
        tenant = segment if audience == "single-tenant" else "organizations"
        assert ep["adminConsent"] == (
            f"https://login.microsoftonline.com/{tenant}/v2.0/adminconsent?client_id=cid"
            "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
            "&redirect_uri=https%3A%2F%2Fa.example.com%2Fcb"
        )


@pytest.mark.parametrize(
    ("cloud", "login", "imap_scope", "imap", "smtp", "graph"),
    [
        (
            "global",
            "login.microsoftonline.com",
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "outlook.office365.com",
            "smtp.office365.com",
            "https://graph.microsoft.com/v1.0",
        ),
        (
            "usgovernmentl4",
            "login.microsoftonline.us",
            "https://outlook.office365.us/IMAP.AccessAsUser.All",
            "outlook.office365.us",
            "outlook.office365.us",
            "https://graph.microsoft.us/v1.0",
        ),
        (
            "usgovernmentl5",
            "login.microsoftonline.us",
            "https://outlook-dod.office365.us/IMAP.AccessAsUser.All",
            "outlook-dod.office365.us",
            "outlook-dod.office365.us",
            "https://dod-graph.microsoft.us/v1.0",
        ),
        (
            "china",
            "login.partner.microsoftonline.cn",
            "https://partner.outlook.cn/IMAP.AccessAsUser.All",
            "partner.outlook.cn",
            "smtp.partner.outlook.cn",
            "https://microsoftgraph.chinacloudapi.cn/v1.0",
        ),
    ],
)
def test_hosts_per_cloud(cloud: str, login: str, imap_scope: str, imap: str, smtp: str, graph: str) -> None:
    stack = stack_for(cloud, "single-tenant", ["imap", "smtp", "graph-read"])
    ep = endpoints.app_endpoints(stack.apps["a"], stack.cloud, stack.tenant_id)
    assert ep["token"] == f"https://{login}/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token"
    assert imap_scope in ep["scopeRequests"]["outlook"].split()
    assert ep["mail"]["imap"] == {"host": imap, "port": 993, "security": "tls"}
    assert ep["mail"]["smtp"] == {"host": smtp, "port": 587, "security": "starttls"}
    assert ep["mail"]["graph"] == {"url": graph}


def test_one_token_request_per_resource() -> None:
    stack = stack_for("global", "single-tenant", ["imap", "graph-send", "ews-send"])
    assert endpoints.scope_requests(stack.apps["a"], stack.cloud) == {
        "outlook": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All",
        "graph": "offline_access https://graph.microsoft.com/Mail.Send",
        "ews": "offline_access https://outlook.office365.com/EWS.AccessAsUser.All",
    }


def test_exchange_online_facts_are_well_formed() -> None:
    from mailoauth.desired.exchange import exchange_online
    from mailoauth.desired.model import GUID_PATTERN

    facts = exchange_online()
    assert facts.service_plans["e9b4930a-925f-45e2-ac2a-3f7788ca6fdd"] == "EXCHANGE_S_STANDARD_GOV"
    assert facts.service_plans["8c3069c0-ccdb-44be-ab77-986203a67df2"] == "EXCHANGE_S_ENTERPRISE_GOV"
    assert facts.service_plans["fc52cc4b-ed7d-472d-bbe7-b081c23ecc56"] == "EXCHANGE_S_STANDARD_MIDMARKET"
    assert all(
        re.match(GUID_PATTERN, plan_id) and name.startswith("EXCHANGE_S_")
        for plan_id, name in facts.service_plans.items()
    )
    assert (facts.ews_blocked, facts.ews_shutdown) == (date(2026, 10, 1), date(2027, 4, 1))
    assert (facts.smtp_basic_auth_notice, facts.smtp_basic_auth_off) == ("MC786329", "the end of December 2026")
