"""The CrossGuard pack fed with what the program really registers (captured under Pulumi mocks).

Each resource's inputs, URN and parent URN come from running the real __main__.py for an example
stack (tests/pulumi_harness.py). They go to the pack's policies as pulumi_policy's own
ResourceValidationArgs, with the inputs wrapped in pulumi_policy's unknown-checking proxy as the
engine wraps them. What this does not exercise: the Pulumi CLI and engine themselves (not installable
here); the last test talks to the pack's gRPC server the way the engine does, which covers the
policy pack process, its configuration and the enforcement levels it reports.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

from mailoauth.deploy import crossguard
from tests.guardrails_support import TODAY, make_project, write_yaml
from tests.projectcopy import ROOT
from tests.pulumi_harness import Run, run_stack_file, secret_value

JUDGED = (crossguard.APPLICATION, crossguard.PASSWORD, crossguard.GRANT)
EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
GRAPH = "00000003-0000-0000-c000-000000000000"
EWS_SCOPE = "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5"


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAILOAUTH_TODAY", TODAY)
        yield {name: run_stack_file(name) for name in ("dev", "prod", "saas")}


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    project = crossguard.Project(ROOT, today=date.fromisoformat(TODAY))
    return {p.name: p for p in crossguard.policies(ROOT, project)}


def args_for(
    run: Run, typ: str, name: str, props: dict[str, Any] | None = None, config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    resource = next(r for r in run.of_type(typ) if r.name == name)
    urn, parent = run.urn(resource)
    return resource_args(typ, name, props if props is not None else resource.inputs, urn, parent, config)


def resource_args(
    typ: str, name: str, props: dict[str, Any], urn: str, parent: str | None, config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)
    return ResourceValidationArgs(typ, unknown_checking_proxy(copy.deepcopy(props)), urn, name, opts, None, config)


def violations(pack: dict[str, Any], args: ResourceValidationArgs) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for policy in pack.values():
        policy.validate(args, lambda message, urn=None, name=policy.name: found.append((name, message)))
    return found


def inputs(run: Run, typ: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(next(r for r in run.of_type(typ) if r.name == name).inputs)


def test_what_the_program_registers_passes(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    judged = {}
    for stack, run in runs.items():
        assert run.error is None
        resources = [r for r in run.resources if r.typ in JUDGED]
        judged[stack] = sorted(r.name for r in resources)
        for r in resources:
            assert violations(pack, args_for(run, r.typ, r.name)) == [], (stack, r.name)
    assert judged == {
        "dev": ["jira-mail-in", "jira-mail-in-secret"],
        "prod": [
            "jira-mail-in",
            "jira-mail-in-consent-graph",
            "jira-mail-in-secret",
            "jira-mail-out",
            "jira-mail-out-consent-graph",
            "jira-mail-out-secret",
        ],
        "saas": ["helpdesk", "helpdesk-secret"],
    }


def test_levels_are_those_of_policy_rules_yaml(pack: dict[str, Any]) -> None:
    levels = {name: p.enforcement_level for name, p in pack.items()}
    assert levels["redirect-https"] == EnforcementLevel.MANDATORY
    assert levels["ews-retirement"] == EnforcementLevel.ADVISORY
    assert levels["secret-recommended-lifetime"] == EnforcementLevel.ADVISORY
    assert pack["secret-max-lifetime"].config_schema.properties == {
        "maxMonths": {
            "description": "Longest allowed secret lifetime in months.",
            "type": "integer",
            "minimum": 1,
            "default": 24,
        }
    }


def dev_app_with_access(runs: dict[str, Run], pack: dict[str, Any], entry: dict[str, str]) -> list[tuple[str, str]]:
    """Violations of the dev stack's Application as the program sends it, plus one Graph permission entry."""
    props = inputs(runs["dev"], crossguard.APPLICATION, "jira-mail-in")
    graph = props["requiredResourceAccesses"][0]
    assert graph["resourceAppId"] == GRAPH and len(graph["resourceAccesses"]) == 6  # general (4), IMAP, SMTP
    graph["resourceAccesses"].append(entry)
    return violations(pack, args_for(runs["dev"], crossguard.APPLICATION, "jira-mail-in", props))


