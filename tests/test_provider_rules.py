"""The strict Pulumi mocks refuse what the azuread provider refuses at plan time, naming the provider's source."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mailoauth.deploy import program
from mailoauth.project import assembly
from mailoauth.review import plan
from tests.provider_rules import (
    APP_GO,
    APPLICATION,
    GET_SERVICE_PRINCIPAL,
    GRANT,
    GRANT_GO,
    PASSWORD,
    PASSWORD_GO,
    RFC3339_GO,
    SERVICE_PRINCIPAL,
    SP_DATA_GO,
    SP_GO,
    refusals,
)
from tests.pulumi_harness import run_program, run_stack_file, stack_config
from tests.test_validation import CATALOGUE, TODAY, ProjectContext, app_of, mutate

OBJECT = "5b0e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4"
GRAPH = "00000003-0000-0000-c000-000000000000"
BOTH = "when `sign_in_audience` is 'AzureADandPersonalMicrosoftAccount' or 'PersonalMicrosoftAccount'"
VALID: dict[str, dict[str, Any]] = {
    APPLICATION: {
        "displayName": "Jira",
        "signInAudience": "AzureADMyOrg",
        "web": {"redirectUris": ["https://jira.example.com/plugins/servlet/oauth2/callback"]},
        "fallbackPublicClientEnabled": False,
        "owners": [OBJECT],
        "requiredResourceAccesses": [
            {
                "resourceAppId": GRAPH,
                "resourceAccesses": [{"id": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "type": "Scope"}],
            }
        ],
    },
    SERVICE_PRINCIPAL: {"clientId": OBJECT, "owners": [OBJECT]},
    PASSWORD: {"applicationId": f"/applications/{OBJECT}", "displayName": "jira", "endDate": "2027-05-31T00:00:00Z"},
    GRANT: {"servicePrincipalObjectId": OBJECT, "resourceServicePrincipalObjectId": OBJECT, "claimValues": ["openid"]},
}


def changed(typ: str, change: Callable[[dict[str, Any]], Any]) -> list[tuple[str, str, str]]:
    inputs = copy.deepcopy(VALID[typ])
    change(inputs)
    return refusals(typ, inputs)


def personal(inputs: dict[str, Any], audience: str = "PersonalMicrosoftAccount") -> None:
    inputs["signInAudience"] = audience


@pytest.mark.parametrize("typ", list(VALID))
def test_what_the_program_sends_is_accepted(typ: str) -> None:
    assert refusals(typ, VALID[typ]) == []


@pytest.mark.parametrize(
    ("typ", "change", "expected"),
    [
        (
            APPLICATION,
            lambda a: a.update(displayName=""),
            ("displayName", "expected a non-empty string", f"{APP_GO}:82-87"),
        ),
        (
            APPLICATION,
            lambda a: a.update(signInAudience="AzureADMultipleOrgsAndPersonal"),
            (
                "signInAudience",
                "expected one of ['AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', "
                "'PersonalMicrosoftAccount'], got AzureADMultipleOrgsAndPersonal",
                f"{APP_GO}:524-530",
            ),
        ),
        (
            APPLICATION,
            lambda a: a.update(api={"requestedAccessTokenVersion": 3}),
            ("api.requestedAccessTokenVersion", "Value must be one of: 1, 2", f"{APP_GO}:178-200"),
        ),
        (
            APPLICATION,
            personal,
            (
                "api.requestedAccessTokenVersion",
                f"must be 2 {BOTH}",
                f"{APP_GO}:739-742",
            ),
        ),
        (
            APPLICATION,
            lambda a: (
                personal(a, "AzureADandPersonalMicrosoftAccount"),
                a.update(api={"requestedAccessTokenVersion": 1}),
            ),
            (
                "api.requestedAccessTokenVersion",
                f"must be 2 {BOTH}",
                f"{APP_GO}:739-742",
            ),
        ),
        (
            APPLICATION,
            lambda a: a.update(owners=["not-a-guid"]),
            ("owners[0]", "expected a valid UUID, got not-a-guid", f"{APP_GO}:396-406"),
        ),
        (
            APPLICATION,
            lambda a: a.update(web={"redirectUris": ["https://jira.example.com"]}),
            (
                "web.redirectUris[0]",
                "URI must have a trailing slash when there is no path segment",
                f"{APP_GO}:614; internal/helpers/tf/validation/uri.go:39-105",
            ),
        ),
        (
            APPLICATION,
            lambda a: a.update(web={"redirectUris": ["jira://callback/x"]}),
            (
                "web.redirectUris[0]",
                "unexpected URI scheme, expected one of: http, https, ms-appx-web, brk-multihub",
                f"{APP_GO}:614; internal/helpers/tf/validation/uri.go:39-105",
            ),
        ),
        (
            APPLICATION,
            lambda a: a.update(web={"redirectUris": ["/relative/callback"]}),
            ("web.redirectUris[0]", "URI has no host", f"{APP_GO}:614; internal/helpers/tf/validation/uri.go:39-105"),
        ),
        (
            APPLICATION,
            lambda a: a.update(web={"redirectUris": [f"https://jira.example.com/{'x' * 240}"]}),
            (
                "web.redirectUris[0]",
                "URI must be 256 characters or less",
                f"{APP_GO}:614; internal/helpers/tf/validation/uri.go:39-105",
            ),
        ),
        (
            APPLICATION,
            lambda a: (
                personal(a),
                a.update(api={"requestedAccessTokenVersion": 2}, web={"redirectUris": ["https://*.example.com/cb"]}),
            ),
            (
                "web.redirectUris[0]",
                "wildcard hosts are not supported when `sign_in_audience` is 'AzureADandPersonalMicrosoftAccount' or "
                "'PersonalMicrosoftAccount'",
                f"{APP_GO}:797-806",
            ),
        ),
        (
            APPLICATION,
            lambda a: a["requiredResourceAccesses"][0]["resourceAccesses"][0].update(id="Mail.Send"),
            (
                "requiredResourceAccesses[0].resourceAccesses[0].id",
                "expected a valid UUID, got Mail.Send",
                f"{APP_GO}:498-503",
            ),
        ),
        (
            APPLICATION,
            lambda a: a["requiredResourceAccesses"][0]["resourceAccesses"][0].update(type="scope"),
            (
                "requiredResourceAccesses[0].resourceAccesses[0].type",
                "expected one of [Role Scope], got scope",
                f"{APP_GO}:505-510",
            ),
        ),
        (
            SERVICE_PRINCIPAL,
            lambda s: s.update(clientId="jira"),
            ("clientId", "expected a valid UUID, got jira", f"{SP_GO}:71-77"),
        ),
        (
            SERVICE_PRINCIPAL,
            lambda s: s.update(owners=[OBJECT, f"{OBJECT}0"]),
            ("owners[1]", f"expected a valid UUID, got {OBJECT}0", f"{SP_GO}:205-214"),
        ),
        (
            PASSWORD,
            lambda p: p.update(endDate="2027-05-31"),
            (
                "endDate",
                "expected a valid RFC3339 date, got '2027-05-31'",
                f"{PASSWORD_GO}:76-84; {RFC3339_GO}",
            ),
        ),
        (
            PASSWORD,
            lambda p: p.update(endDate="2027-02-30T00:00:00Z"),
            (
                "endDate",
                "expected a valid RFC3339 date, got '2027-02-30T00:00:00Z'",
                f"{PASSWORD_GO}:76-84; {RFC3339_GO}",
            ),
        ),
        (
            PASSWORD,
            lambda p: p.update(applicationId=OBJECT),
            (
                "applicationId",
                f"parsing '{OBJECT}': not an application id (/applications/<id>)",
                f"{PASSWORD_GO}:51-57",
            ),
        ),
        (
            PASSWORD,
            lambda p: p.update(endDateRelative="240h"),
            ("endDate", "conflicts with endDateRelative", f"{PASSWORD_GO}:82,91"),
        ),
        (
            GRANT,
            lambda g: g.update(claimValues=[]),
            ("claimValues", "attribute requires 1 item minimum", f"{GRANT_GO}:63-72"),
        ),
        (
            GRANT,
            lambda g: g.update(claimValues=["openid", ""]),
            ("claimValues[1]", "expected a non-empty string", f"{GRANT_GO}:68-71"),
        ),
        (
            GRANT,
            lambda g: g.update(resourceServicePrincipalObjectId="graph"),
            ("resourceServicePrincipalObjectId", "expected a valid UUID, got graph", f"{GRANT_GO}:74-80"),
        ),
        (
            GRANT,
            lambda g: g.pop("servicePrincipalObjectId"),
            ("servicePrincipalObjectId", "required argument is missing", f"{GRANT_GO}:82-88"),
        ),
    ],
)
def test_each_plan_time_refusal(
    typ: str, change: Callable[[dict[str, Any]], Any], expected: tuple[str, str, str]
) -> None:
    assert changed(typ, change) == [expected]


@pytest.mark.parametrize("audience", ["AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"])
def test_personal_audiences_pass_with_v2_tokens(audience: str) -> None:
    v2 = {"signInAudience": audience, "api": {"requestedAccessTokenVersion": 2}}
    assert changed(APPLICATION, lambda a: a.update(v2)) == []


def test_urn_redirect_uris_and_loopback_pass() -> None:
    uris = ["urn:ietf:wg:oauth:2.0:oob", "http://localhost:8400/", "https://jira.example.com/"]
    assert changed(APPLICATION, lambda a: a.update(web={"redirectUris": uris})) == []


@pytest.mark.parametrize(
    ("typ", "import_id", "expected"),
    [
        (APPLICATION, f"/applications/{OBJECT}", []),
        (SERVICE_PRINCIPAL, f"/servicePrincipals/{OBJECT}", []),
        (GRANT, "/oauth2PermissionGrants/e3d80512f56a4558ae44483bb79ae97c145776bc1f3", []),
        (
            SERVICE_PRINCIPAL,
            OBJECT,
            [
                (
                    "id",
                    f"parsing '{OBJECT}': the import id must be /servicePrincipals/<id>",
                    f"{SP_GO}:50-59; vendor/github.com/hashicorp/go-azure-sdk/microsoft-graph/common-types/stable/"
                    "id_serviceprincipal.go:86-97",
                )
            ],
        ),
        (SERVICE_PRINCIPAL, f"/serviceprincipals/{OBJECT}", ["refused"]),
        (APPLICATION, OBJECT, ["refused"]),
        (GRANT, "e3d80512f56a4558ae44483bb79ae97c145776bc1f3", ["refused"]),
        (PASSWORD, f"{OBJECT}/password/{OBJECT}", ["refused"]),
    ],
)
def test_import_ids_are_what_each_importer_parses(typ: str, import_id: str, expected: list[Any]) -> None:
    found = refusals(typ, VALID[typ], import_id)
    if expected == ["refused"]:
        assert [path for path, _, _ in found] == ["id"]
    else:
        assert found == expected


def personal_stack(doc: dict[str, Any]) -> None:
    app_of(doc).update(
        audience="multi-tenant-and-personal",
        allowWideAudience=True,
        redirectUris=["https://mail.personal.example/oauth/callback"],
    )


def test_the_program_registers_v2_tokens_for_personal_accounts() -> None:
    run = run_program(stack_config(mutate(personal_stack)), "dev")
    assert run.error is None
    app = next(r for r in run.resources if r.typ == APPLICATION).inputs
    assert (app["signInAudience"], app["api"]) == (
        "AzureADandPersonalMicrosoftAccount",
        {"requestedAccessTokenVersion": 2},
    )


def test_work_accounts_leave_the_api_block_to_the_provider() -> None:
    run = run_stack_file("dev")
    assert run.error is None
    assert "api" not in next(r for r in run.resources if r.typ == APPLICATION).inputs


def test_the_strict_mock_stops_a_run_the_provider_would_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the API block (the program before #12), the mocked `pulumi up` fails as the real one would."""
    monkeypatch.setattr(program, "_api", lambda app: None)
    run = run_program(stack_config(mutate(personal_stack)), "dev")
    assert isinstance(run.error, Exception)
    assert (
        f"azuread provider refuses {APPLICATION} 'jira':\n  api.requestedAccessTokenVersion: must be 2 when "
        "`sign_in_audience` is 'AzureADandPersonalMicrosoftAccount' or 'PersonalMicrosoftAccount' "
        f"[hashicorp/terraform-provider-azuread v3.9.0 {APP_GO}:739-742]"
    ) in str(run.error)
    assert [r.typ for r in run.resources if r.typ.startswith("azuread:")] == [APPLICATION]  # nothing depends on it


