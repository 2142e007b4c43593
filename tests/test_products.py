"""Product profiles (products/*.yaml) and the stack keys that use them: product, useCases, instanceUrl."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailoauth import cli
from mailoauth.base.problems import InvalidInput
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import Stack
from mailoauth.project import assembly
from mailoauth.project.context import ProjectContext
from mailoauth.review import plan
from tests.gitrepo import GitRepo
from tests.guardrails_support import make_project, run_cli
from tests.projectcopy import copy_project
from tests.pulumi_harness import ROOT, fake_id, run_program, stack_config

TODAY = date(2026, 11, 27)
CATALOGUE = catalogue.load(WorkTree(ROOT))
PROJECT = ProjectContext(CATALOGUE, TODAY)
TENANT = "11111111-2222-3333-4444-555555555555"
IMAP_SCOPE = "offline_access https://outlook.office.com/IMAP.AccessAsUser.All"
SMTP_SCOPE = "offline_access https://outlook.office.com/SMTP.Send"


def stack_of(**app: Any) -> dict[str, Any]:
    settings = {"displayName": "Mail", "secret": {"description": "mail", "expires": date(2027, 5, 31)}, **app}
    return {"config": {"azuread:tenantId": TENANT, "mailoauth:apps": {"mail": settings}}}


def build(**app: Any) -> Stack:
    return assembly.build_stack("lab", stack_of(**app), "stacks/Pulumi.lab.yaml", PROJECT)


def problems(**app: Any) -> list[str]:
    try:
        return [str(p) for p in build(**app).warnings]
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]


WHERE = "stacks/Pulumi.lab.yaml: config.mailoauth:apps.mail"


def test_every_profile_loads_with_sources_and_use_cases() -> None:
    assert sorted(CATALOGUE.products) == ["email-this-issue", "odoo", "osticket", "zammad"]
    eti = CATALOGUE.products["email-this-issue"]
    assert list(eti.use_cases) == ["mail-handler-imap", "send-smtp", "read-graph", "send-graph", "send-graph-ews"]
    assert [k for k, c in eti.use_cases.items() if c.legacy] == ["send-graph-ews"]
    assert eti.callback.pattern is None  # the vendor documents none: copy it from the product
    assert [label for label, _ in eti.form] == [
        "Client ID",
        "Client Secret",
        "Authorization Endpoint",
        "Token Endpoint",
        "Scope",
        "Callback URL",
    ]
    for product in CATALOGUE.products.values():
        sources = [product.guide, product.callback.source, product.form_source]
        sources += [c.source for c in product.use_cases.values()] + [s for _, s in product.notes]
        assert all(s.startswith("https://") for s in sources), product.key


def test_odoo_derives_scope_sets_and_the_callback_from_the_instance_url() -> None:
    app = build(product="odoo", useCases=["incoming-imap", "outgoing-smtp"], instanceUrl="https://erp.example.com/")
    mail = app.apps["mail"]
    assert mail.redirect_uris == ("https://erp.example.com/microsoft_outlook/confirm",)
    assert mail.scope_sets == ("general", "imap", "smtp")
    doc = plan.plan_document(app)["apps"]["mail"]
    assert doc["derivedFrom"] == {
        "scopeSets": "product odoo, use cases incoming-imap, outgoing-smtp",
        "redirectUris": "product odoo: {instanceUrl}/microsoft_outlook/confirm from instanceUrl",
    }
    text = plan.render_text(plan.plan_document(app))
    assert (
        "    redirect URI   https://erp.example.com/microsoft_outlook/confirm  (from product odoo: "
        "{instanceUrl}/microsoft_outlook/confirm from instanceUrl)" in text
    )
    assert "    product        odoo, use cases incoming-imap, outgoing-smtp" in text


def test_explicit_keys_win_over_the_use_cases() -> None:
    mail = build(
        product="zammad",
        useCases=["channel-imap-smtp"],
        scopeSets=["imap"],
        redirectUris=["https://desk.example.com/api/v1/external_credentials/microsoft365/callback"],
    ).apps["mail"]
    assert mail.scope_sets == ("general", "imap")
    assert mail.origins == ()


def test_graph_send_use_case_asks_for_mail_send_without_ews() -> None:
    mail = build(
        product="email-this-issue",
        useCases=["read-graph", "send-graph"],
        redirectUris=["https://jira.example.com/cb"],
    ).apps["mail"]
    assert [p.value for p in mail.permissions if p.protocol] == ["Mail.ReadWrite", "Mail.Send"]


def test_unknown_product_and_use_case_get_a_did_you_mean() -> None:
    assert problems(product="odo", useCases=["incoming-imap"], instanceUrl="https://erp.example.com") == [
        f"error: {WHERE}.product: unknown product 'odo'; did you mean 'odoo'?"
    ]
    assert problems(product="odoo", useCases=["incoming-imapp"], instanceUrl="https://erp.example.com") == [
        f"error: {WHERE}.useCases[0]: Odoo has no use case 'incoming-imapp'; did you mean 'incoming-imap'?"
    ]


def test_a_product_without_a_callback_pattern_says_where_to_copy_it() -> None:
    assert problems(
        product="email-this-issue", useCases=["mail-handler-imap"], instanceUrl="https://jira.example.com"
    ) == [
        f"error: {WHERE}.redirectUris: Email This Issue documents no callback URL pattern: copy it from the Callback "
        "URL field of the OAuth2 Client Credentials dialog in Email This Issue; redirectUris: [<that URL>] (source: "
        "https://docs.meta-inf.hu/email-this-issue/~/revisions/mYKQuRriMlSJeyH2TzSD/administration/"
        "mail-server-connections/microsoft-with-oauth2/microsoft-imap-and-smtp-with-oauth2)"
    ]


def test_missing_use_cases_instance_url_and_product_are_named() -> None:
    assert problems(product="odoo", useCases=[]) == [
        f"error: {WHERE}.useCases: name the Odoo use cases this app serves; use cases: incoming-imap, outgoing-smtp",
        f"error: {WHERE}.instanceUrl: give the Odoo instance URL (or redirectUris); the callback is "
        "{instanceUrl}/microsoft_outlook/confirm",
    ]
    assert problems(useCases=["incoming-imap"], instanceUrl="https://erp.example.com") == [
        f"error: {WHERE}.redirectUris: required key is missing; The instance's OAuth callback URLs, registered as "
        "Web redirect URIs; required unless `product` and `instanceUrl` derive it.",
        f"error: {WHERE}.useCases: 'useCases' needs 'product:'; name the product whose use cases these are",
        f"error: {WHERE}.instanceUrl: 'instanceUrl' needs 'product:'; name the product whose use cases these are",
    ]


def test_a_callback_not_shaped_like_the_products_warns() -> None:
    found = problems(product="zammad", useCases=["channel-imap-smtp"], redirectUris=["https://desk.example.com/cb"])
    assert found[0] == (
        f"warning: {WHERE}.redirectUris[0]: not shaped like a Zammad callback URL "
        "(^https://[^/]+/api/v1/external_credentials/microsoft365/callback$) (got 'https://desk.example.com/cb'); "
        "copy it from Channels > Microsoft 365 > Connect Microsoft 365 App > Your callback URL"
    )


def test_legacy_use_case_warns_and_names_the_current_ones() -> None:
    found = problems(
        product="email-this-issue", useCases=["send-graph-ews"], redirectUris=["https://jira.example.com/cb"]
    )
    assert found[0] == (
        f"warning: {WHERE}.useCases[0]: send-graph-ews is Email This Issue's legacy path: Legacy: the vendor's Graph "
        "sending design, which also sends MIME through EWS (needs allowEws: true); move to a current use case: "
        "mail-handler-imap, "
        "send-smtp, read-graph, send-graph"
    )


def test_two_token_audiences_without_admin_consent_warn_of_aadsts65001() -> None:
    two = {"redirectUris": ["https://jira.example.com/cb"], "scopeSets": ["imap", "graph-read"]}
    assert problems(**two) == [
        f"warning: {WHERE}.adminConsent: tokens for 2 audiences (graph, outlook) without admin consent: a user "
        "consents at sign-in to the first one only, and the token request for the next fails with AADSTS65001 (got "
        "False); set adminConsent: true, or split the app into one app per audience (mailoauth explain AADSTS65001) "
        "(rule consent-per-audience)"
    ]
    assert problems(**two, adminConsent=True) == []
    assert problems(redirectUris=["https://jira.example.com/cb"], scopeSets=["imap"], scopes=["User.Read"]) == []


def test_smtp_from_a_use_case_warns_about_smtp_auth() -> None:
    found = problems(product="osticket", useCases=["send-smtp"], redirectUris=["https://help.example.com/api/oauth"])
    assert found == [
        f"warning: {WHERE}.useCases: SMTP AUTH is off in tenants created after January 2020 and can be turned off "
        "per mailbox; sending then fails with 535 5.7.139; check with mailoauth preflight, and enable it for the "
        "mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) or send through Graph (mailoauth explain "
        "5.7.139) (rule smtp-auth)"
    ]


def test_connections_label_each_scope_string() -> None:
    stack = build(redirectUris=["https://jira.example.com/cb"], scopeSets=["smtp", "graph-read"], adminConsent=True)
    endpoints = plan.plan_document(stack)["apps"]["mail"]["endpoints"]
    assert endpoints["connections"] == {
        "graph": {
            "scope": "offline_access https://graph.microsoft.com/Mail.ReadWrite",
            "url": "https://graph.microsoft.com/v1.0",
        },
        "smtp": {"scope": SMTP_SCOPE, "host": "smtp.office365.com", "port": 587, "security": "starttls"},
    }
    assert endpoints["scopeRequest"] == SMTP_SCOPE  # the old first-audience string, kept as it was


def test_a_broken_profile_is_reported_with_file_line_and_fix(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "scopes", tmp_path / "scopes")
    (tmp_path / "products").mkdir()
    text = (ROOT / "products/odoo.yaml").read_text().replace("scopeSets: [imap]", "scopeSets: [imapp]")
    (tmp_path / "products/odoo.yaml").write_text(text.replace("vendor: Odoo S.A.\n", ""))
    with pytest.raises(InvalidInput) as caught:
        catalogue.load(WorkTree(tmp_path))
    assert [str(p) for p in caught.value.problems] == [
        "error: products/odoo.yaml:3: vendor: required key is missing; Who makes it.",
        "error: products/odoo.yaml:8: useCases.incoming-imap.scopeSets[0]: unknown scope set 'imapp'; "
        "did you mean 'imap'?",
    ]


# --- one stack per product profile: plan, the program under mocks and the outputs agree ------------------

PROFILE_STACKS = {
    "email-this-issue": {
        "useCases": ["mail-handler-imap", "send-smtp"],
        "redirectUris": ["https://jira.example.com/plugins/servlet/eti/oauth2"],
    },
    "osticket": {"useCases": ["fetch-imap", "send-smtp"], "redirectUris": ["https://help.example.com/api/oauth"]},
    "zammad": {"useCases": ["channel-imap-smtp"], "instanceUrl": "https://desk.example.com"},
    "odoo": {"useCases": ["incoming-imap", "outgoing-smtp"], "instanceUrl": "https://erp.example.com"},
}


@pytest.mark.parametrize("product", sorted(PROFILE_STACKS))
def test_program_registers_what_plan_shows_for_each_profile(product: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY.isoformat())
    doc = stack_of(product=product, **PROFILE_STACKS[product])
    planned = plan.plan_document(assembly.build_stack("lab", doc, "stacks/Pulumi.lab.yaml", PROJECT))["apps"]["mail"]
    run = run_program(stack_config(doc), "lab")
    assert run.error is None
    inputs = next(r for r in run.resources if r.name == "mail" and r.typ.endswith("Application")).inputs
    assert inputs["web"]["redirectUris"] == planned["redirectUris"]
    registered = [
        (r["resourceAppId"], a["id"]) for r in inputs["requiredResourceAccesses"] for a in r["resourceAccesses"]
    ]
    assert registered == [(p["resourceAppId"], p["id"]) for p in planned["permissions"]]
    output = run.outputs["apps"]["mail"]
    assert output["connections"] == planned["endpoints"]["connections"]
    assert output["connections"]["imap"]["scope"] == IMAP_SCOPE
    assert output["connections"]["smtp"]["scope"] == SMTP_SCOPE
    assert output["clientId"] == fake_id("client", "mail")


def test_diff_sees_a_use_case_change_in_every_stack_that_uses_it(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    repo.edit("products/email-this-issue.yaml", "    scopeSets: [imap]\n", "    scopeSets: [imap, graph-read-only]\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["-C", str(repo.path), "diff", "--base", "main", "--format", "json"]) == 0
    changed = {(s["stack"], a["app"]) for s in json.loads(out.getvalue())["stacks"] for a in s["apps"]}
    assert changed == {("dev", "jira-mail-in"), ("prod", "jira-mail-in")}


def test_example_stacks_use_profiles() -> None:
    for name in ("dev", "prod"):
        doc = yaml.safe_load((ROOT / f"stacks/Pulumi.{name}.yaml").read_text())
        assert {a["product"] for a in doc["config"]["mailoauth:apps"].values()} == {"email-this-issue"}
    assert "OAuth2 Client Credentials dialog" in (ROOT / "stacks/Pulumi.dev.yaml").read_text()


def test_an_audience_the_vendor_does_not_support_warns_with_its_source() -> None:
    found = problems(
        product="email-this-issue",
        useCases=["mail-handler-imap"],
        audience="multi-tenant-and-personal",
        redirectUris=["https://jira.example.com/cb"],
    )
    assert found[0] == (
        f"warning: {WHERE}.audience: Email This Issue's guide says its mail connections do not support "
        "multi-tenant-and-personal apps; use single-tenant or multi-tenant (source: https://docs.meta-inf.hu/"
        "email-this-issue/~/changes/393/administration/mail-server-connections/microsoft-with-oauth2/"
        "microsoft-imap-and-smtp-with-oauth2)"
    )
    zammad = problems(product="zammad", useCases=["channel-imap-smtp"], instanceUrl="https://desk.example.com")
    assert not any(".audience:" in line for line in zammad)  # single-tenant is supported


def test_problems_of_derived_values_point_at_the_keys_they_came_from() -> None:
    found = problems(product="odoo", useCases=["incoming-imap"], instanceUrl="http://erp.example.com")
    assert found == [
        f"error: {WHERE}.instanceUrl: redirect URI 'http://erp.example.com/microsoft_outlook/confirm' must use https "
        "(http only for localhost or 127.0.0.1); use the instance's https callback URL (rule redirect-https)"
    ]


def test_a_derived_callback_counts_for_the_unique_callback_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    doc = stack_of(product="odoo", useCases=["incoming-imap"], instanceUrl="https://erp.example.com")
    (project / "stacks/Pulumi.erp.yaml").write_text(yaml.safe_dump(doc))
    other = stack_of(redirectUris=["https://erp.example.com/microsoft_outlook/confirm"], scopeSets=["imap"])
    (project / "stacks/Pulumi.erp2.yaml").write_text(yaml.safe_dump(other))
    status, out, _ = run_cli(capsys, project, "validate", "--stack", "erp")
    assert status == 2
    assert out.splitlines()[0] == (
        "error: stacks/Pulumi.erp.yaml:6: config.mailoauth:apps.mail.instanceUrl: redirect URI "
        "'https://erp.example.com/microsoft_outlook/confirm' is also registered by stack erp2: an instance's "
        "callback must belong to one stack; give each stack its own instance's callback URL (rule unique-callback)"
    )


def test_every_cited_source_is_listed_in_docs_sources() -> None:
    listed = (ROOT / "docs/sources.md").read_text()
    for product in CATALOGUE.products.values():
        cited = [product.guide, product.callback.source, product.form_source, *(s for _, s in product.notes)]
        cited += [c.source for c in product.use_cases.values()] + [product.unsupported_source or product.guide]
        assert [url for url in cited if f"<{url}>" not in listed] == [], product.key


def test_a_use_case_without_its_source_is_one_clear_error(tmp_path: Path) -> None:
    copy_project(tmp_path, "scopes", "products")
    path = tmp_path / "products/odoo.yaml"
    doc = "https://github.com/odoo/documentation/blob/master/content/applications/general/email_communication"
    cited = f"    scopeSets: [imap]\n    source: {doc}/azure_oauth.rst\n"
    path.write_text(path.read_text().replace(cited, "    scopeSets: [imap]\n"))
    with pytest.raises(InvalidInput) as caught:
        catalogue.load(WorkTree(tmp_path))
    assert [str(p) for p in caught.value.problems] == [
        "error: products/odoo.yaml:8: useCases.incoming-imap.source: required key is missing; Where this fact was "
        "read (a URL)."
    ]
