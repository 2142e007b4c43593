"""The keys `adopt` writes, read by the core: `import:` ids and adopted secret slots in validation, plan and
the program (no tenant needed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mailoauth.desired.model import Imports
from mailoauth.project import assembly
from mailoauth.project.context import ProjectContext
from mailoauth.review import plan
from tests.pulumi_harness import run_program, stack_config
from tests.test_validation import CATALOGUE, TODAY, app_of, mutate, problems

APP_OBJECT = "3f2a9c7e-0d41-4b6e-9a55-2c8e1f7b6d30"
SP_OBJECT = "7b1d3e9f-52c4-4a8e-b0f6-9d2c7a4e1b58"
GRANT_ID = "/oauth2PermissionGrants/x3Y8kT0bQe2nZ4vLm9PaR1sUwGhJcK5d7Ff6Vq"
KEY_ID = "9e8d7c6b-5a49-4382-a716-151413121110"
WHERE = "error: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira"


def adopted(doc: dict[str, Any]) -> None:
    app = app_of(doc)
    app.update(
        adminConsent=True,
        redirectUris=["https://mail.contoso.example/oauth/callback"],
        clientId="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        secret={"description": "jira", "expires": date(2027, 5, 31), "keyId": KEY_ID},
    )
    app["import"] = {
        "application": f"/applications/{APP_OBJECT}",
        "servicePrincipal": f"/servicePrincipals/{SP_OBJECT.upper()}",
        "consentGrants": [{"resource": "graph", "id": GRANT_ID}],
    }


def test_import_ids_and_adopted_slots_are_read() -> None:
    stack = assembly.build_stack("dev", mutate(adopted), "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY))
    app = stack.apps["jira"]
    assert app.imports == Imports(
        f"/applications/{APP_OBJECT}", f"/servicePrincipals/{SP_OBJECT}", (("graph", GRANT_ID),)
    )
    assert [(s.name, s.key_id, s.adopted) for s in app.secrets] == [("secret", KEY_ID, True)]
    assert app.managed_secrets == () and app.newest_managed_secret is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a.update(adminConsent=False),
            f"{WHERE}.import.consentGrants[0].resource: a consent grant is imported only with adminConsent: true "
            "(got 'graph')",
        ),
        (
            lambda a: a["import"]["consentGrants"][0].update(resource="exchange"),
            f"{WHERE}.import.consentGrants[0].resource: the app requests no permission from 'exchange'; "
            "resources it requests: graph",
        ),
        (
            lambda a: a["import"]["consentGrants"].append({"resource": "graph", "id": GRANT_ID}),
            f"{WHERE}.import.consentGrants[1].resource: a second grant for 'graph'; one tenant-wide grant per resource",
        ),
        (
            lambda a: a["import"].update(application=APP_OBJECT),
            f"{WHERE}.import.application: must match ^/applications/[0-9a-fA-F-]{{36}}$ (got '{APP_OBJECT}'); "
            "Import id of the app registration: /applications/<object id>.",
        ),
        (
            lambda a: a["import"].update(servicePrincipal=SP_OBJECT),
            f"{WHERE}.import.servicePrincipal: must match ^/servicePrincipals/[0-9a-fA-F-]{{36}}$ (got '{SP_OBJECT}'); "
            "Import id of its service principal (enterprise application): /servicePrincipals/<object id>.",
        ),
        (
            lambda a: a["import"].update(servicePrincipal=f"/serviceprincipals/{SP_OBJECT}"),
            f"{WHERE}.import.servicePrincipal: must match ^/servicePrincipals/[0-9a-fA-F-]{{36}}$ "
            f"(got '/serviceprincipals/{SP_OBJECT}'); "
            "Import id of its service principal (enterprise application): /servicePrincipals/<object id>.",
        ),
        (
            lambda a: a.update(omitScopes=["User.Read"]),
            f"{WHERE}.omitScopes[0]: 'User.Read' is not in the general set; only offline_access, "
            "openid, email, profile can be left out",
        ),
        (
            lambda a: a["import"].update(permissionOrder=["openid", "Mail.Read"]),
            f"{WHERE}.import.permissionOrder[1]: the app does not request this permission (got 'Mail.Read')",
        ),
        (
            lambda a: a["import"].pop("application"),
            f"{WHERE}.import.application: required key is missing; Import id of the app registration: "
            "/applications/<object id>.",
        ),
    ],
)
def test_import_mistakes_are_named(change, message: str) -> None:
    def broken(doc: dict[str, Any]) -> None:
        adopted(doc)
        change(app_of(doc))

    assert message in problems(mutate(broken))


def test_plan_shows_what_is_imported_and_kept() -> None:
    stack = assembly.build_stack("dev", mutate(adopted), "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY))
    doc = plan.plan_document(stack)
    assert doc["summary"] == {
        "applications": 1,
        "servicePrincipals": 1,
        "applicationPasswords": 0,
        "delegatedPermissionGrants": 1,
        "imported": 3,
    }
    assert doc["apps"]["jira"]["import"] == {
        "application": f"/applications/{APP_OBJECT}",
        "servicePrincipal": f"/servicePrincipals/{SP_OBJECT}",
        "consentGrants": {"graph": GRANT_ID},
        "permissionOrder": [],
    }
    text = plan.render_text(doc)
    assert text.splitlines()[0].endswith("; 3 of them imported from the tenant")
    assert f'    secret         secret: "jira", expires 2027-05-31 (adopted, keyId {KEY_ID}: kept, not created)' in text
    assert f"    import         application /applications/{APP_OBJECT}\n" in text
    assert f"    import         consent graph {GRANT_ID}\n" in text
    assert f"- import service principal: `/servicePrincipals/{SP_OBJECT}`" in plan.render_markdown(doc)


def test_program_without_a_tenant_passes_the_ids_through() -> None:
    run = run_program(stack_config(mutate(adopted)), "dev")
    assert run.error is None
    ids = {r.name: r.resource_id for r in run.resources if r.typ.startswith("azuread:")}
    assert ids == {
        "jira": f"/applications/{APP_OBJECT}",
        "jira-sp": f"/servicePrincipals/{SP_OBJECT}",
        "jira-consent-graph": GRANT_ID,
    }
    assert run.outputs["clientSecrets"] == {}


def test_omitted_general_scopes_are_not_registered_and_the_order_is_kept() -> None:
    def lean(doc: dict[str, Any]) -> None:
        adopted(doc)
        app_of(doc).update(omitScopes=["email", "profile"])
        app_of(doc)["import"]["permissionOrder"] = ["SMTP.Send", "offline_access", "IMAP.AccessAsUser.All", "openid"]

    app = assembly.build_stack("dev", mutate(lean), "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY)).apps[
        "jira"
    ]
    assert [p.value for perms in app.resources().values() for p in perms] == [
        "SMTP.Send",
        "offline_access",
        "IMAP.AccessAsUser.All",
        "openid",
    ]
    doc = plan.plan_document(assembly.build_stack("dev", mutate(lean), "x", ProjectContext(CATALOGUE, TODAY)))
    assert "    left out       email, profile (of the general set)\n" in plan.render_text(doc)
    assert "scope sets: general, imap, smtp without email, profile;" in plan.render_markdown(doc)