def test_plan_shows_the_token_version_for_personal_accounts() -> None:
    stack = assembly.build_stack(
        "dev", mutate(personal_stack), "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY)
    )
    doc = plan.plan_document(stack)
    assert doc["apps"]["jira"]["accessTokenVersion"] == 2
    assert (
        "    audience       multi-tenant-and-personal (AzureADandPersonalMicrosoftAccount)\n"
        "    token version  v2 (api.requestedAccessTokenVersion, required with personal accounts)\n"
    ) in plan.render_text(doc)
    assert (
        "multi-tenant-and-personal (`AzureADandPersonalMicrosoftAccount`), access tokens v2 "
        "(api.requestedAccessTokenVersion, required with personal accounts), scope sets: general, imap, smtp"
    ) in plan.render_markdown(doc)
    work = plan.plan_document(
        assembly.build_stack("dev", mutate(lambda d: None), "x", ProjectContext(CATALOGUE, TODAY))
    )
    assert work["apps"]["jira"]["accessTokenVersion"] is None
    assert "token version" not in plan.render_text(work)


def test_the_service_principal_lookup_takes_one_client_id() -> None:
    graph = {"clientId": "00000003-0000-0000-c000-000000000000"}
    assert refusals(GET_SERVICE_PRINCIPAL, graph) == []
    assert refusals(GET_SERVICE_PRINCIPAL, {"clientId": "graph"}) == [
        ("clientId", "expected a valid UUID, got graph", f"{SP_DATA_GO}:54-61")
    ]
    assert refusals(GET_SERVICE_PRINCIPAL, {**graph, "displayName": "Microsoft Graph"}) == [
        ("clientId", "exactly one of clientId, displayName, objectId must be given", f"{SP_DATA_GO}:59")
    ]
