"""Every validation rule of the core, each provoked by a bad input, with the message a user reads."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from mailoauth.base.problems import InvalidInput
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.project import assembly
from mailoauth.project.context import ProjectContext
from tests.projectcopy import ROOT

TODAY = date(2026, 11, 27)
CATALOGUE = catalogue.load(WorkTree(ROOT))
APP = ("config", "mailoauth:apps", "jira")


def base() -> dict[str, Any]:
    return {
        "config": {
            "azuread:tenantId": "11111111-2222-3333-4444-555555555555",
            "mailoauth:apps": {
                "jira": {
                    "displayName": "Jira",
                    "audience": "single-tenant",
                    "redirectUris": ["https://jira.example.com/plugins/servlet/oauth2/callback"],
                    "scopeSets": ["imap", "smtp"],
                    "secret": {"description": "jira", "expires": date(2027, 5, 31)},
                }
            },
        }
    }


def app_of(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["config"]["mailoauth:apps"]["jira"]


def problems(doc: dict[str, Any]) -> list[str]:
    try:
        stack = assembly.build_stack("dev", doc, "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY))
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in stack.warnings]


def test_an_expired_slot_is_a_warning_with_the_rotate_fix_not_invalid_input() -> None:
    """One expired secret must not fail every unrelated pull request; the fix is a rotation, not a new date."""
    doc = mutate(lambda d: app_of(d)["secret"].update(expires=date(2026, 11, 27)))
    stack = assembly.build_stack("dev", doc, "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY))
    assert [str(w) for w in stack.warnings] == [
        "warning: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira.secret.expires: secret slot expired on "
        "2026-11-27 (today is 2026-11-27); nothing can sign in with it; run `mailoauth secrets rotate --stack dev "
        "--app jira` (it drops expired slots and adds a new one), then switch the mail handler to the new slot"
    ]


def mutate(fn) -> dict[str, Any]:
    doc = copy.deepcopy(base())
    fn(doc)
    return doc


def test_the_base_document_is_valid() -> None:
    stack = assembly.build_stack("dev", base(), "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY))
    assert [p.value for p in stack.apps["jira"].permissions] == [
        "profile",
        "SMTP.Send",
        "openid",
        "email",
        "IMAP.AccessAsUser.All",
        "offline_access",
    ]
    assert stack.warnings == ()


CASES = [
    (
        "unknown scope",
        lambda d: app_of(d).update(scopes=["SMTP.send"]),
        "error: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira.scopes[0]: unknown scope 'SMTP.send'; "
        "did you mean 'SMTP.Send'?",
    ),
    (
        "unknown scope set",
        lambda d: app_of(d).update(scopeSets=["imap", "graph-reed"]),
        "config.mailoauth:apps.jira.scopeSets[1]: unknown scope set 'graph-reed'; did you mean 'graph-read'?",
    ),
    (
        "missing key",
        lambda d: app_of(d).pop("displayName"),
        "config.mailoauth:apps.jira.displayName: required key is missing",
    ),
    (
        "unknown key",
        lambda d: app_of(d).update(redirectUri="x"),
        "config.mailoauth:apps.jira.redirectUri: unknown key; did you mean 'redirectUris'?",
    ),
    (
        "missing tenant",
        lambda d: d["config"].pop("azuread:tenantId"),
        "config.azuread:tenantId: required key is missing",
    ),
    (
        "tenant not a GUID",
        lambda d: d["config"].update({"azuread:tenantId": "contoso.onmicrosoft.com"}),
        "config.azuread:tenantId: must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) "
        "(got 'contoso.onmicrosoft.com')",
    ),
    (
        "unknown audience",
        lambda d: app_of(d).update(audience="multitenant"),
        "config.mailoauth:apps.jira.audience: must be one of single-tenant, multi-tenant, multi-tenant-and-personal, "
        "personal (got 'multitenant'); did you mean 'multi-tenant'?",
    ),
    (
        "unknown cloud",
        lambda d: d["config"].update({"azuread:environment": "usgov"}),
        "config.azuread:environment: must be one of global, usgovernmentl4, usgovernmentl5, china",
    ),
    (
        "unknown mailoauth key",
        lambda d: d["config"].update({"mailoauth:app": {}}),
        "config.mailoauth:app: unknown key; did you mean 'mailoauth:apps'?",
    ),
    (
        "plain http",
        lambda d: app_of(d).update(redirectUris=["http://jira.example.com/cb"]),
        "config.mailoauth:apps.jira.redirectUris[0]: redirect URI 'http://jira.example.com/cb' must use https (http "
        "only for localhost or 127.0.0.1); use the instance's https callback URL (rule redirect-https)",
    ),
    (
        "too long URI",
        lambda d: app_of(d).update(redirectUris=["https://jira.example.com/" + "a" * 240]),
        "config.mailoauth:apps.jira.redirectUris[0]: redirect URI is 265 characters; Entra allows 256",
    ),
    (
        "wildcard",
        lambda d: app_of(d).update(redirectUris=["https://*.example.com/cb"]),
        "config.mailoauth:apps.jira.redirectUris[0]: redirect URI 'https://*.example.com/cb' has a wildcard; list "
        "each callback URL explicitly (rule redirect-no-wildcard)",
    ),
    (
        "no path (the azuread provider refuses it)",
        lambda d: app_of(d).update(redirectUris=["https://jira.example.com"]),
        "config.mailoauth:apps.jira.redirectUris[0]: the azuread provider refuses a redirect URL without a path "
        "(got 'https://jira.example.com'); write https://jira.example.com/",
    ),
    (
        "scheme the azuread provider refuses",
        lambda d: app_of(d).update(redirectUris=["jira://jira.example.com/cb"]),
        "config.mailoauth:apps.jira.redirectUris[0]: the azuread provider accepts only http, https, ms-appx-web, "
        "brk-multihub URLs here (got 'jira://jira.example.com/cb')",
    ),
    (
        "forbidden characters",
        lambda d: app_of(d).update(redirectUris=["https://jira.example.com/cb;x=(1)"]),
        "config.mailoauth:apps.jira.redirectUris[0]: redirect URI contains characters Entra rejects: ( ) ;",
    ),
    (
        "too many URIs",
        lambda d: app_of(d).update(redirectUris=[f"https://j.example.com/{i}" for i in range(257)]),
        "config.mailoauth:apps.jira.redirectUris: 257 redirect URIs; Entra allows 256",
    ),
    (
        "too many URIs, personal",
        lambda d: app_of(d).update(
            audience="multi-tenant-and-personal",
            scopeSets=[],
            redirectUris=[f"https://j.example.com/{i}" for i in range(101)],
        ),
        "config.mailoauth:apps.jira.redirectUris: 101 redirect URIs; Entra allows 100",
    ),
    (
        "query with personal accounts",
        lambda d: app_of(d).update(audience="personal", scopeSets=[], redirectUris=["https://j.example.com/cb?x=1"]),
        "query parameters are not allowed in redirect URIs of apps that allow personal accounts",
    ),
    (
        "duplicate URI",
        lambda d: app_of(d).update(redirectUris=["https://j.example.com/cb"] * 2),
        "config.mailoauth:apps.jira.redirectUris[1]: duplicate redirect URI",
    ),
    (
        "display name",
        lambda d: app_of(d).update(displayName="x" * 121),
        "config.mailoauth:apps.jira.displayName: display name is 121 characters; Entra allows 120",
    ),
    (
        "display name, personal",
        lambda d: app_of(d).update(displayName="x" * 91, audience="personal", scopeSets=[]),
        "display name is 91 characters; Entra allows 90 for apps that allow personal accounts",
    ),
    (
        "secret too far ahead",
        lambda d: app_of(d)["secret"].update(expires=date(2028, 11, 28)),
        "config.mailoauth:apps.jira.secret.expires: secret expires 2028-11-28, more than 24 months from today; "
        "expire on 2028-11-27 or earlier",
    ),
    (
        "bad date",
        lambda d: app_of(d)["secret"].update(expires="31.05.2027"),
        "config.mailoauth:apps.jira.secret.expires: expected a date as YYYY-MM-DD",
    ),
    (
        "no secret",
        lambda d: app_of(d).pop("secret"),
        "config.mailoauth:apps.jira: give exactly one of 'secret:' (one slot) or 'secrets:' (up to two slots)",
    ),
    (
        "three secret slots",
        lambda d: (
            app_of(d).pop("secret"),
            app_of(d).update(secrets=[{"description": "a", "expires": date(2027, m, 1)} for m in (1, 2, 3)]),
        ),
        "config.mailoauth:apps.jira.secrets: at most two secret slots (got 3)",
    ),
    (
        "personal in national cloud",
        lambda d: (
            d["config"].update({"azuread:environment": "china"}),
            app_of(d).update(audience="multi-tenant-and-personal"),
        ),
        "config.mailoauth:apps.jira.audience: personal Microsoft accounts are not supported in Microsoft Azure "
        "operated by 21Vianet",
    ),
    (
        "admin consent for personal",
        lambda d: app_of(d).update(audience="personal", scopeSets=[], adminConsent=True),
        "config.mailoauth:apps.jira.adminConsent: admin consent does not apply to personal-account-only apps",
    ),
    (
        "bool expected",
        lambda d: app_of(d).update(adminConsent="yes"),
        "config.mailoauth:apps.jira.adminConsent: expected true or false",
    ),
    (
        "bad app key",
        lambda d: d["config"]["mailoauth:apps"].update({"Jira Mail": app_of(d)}),
        "config.mailoauth:apps.Jira Mail: app key must be lowercase letters, digits and '-'",
    ),
    (
        "no apps",
        lambda d: d["config"].update({"mailoauth:apps": {}}),
        "config.mailoauth:apps: expected a mapping of app keys to app settings",
    ),
    ("no config", lambda d: d.pop("config"), "config: a stack file needs a top-level 'config:' mapping"),
]


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_reports_file_path_value_and_fix(mutation, expected: str) -> None:
    found = problems(mutate(mutation))
    assert any(expected in p and p.startswith("error: stacks/Pulumi.dev.yaml") for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    def many(d: dict[str, Any]) -> None:
        d["config"]["azuread:tenantId"] = "nope"
        app_of(d).update(scopes=["Mail.Sned"], redirectUris=["http://x.example.com/cb"], audience="everyone")

    found = problems(mutate(many))
    assert len([p for p in found if p.startswith("error:")]) == 4, found


def test_personal_accounts_with_imap_smtp_warn() -> None:
    found = problems(mutate(lambda d: app_of(d).update(audience="multi-tenant-and-personal", allowWideAudience=True)))
    assert found == [
        "warning: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira.audience: personal accounts with "
        "IMAP.AccessAsUser.All, SMTP.Send: Outlook.com support for OAuth IMAP/POP/SMTP has changed over time; "
        "test with a personal mailbox before relying on it (got 'multi-tenant-and-personal') "
        "(rule personal-legacy-protocols)"
    ]


def test_ews_needs_allow_ews_and_warns_with_the_retirement_dates() -> None:
    refused = problems(mutate(lambda d: app_of(d).update(scopeSets=["imap", "ews-send"])))
    assert [p for p in refused if p.startswith("error:")] == [
        "error: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira.scopeSets: EWS.AccessAsUser.All (EWS) without "
        "allowEws: true: Exchange Online has blocked EWS since 2026-10-01 unless the tenant allow-lists the app, and "
        "shuts it down on 2027-04-01; send MIME through Graph sendMail (scopeSets: "
        "[graph-send]); if the product cannot, set allowEws: true (rule ews-opt-in)"
    ]
    found = problems(
        mutate(lambda d: app_of(d).update(scopeSets=["imap", "ews-send"], allowEws=True, adminConsent=True))
    )
    assert len(found) == 1
    assert found[0].startswith("warning:")
    assert "EWS.AccessAsUser.All (EWS): Exchange Online has blocked EWS since 2026-10-01" in found[0]
    assert "shuts it down on 2027-04-01" in found[0]


def test_graph_send_is_mail_send_alone_and_ews_send_is_on_exchange_online() -> None:
    doc = mutate(lambda d: app_of(d).update(scopeSets=["graph-send"]))
    stack = assembly.build_stack("dev", doc, "f", ProjectContext(CATALOGUE, TODAY))
    perms = {p.value: (p.resource_app_id, p.id) for p in stack.apps["jira"].permissions}
    assert perms["Mail.Send"] == ("00000003-0000-0000-c000-000000000000", "e383f46e-2787-4529-855e-0e479a3ffac0")
    assert "EWS.AccessAsUser.All" not in perms
    assert stack.apps["jira"].scope_sets == ("general", "graph-send")
    doc = mutate(lambda d: app_of(d).update(scopeSets=["ews-send"], allowEws=True))
    ews = assembly.build_stack("dev", doc, "f", ProjectContext(CATALOGUE, TODAY)).apps["jira"].permissions
    assert {p.value: (p.resource_app_id, p.id) for p in ews}["EWS.AccessAsUser.All"] == (
        "00000002-0000-0ff1-ce00-000000000000",
        "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
    )


def test_user_read_only_when_asked_for() -> None:
    plain = assembly.build_stack("dev", base(), "f", ProjectContext(CATALOGUE, TODAY))
    asked = assembly.build_stack(
        "dev", mutate(lambda d: app_of(d).update(scopes=["User.Read"])), "f", ProjectContext(CATALOGUE, TODAY)
    )
    assert "User.Read" not in [p.value for p in plain.apps["jira"].permissions]
    assert ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d") in [
        (p.value, p.id) for p in asked.apps["jira"].permissions
    ]


def test_loopback_http_is_allowed() -> None:
    doc = mutate(lambda d: app_of(d).update(redirectUris=["http://localhost:8400/cb", "http://127.0.0.1/cb"]))
    assert problems(doc) == []


def test_a_short_value_is_shown_even_when_its_letters_appear_in_the_message() -> None:
    found = problems(mutate(lambda d: app_of(d).update(secret="a")))
    assert any("config.mailoauth:apps.jira.secret: expected a mapping (got 'a')" in p for p in found), found