def test_an_application_role_is_refused(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    role = {"id": "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "type": "Role"}
    assert dev_app_with_access(runs, pack, role) == [
        (
            "delegated-only",
            f"requiredResourceAccesses[0].resourceAccesses[6]: 810c84a8-4a9e-49e6-bf7d-12d183f40d01 on {GRAPH} "
            "is an application permission (type Role): it works without a signed-in user, on every mailbox the tenant "
            "allows; register delegated scopes from scopes/catalogue.yaml; remove application roles (type Role)",
        )
    ]


def test_a_scope_the_stack_file_does_not_declare_is_refused(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    mail_send = {"id": "e383f46e-2787-4529-855e-0e479a3ffac0", "type": "Scope"}
    assert dev_app_with_access(runs, pack, mail_send) == [
        (
            "declared-scopes",
            "requiredResourceAccesses[0].resourceAccesses[6]: Mail.Send is registered but not declared by the app's "
            "scopeSets or scopes in its stack file; declare the scope in the app's scopeSets or scopes, or remove it "
            "from the registration",
        )
    ]


def test_a_consent_grant_beyond_the_declaration_is_refused(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    props = inputs(runs["prod"], crossguard.GRANT, "jira-mail-in-consent-graph")
    props["claimValues"] = [*props["claimValues"], "Mail.Send"]
    found = violations(pack, args_for(runs["prod"], crossguard.GRANT, "jira-mail-in-consent-graph", props))
    assert found == [
        (
            "declared-scopes",
            f"claimValues[{len(props['claimValues']) - 1}]: Mail.Send is registered but not declared by the app's "
            "scopeSets or scopes in its stack file; declare the scope in the app's scopeSets or scopes, or remove it "
            "from the registration",
        )
    ]


def test_user_read_not_asked_for(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    user_read = {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}
    assert [name for name, _ in dev_app_with_access(runs, pack, user_read)] == ["declared-scopes", "user-read"]


def test_a_wider_audience_than_the_file_acknowledges(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    props = inputs(runs["dev"], crossguard.APPLICATION, "jira-mail-in")
    props["signInAudience"] = "AzureADMultipleOrgs"
    assert violations(pack, args_for(runs["dev"], crossguard.APPLICATION, "jira-mail-in", props)) == [
        (
            "wide-audience-write",
            "signInAudience: a multi-tenant app with write or send scopes (SMTP.Send, IMAP.AccessAsUser.All): other "
            "tenants can consent to it changing or sending their mail; set allowWideAudience: true to acknowledge it, "
            "or use audience: single-tenant",
        )
    ]


def test_secret_lifetimes_and_their_configuration(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    dev = runs["dev"]
    props = inputs(dev, crossguard.PASSWORD, "jira-mail-in-secret")
    assert props["endDate"] == "2027-11-15T00:00:00Z"
    props["endDate"] = "2029-01-01T00:00:00Z"
    assert [n for n, _ in violations(pack, args_for(dev, crossguard.PASSWORD, "jira-mail-in-secret", props))] == [
        "secret-max-lifetime",
        "secret-recommended-lifetime",
    ]
    stricter = args_for(dev, crossguard.PASSWORD, "jira-mail-in-secret", config={"maxMonths": 6.0})  # JSON number
    found: list[str] = []
    pack["secret-max-lifetime"].validate(stricter, lambda message, urn=None: found.append(message))
    assert found == [
        "endDate: secret expires 2027-11-15, more than 6 months from today; expire on 2027-05-27 or earlier; pin an "
        "earlier expires date; rotate with two slots (secrets:) instead of long-lived secrets"
    ]


def test_redirect_uris_owners_and_wildcards(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    props = inputs(runs["dev"], crossguard.APPLICATION, "jira-mail-in")
    assert props["owners"] == ["0d0d0d0d-1111-4222-8333-444444444444"]  # the deploying principal
    props["owners"] = []
    props["web"]["redirectUris"] = ["http://jira-dev.example.com/cb", "https://*.example.com/cb"]
    props["spa"] = {"redirectUris": ["http://localhost:3000/cb"]}
    assert violations(pack, args_for(runs["dev"], crossguard.APPLICATION, "jira-mail-in", props)) == [
        (
            "redirect-https",
            "web.redirectUris[0]: redirect URI 'http://jira-dev.example.com/cb' must use https (http only for "
            "localhost or 127.0.0.1); use the instance's https callback URL",
        ),
        (
            "redirect-no-wildcard",
            "web.redirectUris[1]: redirect URI 'https://*.example.com/cb' has a wildcard; list each callback URL "
            "explicitly",
        ),
        (
            "owners",
            "owners: the app registration has no owner; set owners (the program always adds the deploying principal)",
        ),
    ]


def hand_written(stack: str, project: str = "mailoauth", **props: Any) -> ResourceValidationArgs:
    """An Application written directly in a program (no MailApp parent): judged against the catalogue."""
    base: dict[str, Any] = {
        "displayName": "hand-made",
        "owners": ["0d0d0d0d-1111-4222-8333-444444444444"],
        "web": {"redirectUris": ["https://hand.example.com/cb"]},
        "requiredResourceAccesses": [
            {
                "resourceAppId": GRAPH,
                "resourceAccesses": [{"id": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "type": "Scope"}],
            }
        ],
    }
    urn = f"urn:pulumi:{stack}::{project}::{crossguard.APPLICATION}::hand"
    return resource_args(
        crossguard.APPLICATION, "hand", {**base, **props}, urn, f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::x"
    )


def test_hand_written_application(pack: dict[str, Any]) -> None:
    assert violations(pack, hand_written("dev")) == []
    accesses = [
        {"id": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "type": "Scope"},  # Mail.Read
        {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"},  # User.Read, the portal's default
        {"id": "10465720-29dd-4523-a11a-6a75c743c9d9", "type": "Scope"},  # Files.Read: not in the catalogue
    ]
    found = violations(
        pack, hand_written("dev", requiredResourceAccesses=[{"resourceAppId": GRAPH, "resourceAccesses": accesses}])
    )
    assert [(name, message.split(":", 1)[0]) for name, message in found] == [
        ("declared-scopes", "requiredResourceAccesses[0].resourceAccesses[2]"),
        ("user-read", "requiredResourceAccesses[0].resourceAccesses[1]"),
    ]
    ews = [{"resourceAppId": EXCHANGE, "resourceAccesses": [{"id": EWS_SCOPE, "type": "Scope"}]}]
    status = (
        "Exchange Online has blocked EWS since 2026-10-01 unless the tenant allow-lists the app, and shuts it down on "
        "2027-04-01"
    )
    assert violations(pack, hand_written("dev", requiredResourceAccesses=ews)) == [
        (
            "ews-retirement",
            f"requiredResourceAccesses[0].resourceAccesses[0]: EWS.AccessAsUser.All (EWS): {status}; send MIME "
            "through Graph sendMail instead (scopeSets: [graph-send], Mail.Send alone)",
        ),
        (  # a hand-written app has no stack file to acknowledge EWS in
            "ews-opt-in",
            f"requiredResourceAccesses[0].resourceAccesses[0]: EWS.AccessAsUser.All (EWS) without allowEws: true: "
            f"{status}; send MIME through Graph sendMail (scopeSets: [graph-send]); if the product cannot, set "
            "allowEws: true",
        ),
    ]
    no_audience = violations(
        pack, hand_written("dev", signInAudience="AzureADandPersonalMicrosoftAccount", requiredResourceAccesses=ews)
    )
    assert [name for name, _ in no_audience] == [
        "wide-audience-write",
        "ews-retirement",
        "ews-opt-in",
        "personal-token-version",
    ]


@pytest.mark.parametrize("audience", ["AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"])
def test_a_hand_written_personal_app_needs_v2_tokens(pack: dict[str, Any], audience: str) -> None:
    v1 = violations(pack, hand_written("dev", signInAudience=audience, api={"requestedAccessTokenVersion": 1}))
    personal = "multi-tenant-and-personal" if audience.startswith("AzureAD") else "personal"
    assert v1 == [
        (
            "personal-token-version",
            f"api.requestedAccessTokenVersion: a {personal} app requests v1 access tokens; apps that allow personal "
            "accounts must request v2 (the azuread provider refuses the plan); set api.requestedAccessTokenVersion "
            "to 2 (the program does so for these audiences)",
        )
    ]
    assert [name for name, _ in violations(pack, hand_written("dev", signInAudience=audience))] == [
        "personal-token-version"
    ]  # no API block: the provider's default, v1
    assert violations(pack, hand_written("dev", signInAudience=audience, api={"requestedAccessTokenVersion": 2})) == []


def test_a_hand_written_app_may_not_reuse_a_stack_files_callback(pack: dict[str, Any]) -> None:
    prod_callback = "https://jira.example.com/plugins/servlet/oauth2/callback"
    assert violations(pack, hand_written("prod", web={"redirectUris": [prod_callback]})) == []  # prod's own
    expected = [
        (
            "unique-callback",
            f"web.redirectUris[0]: redirect URI '{prod_callback}' is also registered by stack prod: an instance's "
            "callback must belong to one stack; give each stack its own instance's callback URL",
        )
    ]
    assert violations(pack, hand_written("staging", web={"redirectUris": [prod_callback]})) == expected
    assert violations(pack, hand_written("prod", project="other", web={"redirectUris": [prod_callback]})) == expected


def test_a_hand_written_password_without_an_end_date(pack: dict[str, Any]) -> None:
    urn = f"urn:pulumi:dev::other::{crossguard.PASSWORD}::pw"
    unpinned = resource_args(crossguard.PASSWORD, "pw", {"applicationId": "/applications/x"}, urn, None)
    assert violations(pack, unpinned) == [
        (
            "secret-recommended-lifetime",
            "endDate: secret expires 2028-11-27, more than 12 months from today (no end date: Microsoft Graph gives "
            "two years); expire on 2027-11-27 or earlier; pin an earlier expires date; rotate with two slots "
            "(secrets:) instead of long-lived secrets",
        )
    ]
    relative = resource_args(crossguard.PASSWORD, "pw", {"endDateRelative": "8760h"}, urn, None)
    assert violations(pack, relative) == []  # 365 days
    relative = resource_args(crossguard.PASSWORD, "pw", {"endDateRelative": "17544h"}, urn, None)
    assert [name for name, _ in violations(pack, relative)] == ["secret-recommended-lifetime"]


def test_no_secret_value_reaches_a_message(runs: dict[str, Run], pack: dict[str, Any]) -> None:
    """Even if the engine handed the pack a password's state, its value would not be repeated."""
    dev = runs["dev"]
    leaked = secret_value("jira-mail-in-secret")
    props = {
        **inputs(dev, crossguard.PASSWORD, "jira-mail-in-secret"),
        "value": leaked,
        "endDate": "2030-01-01T00:00:00Z",
    }
    found = violations(pack, args_for(dev, crossguard.PASSWORD, "jira-mail-in-secret", props))
    assert found and all(leaked not in message for _, message in found)
    assert all(leaked not in json.dumps(r.inputs) for r in dev.resources)


def test_policy_levels_follow_the_project_policy_file(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_yaml(
        project / "policy/rules.yaml",
        {"rules": {"redirect-https": {"level": "advisory"}, "owners": {"level": "disabled"}}},
    )
    levels = {p.name: p.enforcement_level for p in crossguard.policies(project)}
    assert levels["redirect-https"] == EnforcementLevel.ADVISORY
    assert levels["owners"] == EnforcementLevel.DISABLED
    assert levels["delegated-only"] == EnforcementLevel.MANDATORY


# --- the pack as the Pulumi engine meets it: a gRPC analyzer --------------------------------------


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """policy/__main__.py as its own process; it prints its port, as pulumi_policy does for the engine."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "policy" / "__main__.py")],
        cwd=ROOT / "policy",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"MAILOAUTH_TODAY": TODAY, "PATH": "/usr/bin:/bin"},
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait()


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, run: Run, typ: str, name: str, props: dict[str, Any]) -> list[Any]:
    resource = next(r for r in run.of_type(typ) if r.name == name)
    urn, parent = run.urn(resource)
    properties = struct_pb2.Struct()
    properties.update(props)
    request = analyzer_pb2.AnalyzeRequest(
        type=typ, properties=properties, urn=urn, name=name, options=analyzer_pb2.AnalyzerResourceOptions(parent=parent)
    )
    return list(stub.Analyze(request).diagnostics)


def test_the_pack_process_over_grpc(analyzer: analyzer_pb2_grpc.AnalyzerStub, runs: dict[str, Run]) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "mailoauth-guardrails"
    assert [p.name for p in info.policies][:3] == ["delegated-only", "declared-scopes", "user-read"]
    dev = runs["dev"]
    props = inputs(dev, crossguard.APPLICATION, "jira-mail-in")
    assert analyze(analyzer, dev, crossguard.APPLICATION, "jira-mail-in", props) == []
    props["web"]["redirectUris"] = ["http://jira-dev.example.com/cb"]
    (diagnostic,) = analyze(analyzer, dev, crossguard.APPLICATION, "jira-mail-in", props)
    assert diagnostic.policyName == "redirect-https"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "web.redirectUris[0]: redirect URI 'http://jira-dev.example.com/cb' must use https" in diagnostic.message

    # --policy-pack-config as the engine passes it: a level override and a parameter
    config = {
        "redirect-https": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.ADVISORY),
        "secret-max-lifetime": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY),
    }
    config["secret-max-lifetime"].properties.update({"maxMonths": 6})
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))
    (diagnostic,) = analyze(analyzer, dev, crossguard.APPLICATION, "jira-mail-in", props)
    assert (diagnostic.policyName, diagnostic.enforcementLevel) == ("redirect-https", analyzer_pb2.ADVISORY)
    password = inputs(dev, crossguard.PASSWORD, "jira-mail-in-secret")
    (diagnostic,) = analyze(analyzer, dev, crossguard.PASSWORD, "jira-mail-in-secret", password)
    assert diagnostic.policyName == "secret-max-lifetime"
    assert "endDate: secret expires 2027-11-15, more than 6 months from today" in diagnostic.message
