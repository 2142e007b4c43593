"""The Pulumi program: one `MailApp` component per app of the desired state.

Only this module imports pulumi and pulumi_azuread. It reads the same config keys `plan` reads,
validates them with the same code, checks that it is deploying into the configured tenant, and
only then registers resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azuread as azuread

from mailoauth.base.problems import CommandError, InvalidInput
from mailoauth.base.tree import WorkTree, find_project_root
from mailoauth.desired import catalogue
from mailoauth.desired.endpoints import app_endpoints
from mailoauth.desired.model import App, Imports, SecretSlot, Stack
from mailoauth.project import assembly, files
from mailoauth.project.context import ProjectContext
from mailoauth.project.guard import project_guard


@dataclass(frozen=True)
class MailAppProps:
    """Everything one MailApp needs: its desired state, where it lives, and ids known before create."""

    app: App
    stack: Stack
    owner_object_ids: tuple[str, ...]
    resource_service_principals: dict[str, str]  # resource appId -> service principal object id


class MailApp(pulumi.ComponentResource):
    """An app registration with its service principal, client secret slots and optional admin consent.

    With `import:` ids (an adopted registration) the existing resources are imported instead of created;
    adopted secret slots (keyId) get no resource at all, since a password cannot be imported.
    """

    def __init__(self, name: str, props: MailAppProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mailoauth:index:MailApp", name, None, opts)
        app = props.app
        ids = app.imports or Imports("")
        self.application = azuread.Application(
            app.key,
            display_name=app.display_name,
            sign_in_audience=app.sign_in_audience,
            web=azuread.ApplicationWebArgs(redirect_uris=list(app.redirect_uris)),
            fallback_public_client_enabled=app.allow_public_client_flows,
            api=_api(app),
            required_resource_accesses=[
                azuread.ApplicationRequiredResourceAccessArgs(
                    resource_app_id=resource_app_id,
                    resource_accesses=[
                        azuread.ApplicationRequiredResourceAccessResourceAccessArgs(id=p.id, type=p.type) for p in perms
                    ],
                )
                for resource_app_id, perms in app.resources().items()
            ],
            owners=list(props.owner_object_ids),
            opts=self._child(ids.application),
        )
        self.service_principal = azuread.ServicePrincipal(
            f"{app.key}-sp",
            client_id=self.application.client_id,
            owners=list(props.owner_object_ids),
            opts=self._child(ids.service_principal),
        )
        self.passwords = {
            slot.name: azuread.ApplicationPassword(
                f"{app.key}-{slot.name}",
                application_id=self.application.id,
                display_name=slot.description,
                end_date=slot.end_date,
                opts=self._child(None),
            )
            for slot in app.managed_secrets
        }
        self.grants = [
            azuread.ServicePrincipalDelegatedPermissionGrant(
                f"{app.key}-consent-{perms[0].resource_key}",
                service_principal_object_id=self.service_principal.object_id,
                resource_service_principal_object_id=props.resource_service_principals[resource_app_id],
                claim_values=sorted(p.value for p in perms),
                opts=self._child(ids.grant(perms[0].resource_key)),
            )
            for resource_app_id, perms in app.resources().items()
            if app.admin_consent
        ]
        newest = app.newest_managed_secret
        # None when every slot was adopted: no value to export, the downstream app keeps the secret it has.
        self.client_secret: pulumi.Output[str] | None = (
            pulumi.Output.secret(self.passwords[newest.name].value) if newest else None
        )
        # Every slot's value, so downstream can switch to the new secret before the old slot is removed.
        self.slot_secrets = pulumi.Output.secret({name: pw.value for name, pw in self.passwords.items()})
        self.outputs = self.application.client_id.apply(lambda cid: app_output(props.stack, app, cid))
        self.register_outputs({"clientId": self.application.client_id, "clientSecret": self.client_secret})

    def _child(self, import_id: str | None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, import_=import_id or None)


def _api(app: App) -> azuread.ApplicationApiArgs | None:
    """The API block, only where the provider needs it (personal accounts: v2 tokens)."""
    version = app.access_token_version
    return azuread.ApplicationApiArgs(requested_access_token_version=version) if version else None


def app_output(stack: Stack, app: App, client_id: str) -> dict[str, Any]:
    """The `apps.<key>` stack output: what a downstream app is configured with (no secret)."""
    endpoints = app_endpoints(app, stack.cloud, stack.tenant_id, client_id)
    return {
        "clientId": client_id,
        "tenantId": stack.tenant_id,
        "authorizeEndpoint": endpoints["authorize"],
        "tokenEndpoint": endpoints["token"],
        "adminConsentUrl": endpoints["adminConsent"],
        "scope": endpoints["scopeRequest"],
        "scopeRequests": endpoints["scopeRequests"],
        "mail": endpoints["mail"],
        "connections": endpoints["connections"],
        "redirectUris": list(app.redirect_uris),
        "secretExpires": app.newest_secret.expires.isoformat(),
        "secrets": [_slot_output(s) for s in app.secrets],
    }


def _slot_output(slot: SecretSlot) -> dict[str, Any]:
    """An adopted slot says so: its value is in neither clientSecrets nor clientSecretSlots."""
    out: dict[str, Any] = {"name": slot.name, "expires": slot.expires.isoformat()}
    if slot.adopted:
        out.update(adopted=True, keyId=slot.key_id)
    return out


def config_document() -> dict[str, Any]:
    """The stack's config as `plan` sees the file: {'config': {key: value}}, structured values decoded."""
    raw = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return {"config": {key: _decode(value) for key, value in raw.items()}}


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def desired_stack() -> Stack:
    """Validate the running stack's config with the checks and guardrails `mailoauth plan` uses; fail cleanly."""
    name = pulumi.get_stack()
    tree = WorkTree(find_project_root())
    try:
        cat = catalogue.load(tree)
        stack = assembly.build_stack(
            name,
            config_document(),
            files.stack_file(name),
            ProjectContext(cat, guard=project_guard(tree, cat.products)),
        )
    except (InvalidInput, CommandError) as exc:
        raise pulumi.RunError(str(exc)) from None
    for warning in stack.warnings:
        pulumi.log.warn(str(warning))
    return stack


