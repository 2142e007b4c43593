"""`mailoauth verify` end to end: the fake login (authorize, device code, token grants), fake Graph, IMAP, SMTP.

The test plays the user's browser: `webbrowser.open` is the fake browser, which follows the sign-in
URL to the verify command's listener with the mailbox user's session cookie.
"""

from __future__ import annotations

import json
import stat
import uuid
from urllib.parse import urlsplit

from mailoauth import cli
from tests.fakes.cloud import OTHER_TENANT_ID, TENANT_ID
from tests.fakes.login import aadsts
from tests.mailfakes import FakeSmtp, Mailboxes, exchange_tokens
from tests.verify_world import SECRET, USER, Result, World

FILE = "stacks/Pulumi.verify.yaml"
OUTLOOK = "offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send"
GRAPH_READ = "offline_access https://graph.microsoft.com/Mail.ReadWrite"


def token_forms(world: World) -> list[dict[str, str]]:
    return [r.form() for r in world.cloud.login_router.log if r.path.endswith("/oauth2/v2.0/token")]


def browser_authorize_query(world: World) -> dict[str, str]:
    """The query of the sign-in request the user's browser sent (it carries the session cookie)."""
    request = next(r for r in world.cloud.login_router.log if r.path.endswith("/authorize") and "cookie" in r.headers)
    return request.query


def explained(result: Result, step: str) -> dict[str, str]:
    found = result.step(step)
    assert found["status"] == "fail", found
    assert found["explanation"] is not None, found
    return found["explanation"]


# -- the whole way through ---------------------------------------------------------------------------


def test_browser_flow_proves_imap_smtp_and_graph_with_the_exact_scope_strings(world: World) -> None:
    result = world.run("helpdesk")
    assert result.code == 0, result.out
    assert result.statuses() == [
        ("app credentials", "pass"),
        ("sign-in page", "pass"),
        ("user sign-in", "pass"),
        ("outlook token", "pass"),
        ("graph token", "pass"),
        ("IMAP", "pass"),
        ("SMTP", "pass"),
        ("Graph", "pass"),
    ]
    doc = result.doc
    assert (doc["ok"], doc["flow"], doc["mailbox"], doc["credentials"]) == (
        True,
        "browser",
        USER,
        "stack outputs on stdin",
    )
    assert doc["clientId"] == world.deployed["helpdesk"].application["appId"]
    assert doc["refreshToken"] == "discarded (--keep-token FILE keeps it)"
    assert world.outputs()["apps"]["helpdesk"]["scopeRequests"] == {"outlook": OUTLOOK, "graph": GRAPH_READ}
    query = browser_authorize_query(world)
    assert query["scope"] == OUTLOOK
    assert (query["response_type"], query["code_challenge_method"], query["prompt"]) == (
        "code",
        "S256",
        "select_account",
    )
    assert urlsplit(query["redirect_uri"])[1].startswith("127.0.0.1:")
    assert urlsplit(query["redirect_uri"]).path == "/mailoauth-verify"
    assert [(f["grant_type"], f["scope"]) for f in token_forms(world)] == [
        ("client_credentials", "https://graph.microsoft.com/.default"),
        ("authorization_code", OUTLOOK),
        ("refresh_token", GRAPH_READ),
    ]
    [(user, token)] = world.imap_boxes.attempts
    assert user == USER and world.cloud.book.claims(token)["aud"] == "https://outlook.office.com"
    assert world.smtp_boxes.attempts == [(USER, token)] and world.smtp_boxes.sent == []
    assert "GET /v1.0/me/mailFolders/inbox" in [r.target for r in world.cloud.graph.http_requests]
    assert result.step("Graph")["detail"] == "GET /me/mailFolders/inbox: Inbox, 3 messages, 1 unread"
    assert "Sign in as the mailbox user in the browser. If none opens, open this URL:" in result.err
    assert world.browser.pages[-1].text.endswith("Signed in. You can close this tab and return to the terminal.</p>")


