"""The pieces of `verify` on their own: allowPublicClientFlows end to end through plan and the program,
the loopback listener, the device-code poll, and the explanations data and its documentation."""

from __future__ import annotations

import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from datetime import date

import pytest

from mailoauth.project.assembly import build_stack
from mailoauth.project.context import ProjectContext
from mailoauth.review import plan
from mailoauth.verify.explain import _data, explain, explanations
from mailoauth.verify.loopback import Listener, loopback_redirect
from mailoauth.verify.oauth import DEVICE_GRANT, OAuthError, TokenClient
from mailoauth.verify.redact import Redactor
from tests.fakes.cloud import TENANT_ID
from tests.projectcopy import ROOT
from tests.pulumi_harness import run_program, stack_config
from tests.test_validation import CATALOGUE, app_of, base, problems
from tests.verify_world import World

APP = "azuread:index/application:Application"
TENANT = "11111111-2222-3333-4444-555555555555"
REQUIRED = ("AADSTS65001", "AADSTS50020", "AADSTS700016", "AADSTS7000215", "AADSTS50011")


# -- allowPublicClientFlows ------------------------------------------------------------------------------


def own_app(**settings: object) -> dict:
    """The validation tests' stack with a callback URL of its own (no other stack may register it)."""
    doc = base()
    app_of(doc).update(redirectUris=["https://verify-parts.example.com/cb"], **settings)
    return doc


def test_allow_public_client_flows_reaches_plan_and_the_registration() -> None:
    doc = own_app(allowPublicClientFlows=True)
    stack = build_stack("dev", doc, "f", ProjectContext(CATALOGUE, date(2026, 11, 27)))
    planned = plan.plan_document(stack)["apps"]["jira"]
    assert planned["allowPublicClientFlows"] is True
    assert "    public client  allowed (device code sign-in)" in plan.render_text(plan.plan_document(stack))
    assert "admin consent: no; public client flows (device code): allowed" in plan.render_markdown(
        plan.plan_document(stack)
    )
    run = run_program(stack_config(doc), "dev", tenant_id=TENANT)
    assert run.error is None
    assert run.get(APP, "jira").inputs["fallbackPublicClientEnabled"] is True


def test_public_client_flows_are_off_unless_asked_for() -> None:
    stack = build_stack("dev", own_app(), "f", ProjectContext(CATALOGUE, date(2026, 11, 27)))
    assert plan.plan_document(stack)["apps"]["jira"]["allowPublicClientFlows"] is False
    assert (
        run_program(stack_config(own_app()), "dev", tenant_id=TENANT)
        .get(APP, "jira")
        .inputs["fallbackPublicClientEnabled"]
        is False
    )


def test_allow_public_client_flows_must_be_a_boolean() -> None:
    doc = base()
    app_of(doc)["allowPublicClientFlows"] = "yes"
    assert (
        "error: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira.allowPublicClientFlows: expected true or false "
        "(got 'yes')"
    ) in problems(doc)


# -- the loopback listener -------------------------------------------------------------------------------


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_loopback_redirect_is_the_first_http_localhost_or_127_uri() -> None:
    uris = ("https://a.example/cb", "https://localhost/cb", "http://localhost:8080/x", "http://127.0.0.1/y")
    assert loopback_redirect(uris) == "http://localhost:8080/x"
    assert loopback_redirect(("https://a.example/cb", "https://127.0.0.1/cb")) is None


def test_listener_ignores_foreign_state_and_wrong_paths() -> None:
    with Listener("http://127.0.0.1/cb", "our-state") as listener:
        base_url = listener.redirect_uri
        assert get(f"{base_url}?code=stolen&state=other")[0] == 400
        assert get(base_url.replace("/cb", "/favicon.ico"))[0] == 404
        assert listener.wait(0.05) is None
        status, page = get(f"{base_url}?code=abc&state=our-state")
        response = listener.wait(1)
    assert status == 200 and "Signed in." in page
    assert response is not None and (response.code, response.error) == ("abc", None)


def test_listener_takes_the_registered_port_and_another_when_it_is_busy() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with Listener(f"http://localhost:{free}/cb", "s") as listener:
        assert listener.redirect_uri == f"http://localhost:{free}/cb"
        with Listener(f"http://localhost:{free}/cb", "s") as second:
            assert second.redirect_uri.startswith("http://localhost:") and second.redirect_uri.endswith("/cb")
            assert second.redirect_uri != listener.redirect_uri


# -- the device-code poll --------------------------------------------------------------------------------


def test_device_code_poll_slows_down_when_told_and_gives_up_at_the_timeout(world: World) -> None:
    world.cloud.signin.fail(DEVICE_GRANT, 70016, "slow_down", "Polling too fast.")
    token_url = f"{world.cloud.authority}/{TENANT_ID}/oauth2/v2.0"
    context = ssl.create_default_context(cafile=world.cloud.ca_path)
    client = TokenClient(f"{token_url}/token", world.deployed["kiosk"].application["appId"], None, context, Redactor())
    device = client.start_device_code(f"{token_url}/devicecode", "offline_access https://outlook.office.com/SMTP.Send")
    waits: list[float] = []
    with pytest.raises(OAuthError) as caught:
        client.poll_device_code(device, timeout=0.3, sleep=lambda s: (waits.append(s), time.sleep(0.02)))
    assert waits[:3] == [0, 5, 5], "the interval grows by 5 s after slow_down"
    assert str(caught.value) == f"expired_token: nobody entered the code {device.user_code} within 0.3 s"


# -- the explanations data -------------------------------------------------------------------------------


def test_every_explanation_has_a_known_source_and_a_working_pattern() -> None:
    data = _data()
    for code, entry in data["explanations"].items():
        assert set(entry) <= {"meaning", "fix", "source", "match"}, code
        assert entry["source"] in data["sources"], code
        assert code.startswith("AADSTS") != ("match" in entry), f"{code}: AADSTS codes need no pattern, others need one"
    for code in REQUIRED:
        assert code in explanations()


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("SMTP host: 535 5.7.139 Authentication unsuccessful, basic authentication is disabled.", "SMTP-535-5.7.139"),
        ("SMTP host: 535 5.7.3 Authentication unsuccessful", "SMTP-535-5.7.3"),
        ("IMAP host: AUTHENTICATE failed.", "IMAP-AUTHENTICATE-FAILED"),
        ("refused GET /me/mailFolders/inbox: 404 MailboxNotEnabledForRESTAPI (...)", "GRAPH-MAILBOX-NOT-ENABLED"),
        ("device code: authorization_declined", "DEVICE-CODE-DECLINED"),
    ],
)
def test_mail_and_graph_replies_are_explained(reply: str, code: str) -> None:
    found = explain(reply)
    assert found is not None and found.code == code


def test_context_fills_the_placeholders() -> None:
    found = explain(
        "AADSTS7000222", {"key": "jira", "stack": "prod", "file": "stacks/Pulumi.prod.yaml", "mailbox": None}
    )
    assert found is not None
    assert found.fix.startswith("Run `mailoauth secrets rotate --stack prod --app jira`, merge")
    assert "<" not in found.fix


def test_docs_list_every_explanation() -> None:
    text = (ROOT / "docs" / "verify.md").read_text().split("## Explaining failures")[1].split("\nSources:")[0]
    documented = set(re.findall(r"^\| `([A-Z0-9.-]+)` \|", text, flags=re.M))
    assert documented == set(explanations())