def check_tenant(stack: Stack) -> azuread.GetClientConfigResult:
    """Refuse to register anything when the credentials belong to another tenant than the stack's."""
    client = azuread.get_client_config()
    if (client.tenant_id or "").lower() != stack.tenant_id:
        raise pulumi.RunError(
            f"{stack.file}: config.azuread:tenantId: the credentials are for tenant {client.tenant_id}, but this "
            f"stack is for tenant {stack.tenant_id}; nothing was registered. Sign in to the right tenant "
            "(az login --tenant ..., or ARM_TENANT_ID) or select the right stack"
        )
    return client


def resource_service_principals(stack: Stack) -> dict[str, str]:
    """Object ids of Microsoft's own service principals (looked up, never managed), for consent grants."""
    needed = sorted({rid for app in stack.apps.values() if app.admin_consent for rid in app.resources()})
    return {rid: azuread.get_service_principal(client_id=rid).object_id for rid in needed}


def run() -> None:
    stack = desired_stack()
    client = check_tenant(stack)
    resource_sps = resource_service_principals(stack)
    running = (client.object_id or "").lower()
    if stack.deployers and running not in stack.deployers:
        pulumi.log.warn(
            f"{stack.file}: config.mailoauth:deployers: the signed-in principal {running} is not listed, so it is not "
            "made an owner; with Application.ReadWrite.OwnedBy it could not update these apps afterwards"
        )
    apps = {
        key: MailApp(key, MailAppProps(app, stack, stack.owners(app, running), resource_sps))
        for key, app in stack.apps.items()
    }
    pulumi.export("apps", {key: mail_app.outputs for key, mail_app in apps.items()})
    secrets = {key: m.client_secret for key, m in apps.items() if m.client_secret is not None}
    pulumi.export("clientSecrets", pulumi.Output.secret(secrets))
    pulumi.export("clientSecretSlots", pulumi.Output.secret({key: m.slot_secrets for key, m in apps.items()}))