def test_text_table_lists_every_step(world: World) -> None:
    result = world.run("helpdesk", "--format", "text")
    lines = result.out.splitlines()
    assert result.code == 0
    assert lines[0].startswith(
        f"verify stack verify, app helpdesk: client {world.deployed['helpdesk'].application['appId']}"
    )
    assert lines[2].split() == ["step", "result", "detail"]
    assert lines[3].split()[:3] == ["app", "credentials", "PASS"]
    assert [line.split()[0] for line in lines[3:11]] == [
        "app",
        "sign-in",
        "user",
        "outlook",
        "graph",
        "IMAP",
        "SMTP",
        "Graph",
    ]
    assert lines[-2:] == ["refresh token: discarded (--keep-token FILE keeps it)", "result: all steps passed"]


def test_send_test_to_sends_one_smtp_message(world: World) -> None:
    result = world.run("helpdesk", "--protocol", "smtp", "--send-test-to", "admin@contoso.example")
    assert result.code == 0, result.out
    assert result.step("SMTP")["detail"].endswith("test message sent to admin@contoso.example")
    [message] = world.smtp_boxes.sent
    assert b"Subject: mailoauth verify: test message" in message and b"To: admin@contoso.example" in message
    assert [f["scope"] for f in token_forms(world)][1:] == [OUTLOOK], "no Graph token without the graph protocol"


def test_graph_send_only_app_sends_through_graph_when_asked(world: World) -> None:
    quiet = world.run("notifier")
    assert quiet.code == 0
    assert quiet.step("Graph") == {
        "step": "Graph",
        "status": "skip",
        "detail": "the app only sends through Graph (Mail.Send); --send-test-to ADDR sends a test message",
        "explanation": None,
    }
    assert world.cloud.tenant.sent_mail == []
    sent = world.run("notifier", "--send-test-to", "admin@contoso.example")
    assert sent.code == 0, sent.out
    assert sent.step("Graph send")["detail"] == "POST /me/sendMail: test message sent to admin@contoso.example"
    [mail] = world.cloud.tenant.sent_mail
    assert mail["from"] == world.user["id"]
    assert mail["Message"]["toRecipients"] == [{"emailAddress": {"address": "admin@contoso.example"}}]
    assert mail["SaveToSentItems"] is False


def test_device_code_flow_without_a_loopback_redirect(world: World) -> None:
    world.cloud.signin.device_user = world.account
    result = world.run("kiosk")
    assert result.code == 0, result.out
    assert result.doc["flow"] == "device-code"
    assert result.statuses() == [
        ("app credentials", "pass"),
        ("user sign-in", "pass"),
        ("outlook token", "pass"),
        ("IMAP", "pass"),
        ("SMTP", "pass"),
    ]
    assert "To sign in, use a web browser to open the page" in result.err and "and enter the code" in result.err
    device = [f for f in token_forms(world) if f["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"]
    assert len(device) == 2, "the first poll is pending, the second completes"
    assert all("client_secret" not in f for f in device), "the device-code flow is a public client flow"
    assert world.browser.pages == []


def test_user_consent_at_sign_in_is_recorded_and_the_second_audience_needs_consent_too(world: World) -> None:
    result = world.run("mailin")
    assert result.code == 1
    assert result.statuses() == [
        ("app credentials", "pass"),
        ("sign-in page", "pass"),
        ("user sign-in", "pass"),
        ("outlook token", "pass"),
        ("graph token", "fail"),
        ("IMAP", "pass"),
        ("Graph", "skip"),
    ]
    assert urlsplit(browser_authorize_query(world)["redirect_uri"]).hostname == "localhost"
    sp = world.deployed["mailin"].service_principal
    assert [
        (g["consentType"], g["principalId"], g["scope"]) for g in world.cloud.tenant.grants if g["clientId"] == sp["id"]
    ] == [("Principal", world.user["id"], "IMAP.AccessAsUser.All")]
    explanation = explained(result, "graph token")
    assert explanation["code"] == "AADSTS65001"
    assert result.step("graph token")["detail"].startswith("invalid_grant: AADSTS65001: The user or administrator")
    assert f"Set `adminConsent: true` under `mailoauth:apps.mailin` in {FILE} and run `pulumi up`" in explanation["fix"]
    assert explanation["reference"] == "MicrosoftDocs/entra-docs, docs/identity-platform/reference-error-codes.md"


def test_multi_tenant_app_signs_in_at_the_organizations_endpoint(world: World) -> None:
    result = world.run("partner")
    assert result.code == 0, result.out
    authorize = next(r for r in world.cloud.login_router.log if r.path.endswith("/authorize") and "cookie" in r.headers)
    assert authorize.path == "/organizations/oauth2/v2.0/authorize"
    assert world.outputs()["apps"]["partner"]["authorizeEndpoint"] == (
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
    )
    tokens = [r.path for r in world.cloud.login_router.log if r.path.endswith("/token")]
    assert tokens == [f"/{TENANT_ID}/oauth2/v2.0/token", "/organizations/oauth2/v2.0/token"]


# -- each listed failure, provoked and explained --------------------------------------------------------


def test_wrong_client_id_is_aadsts700016_before_anyone_signs_in(world: World) -> None:
    outputs = world.outputs()
    outputs["apps"]["helpdesk"]["clientId"] = str(uuid.uuid4())
    result = world.run("helpdesk", outputs=outputs)
    assert result.code == 1
    assert result.statuses() == [("app credentials", "fail"), ("IMAP", "skip"), ("SMTP", "skip"), ("Graph", "skip")]
    assert result.step("IMAP")["detail"] == "no outlook token"
    explanation = explained(result, "app credentials")
    assert explanation["code"] == "AADSTS700016"
    assert "`pulumi stack output apps --json` of stack verify" in explanation["fix"]
    assert world.browser.pages == []


def test_wrong_secret_from_the_environment_is_aadsts7000215(world: World) -> None:
    world.monkeypatch.setenv("MAILOAUTH_CLIENT_ID", world.deployed["helpdesk"].application["appId"])
    world.monkeypatch.setenv("MAILOAUTH_CLIENT_SECRET", "the-secret-id-not-its-value")
    result = world.run("helpdesk", outputs=None)
    assert result.code == 1
    assert result.doc["credentials"] == "environment (MAILOAUTH_CLIENT_ID, MAILOAUTH_CLIENT_SECRET)"
    explanation = explained(result, "app credentials")
    assert explanation["code"] == "AADSTS7000215"
    assert "clientSecrets.helpdesk" in explanation["fix"]
    assert "the-secret-id-not-its-value" not in result.out + result.err


def test_expired_secret_is_aadsts7000222_with_the_rotation_command(world: World) -> None:
    expired = aadsts(401, "invalid_client", 7000222, "The provided client secret keys for app are expired.")
    world.cloud.login_router.fail(r"POST /[^/]+/oauth2/v2\.0/token$", 401, expired.body)
    result = world.run("helpdesk")
    explanation = explained(result, "app credentials")
    assert explanation["code"] == "AADSTS7000222"
    assert "Run `mailoauth secrets rotate --stack verify --app helpdesk`" in explanation["fix"]


def test_redirect_uri_missing_from_the_registration_is_aadsts50011_from_the_sign_in_page(world: World) -> None:
    world.deployed["helpdesk"].application["web"]["redirectUris"] = ["https://helpdesk.example.com/oauth/callback"]
    result = world.run("helpdesk")
    assert result.code == 1
    assert [s for s, _ in result.statuses()][:2] == ["app credentials", "sign-in page"]
    assert (
        result.step("sign-in page")["detail"].startswith("AADSTS50011: The redirect URI 'http://127.0.0.1:")
        and "/mailoauth-verify' specified in the request does not match" in result.step("sign-in page")["detail"]
    )
    explanation = explained(result, "sign-in page")
    assert explanation["code"] == "AADSTS50011"
    assert f"to `redirectUris` under `mailoauth:apps.helpdesk` in {FILE}" in explanation["fix"]
    assert world.browser.pages == [], "the user is not sent to an error page"


def test_user_of_another_tenant_is_aadsts50020_in_the_device_code_flow(world: World) -> None:
    guest = world.cloud.signin.account(
        {"id": str(uuid.uuid4()), "userPrincipalName": "ann@fabrikam.example"}, OTHER_TENANT_ID
    )
    world.cloud.signin.device_user = guest
    result = world.run("kiosk")
    assert result.code == 1
    assert result.step("user sign-in")["detail"].startswith(
        "device code: invalid_grant: AADSTS50020: User account 'ann@fabrikam.example'"
    )
    explanation = explained(result, "user sign-in")
    assert explanation["code"] == "AADSTS50020"
    assert f"(`azuread:tenantId` in {FILE})" in explanation["fix"]
    assert "set `audience: multi-tenant` under `mailoauth:apps.kiosk`" in explanation["fix"]


def test_user_of_another_tenant_in_the_browser_stays_on_entras_page_and_explain_reads_it(world: World) -> None:
    guest = world.cloud.signin.account(
        {"id": str(uuid.uuid4()), "userPrincipalName": "ann@fabrikam.example"}, OTHER_TENANT_ID
    )
    world.browser.cookie = world.cloud.signin.session(guest)
    result = world.run("helpdesk", "--timeout", "0.5")
    assert result.code == 1
    detail = result.step("user sign-in")["detail"]
    assert detail.startswith("browser: no answer at http://127.0.0.1:") and "within 0.5 s" in detail
    assert "`mailoauth explain AADSTS... --stack verify --app helpdesk`" in detail
    page = world.browser.pages[-1]
    assert page.status == 400 and "AADSTS50020: User account &#x27;ann@fabrikam.example&#x27;" in page.text
    code = cli.main(["-C", str(world.project), "explain", "AADSTS50020", "--stack", "verify", "--app", "helpdesk"])
    out = world.capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "AADSTS50020"
    assert "set `audience: multi-tenant` under `mailoauth:apps.helpdesk`" in out


def test_declined_consent_is_aadsts65004(world: World) -> None:
    world.cloud.signin.declines = True
    result = world.run("mailin")
    assert result.code == 1
    assert (
        result.step("user sign-in")["detail"]
        == "browser: access_denied: AADSTS65004: User declined to consent to access the app."
    )
    assert explained(result, "user sign-in")["code"] == "AADSTS65004"
    assert "Sign-in failed: access_denied." in world.browser.pages[-1].text


def test_device_code_on_a_registration_without_public_client_flows_is_aadsts7000218(world: World) -> None:
    world.deployed["kiosk"].application["isFallbackPublicClient"] = (
        False  # the stack file changed, pulumi up did not run
    )
    world.cloud.signin.device_user = world.account
    result = world.run("kiosk")
    explanation = explained(result, "user sign-in")
    assert explanation["code"] == "AADSTS7000218"
    assert (
        f"set `allowPublicClientFlows: true` under `mailoauth:apps.kiosk` in {FILE} and run `pulumi up`"
        in explanation["fix"]
    )


def test_smtp_auth_disabled_is_535_5_7_139_with_the_mailbox_in_the_fix(world: World) -> None:
    boxes = Mailboxes(tokens=exchange_tokens(world.cloud.book.claims, "SMTP.Send"))
    with FakeSmtp(world.cloud.tls.server_context(), boxes, auth_disabled=True) as disabled:
        result = world.run("helpdesk", "--protocol", "smtp", "--smtp", f"127.0.0.1:{disabled.port}")
    assert result.code == 1
    assert (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled" in result.step("SMTP")["detail"]
    )
    explanation = explained(result, "SMTP")
    assert explanation["code"] == "SMTP-535-5.7.139"
    assert f"Set-CASMailbox -Identity {USER} -SmtpClientAuthenticationDisabled $false" in explanation["fix"]
    assert explanation["reference"].startswith("learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/")


def test_imap_and_smtp_refuse_a_mailbox_the_token_is_not_for(world: World) -> None:
    result = world.run("helpdesk", "--mailbox", "shared@contoso.example", "--protocol", "imap")
    assert result.code == 1
    assert result.doc["mailbox"] == "shared@contoso.example"
    assert world.imap_boxes.attempts[0][0] == "shared@contoso.example"
    assert result.step("IMAP")["detail"] == f"IMAP 127.0.0.1:{world.imap.port}: AUTHENTICATE failed."
    explanation = explained(result, "IMAP")
    assert explanation["code"] == "IMAP-AUTHENTICATE-FAILED"
    assert "Set-CASMailbox -Identity shared@contoso.example -ImapEnabled $true" in explanation["fix"]
    smtp = world.run("helpdesk", "--mailbox", "shared@contoso.example", "--protocol", "smtp")
    assert "535 5.7.3 Authentication unsuccessful" in smtp.step("SMTP")["detail"]
    assert explained(smtp, "SMTP")["code"] == "SMTP-535-5.7.3"


def test_graph_for_a_user_without_an_exchange_licence(world: World) -> None:
    world.cloud.tenant.license_details[world.user["id"]] = []
    result = world.run("helpdesk", "--protocol", "graph")
    assert result.statuses()[-1] == ("Graph", "fail")
    assert "404 MailboxNotEnabledForRESTAPI" in result.step("Graph")["detail"]
    assert explained(result, "Graph")["code"] == "GRAPH-MAILBOX-NOT-ENABLED"


def test_graph_access_denied_names_the_scope_sets(world: World) -> None:
    world.cloud.graph.fail(r"GET /v1\.0/me/mailFolders/", 403, "Access is denied. Check credentials and try again.")
    result = world.run("helpdesk", "--protocol", "graph")
    assert "Microsoft Graph refused GET /me/mailFolders/inbox: 403" in result.step("Graph")["detail"]
    explanation = explained(result, "Graph")
    assert explanation["code"] == "GRAPH-ACCESS-DENIED"
    assert "(graph-read, graph-read-only) to `scopeSets` under `mailoauth:apps.helpdesk`" in explanation["fix"]


# -- sign-in flow choice --------------------------------------------------------------------------------


def test_no_loopback_and_no_public_client_flows_says_what_to_enable(world: World) -> None:
    result = world.run("outbound")
    assert result.code == 1
    assert result.statuses() == [("app credentials", "pass"), ("user sign-in", "fail"), ("SMTP", "skip")]
    assert result.step("user sign-in")["detail"] == (
        "the device-code flow needs public client flows, which this app does not allow; set "
        f"`allowPublicClientFlows: true` under `mailoauth:apps.outbound` in {FILE} and run `pulumi up`, or add a "
        "http://127.0.0.1/... redirect URI for the browser flow"
    )


def test_browser_flow_asked_for_without_a_loopback_redirect(world: World) -> None:
    result = world.run("kiosk", "--flow", "browser")
    assert result.step("user sign-in")["detail"].startswith(
        "the app lists no http://127.0.0.1 or http://localhost redirect URI for the browser flow; add one"
    )


# -- tokens and secrets ---------------------------------------------------------------------------------


def test_keep_token_writes_the_live_refresh_token_owner_only(world: World, tmp_path) -> None:
    path = tmp_path / "token.json"
    path.write_text("old")
    path.chmod(0o644)
    result = world.run("helpdesk", "--protocol", "imap", "--keep-token", str(path))
    assert result.code == 0, result.out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = json.loads(path.read_text())
    assert kept["refreshToken"] in world.cloud.signin.refresh_tokens
    assert world.cloud.signin.refresh_tokens[kept["refreshToken"]].account == world.account
    assert (kept["clientId"], kept["user"], kept["publicClient"]) == (
        world.deployed["helpdesk"].application["appId"],
        USER,
        False,
    )
    assert result.doc["refreshToken"] == f"written to {path} (mode 0600)"
    assert kept["refreshToken"] not in result.out + result.err


def test_new_token_file_is_created_owner_only(world: World, tmp_path) -> None:
    path = tmp_path / "new-token.json"
    failed = world.run("kiosk", "--flow", "browser", "--keep-token", str(path))  # no sign-in, no token to keep
    assert failed.doc["refreshToken"] == "none obtained" and not path.exists()
    world.cloud.signin.device_user = world.account
    result = world.run("kiosk", "--keep-token", str(path))
    assert result.code == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["publicClient"] is True


def test_outputs_problems_name_the_key_and_never_the_secret(world: World) -> None:
    outputs = world.outputs()
    outputs["clientSecrets"]["helpdesk"] = "[secret]"
    hidden = world.run("helpdesk", outputs=outputs)
    assert hidden.code == 2
    assert (
        "error: stack outputs on stdin: clientSecrets.helpdesk: the secret is hidden; add --show-secrets" in hidden.err
    )
    missing = world.run("nothere", outputs=world.outputs())
    assert missing.code == 2 and "no app 'nothere'" in missing.err
    other = world.outputs()
    other["apps"]["helpdesk"]["tenantId"] = OTHER_TENANT_ID
    wrong_tenant = world.run("helpdesk", outputs=other)
    assert wrong_tenant.code == 2
    assert f"apps.helpdesk.tenantId: these outputs are for tenant {OTHER_TENANT_ID}" in wrong_tenant.err
    none = world.run("helpdesk", outputs=None)
    assert none.code == 2
    assert none.err.startswith(
        "error: no credentials for app helpdesk: pipe `pulumi stack output --show-secrets --json`"
    )
    for result in (hidden, missing, wrong_tenant, none):
        assert SECRET not in result.out + result.err


def test_outputs_file_and_secret_slots(world: World, tmp_path) -> None:
    outputs = world.outputs()
    outputs["clientSecretSlots"]["helpdesk"]["secret-2027-12-01"] = "fake~not-yet-deployed-slot"
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    args = world.args("helpdesk", "--outputs", str(path), "--protocol", "imap")
    assert cli.main(args) == 0
    assert json.loads(world.capsys.readouterr().out)["credentials"] == str(path)
    assert cli.main([*args, "--slot", "secret-2027-12-01"]) == 1
    doc = json.loads(world.capsys.readouterr().out)
    assert doc["steps"][0]["explanation"]["code"] == "AADSTS7000215"
    assert cli.main([*args, "--slot", "secret-2099"]) == 2
    assert (
        "clientSecretSlots.helpdesk.secret-2099: no client secret here; slots of this app: secret, secret-2027-12-01"
        in (world.capsys.readouterr().err)
    )
    path.write_text("{not json")
    assert cli.main(args) == 2
    assert f"error: {path}: (file): not JSON" in world.capsys.readouterr().err


def test_deployed_scope_strings_win_over_a_changed_stack_file(world: World) -> None:
    outputs = world.outputs()
    deployed = "offline_access https://outlook.office.com/IMAP.AccessAsUser.All"
    outputs["apps"]["helpdesk"]["scopeRequests"]["outlook"] = deployed
    result = world.run("helpdesk", "--protocol", "imap", outputs=outputs)
    assert result.code == 0, result.out
    assert browser_authorize_query(world)["scope"] == deployed
    assert result.doc["notes"] == [
        f"the deployed scopeRequests differ from {FILE}; verifying what is deployed (run `pulumi up` to apply the file)"
    ]


def test_protocol_the_app_does_not_have(world: World) -> None:
    result = world.run("kiosk", "--protocol", "graph")
    assert result.code == 2
    assert "app kiosk has no graph scope (it has: imap, smtp)" in result.err


def test_no_token_code_or_secret_reaches_output_or_logs(world: World, caplog, tmp_path) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    world.cloud.signin.device_user = world.account
    runs = [
        world.run("helpdesk", "--format", "text"),
        world.run("mailin"),
        world.run("kiosk", "--keep-token", str(tmp_path / "t")),
    ]
    issued = world.cloud.signin.issued
    assert len(issued) >= 10
    shown = "".join(r.out + r.err for r in runs) + caplog.text
    leaked = [value for value in [*issued, SECRET] if value in shown]
    assert leaked == []


def test_markdown_report_for_a_ticket_shows_each_step_and_the_explanation(world: World) -> None:
    result = world.run("helpdesk", "--protocol", "imap", "--mailbox", "other@contoso.example", "--format", "md")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "**mailoauth verify** stack `verify`, app `helpdesk`: 1 of 5 steps failed"
    assert "| outlook token | :white_check_mark: pass |" in result.out
    imap = next(line for line in lines if line.startswith("| IMAP |"))
    assert imap.startswith(f"| IMAP | :x: **fail** | IMAP 127.0.0.1:{world.imap.port}: ")
    assert "**IMAP: IMAP-AUTHENTICATE-FAILED**" in lines
    assert SECRET not in result.out
