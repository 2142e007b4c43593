"""Run the real `__main__.py` under Pulumi's mocks and capture every resource and stack output.

Config is handed over the way the Pulumi CLI hands it to a Python program: every key of the
stack file's `config:` as a string, structured values JSON-encoded.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

from tests.projectcopy import ROOT
from tests.provider_rules import APPLICATION, GRANT, PASSWORD, SERVICE_PRINCIPAL, ProviderRefused, refusals

NS = uuid.UUID("6f1c2b8e-7a55-4a57-9b7e-0d3f2f6b1a10")
DEPLOYER = "0d0d0d0d-1111-4222-8333-444444444444"


def fake_id(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


def secret_value(name: str) -> str:
    return f"S3cr3t~{name}~do-not-print"


@dataclass
class Run:
    resources: list[pulumi.runtime.MockResourceArgs] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    logs: list[str] = field(default_factory=list)
    error: BaseException | None = None
    placement: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (typ, name) -> (urn, parent urn)

    def of_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def get(self, typ: str, name: str) -> pulumi.runtime.MockResourceArgs:
        return next(r for r in self.resources if r.typ == typ and r.name == name)

    def urn(self, resource: pulumi.runtime.MockResourceArgs) -> tuple[str, str]:
        """The resource's URN and its parent's URN, as the engine would hand them to a policy pack."""
        return self.placement[(resource.typ, resource.name)]


class RecordingMonitor(MockMonitor):
    """Pulumi's mock monitor, also noting each resource's URN and parent (MockResourceArgs has neither)."""

    def __init__(self, mocks: pulumi.runtime.Mocks, run: Run):
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self.run.placement[(request.type, request.name)] = (response.urn, request.parent)
        return response


@dataclass
class Tenant:
    """What the mocked provider reports beyond what the program registers: the deploying principal,
    imported resources' state by import id, and Microsoft's service principals by client id."""

    deployer: str = DEPLOYER
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_principals: dict[str, str] = field(default_factory=dict)


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, run: Run, tenant_id: str, tenant: Tenant | None = None):
        self.run, self.tenant_id, self.tenant = run, tenant_id, tenant or Tenant()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """The provider's answer to a create or import, after its plan-time checks (tests/provider_rules.py)."""
        self.run.resources.append(args)
        refused = refusals(args.typ, args.inputs, args.resource_id or None)
        if refused:
            raise ProviderRefused(args.typ, args.name, refused)
        state = dict(args.inputs)
        if args.resource_id in self.tenant.existing:  # an import: the provider reads the existing resource
            return args.resource_id, {**state, **self.tenant.existing[args.resource_id]}
        object_id = fake_id("object", args.name)
        if args.typ == APPLICATION:
            state.update(clientId=fake_id("client", args.name), objectId=object_id)
            return f"/applications/{object_id}", state
        if args.typ == SERVICE_PRINCIPAL:
            state.update(objectId=object_id)
            return f"/servicePrincipals/{object_id}", state
        if args.typ == PASSWORD:
            key_id = fake_id("key", args.name)
            state.update(keyId=key_id, value=secret_value(args.name))
            application_object_id = args.inputs["applicationId"].rsplit("/", 1)[-1]
            return f"{application_object_id}/password/{key_id}", state  # parse/credentials.go: <object>/password/<key>
        if args.typ == GRANT:
            return f"/oauth2PermissionGrants/{fake_id('grant', args.name)}", state
        return fake_id("resource", args.name), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.run.calls.append((args.token, dict(args.args)))
        refused = refusals(args.token, args.args)
        if refused:
            raise ProviderRefused(args.token, "invoke", refused)
        if args.token == "azuread:index/getClientConfig:getClientConfig":
            return {
                "tenantId": self.tenant_id,
                "objectId": self.tenant.deployer,
                "clientId": fake_id("deployer-app"),
                "id": self.tenant_id,
            }, []
        if args.token == "azuread:index/getServicePrincipal:getServicePrincipal":
            client_id = args.args["clientId"]
            object_id = self.tenant.service_principals.get(client_id) or fake_id("sp", client_id)
            return {"objectId": object_id, "clientId": client_id, "id": object_id}, []
        raise AssertionError(f"unexpected invoke {args.token}")


def stack_config(doc: dict[str, Any]) -> dict[str, str]:
    """Config values as the CLI passes them: strings, with objects and lists as JSON."""

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, date) else str(v))

    return {key: encode(value) for key, value in doc["config"].items()}


def run_program(
    config: dict[str, str],
    stack: str,
    tenant_id: str | None = None,
    project_dir: Path = ROOT,
    tenant: Tenant | None = None,
) -> Run:
    """Evaluate __main__.py under mocks; `tenant_id` is what the credentials report (default: the stack's)."""
    run = Run()
    tenant_id = tenant_id or config.get("azuread:tenantId", "")
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.settings.ROOT.set(None)
    mocks = RecordingMocks(run, tenant_id, tenant)
    pulumi.runtime.set_mocks(
        mocks, project="mailoauth", stack=stack, preview=False, monitor=RecordingMonitor(mocks, run)
    )
    pulumi.runtime.set_all_config(config)

    @pulumi.runtime.test
    def program() -> Any:
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        outputs = {k: pulumi.Output.from_input(v) for k, v in pulumi.runtime.get_root_resource().outputs.items()}
        keys = sorted(outputs)
        flags = [pulumi.Output.from_input(outputs[k].is_secret()) for k in keys]
        return pulumi.Output.all(*[outputs[k] for k in keys], *flags).apply(lambda values: capture(keys, values))

    def capture(keys: list[str], values: list[Any]) -> None:
        run.outputs.update(zip(keys, values[: len(keys)], strict=False))
        run.secret_outputs.update(k for k, secret in zip(keys, values[len(keys) :], strict=False) if secret)

    try:
        program()
    except Exception as exc:  # the program's failure is what some tests examine
        run.error = exc
    return run


def run_stack_file(name: str, **kwargs: Any) -> Run:
    doc = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text())
    return run_program(stack_config(doc), name, **kwargs)


def assert_program_matches_plan(run: Run, doc: dict[str, Any]) -> None:
    """The program registered exactly what `plan` shows: apps, audiences, redirect URIs, permissions,
    secrets, consent grants and endpoints."""
    assert run.error is None, run.error
    assert sorted(r.name for r in run.of_type(APPLICATION)) == sorted(doc["apps"])
    for key, planned in doc["apps"].items():
        inputs = run.get(APPLICATION, key).inputs
        assert inputs["displayName"] == planned["displayName"]
        assert inputs["signInAudience"] == planned["signInAudience"]
        assert inputs["web"]["redirectUris"] == planned["redirectUris"]
        registered = [
            (r["resourceAppId"], a["id"], a["type"])
            for r in inputs["requiredResourceAccesses"]
            for a in r["resourceAccesses"]
        ]
        assert registered == [(p["resourceAppId"], p["id"], p["type"]) for p in planned["permissions"]]
        passwords = {r.name: r.inputs for r in run.of_type(PASSWORD) if r.name.startswith(f"{key}-")}
        assert {(p["displayName"], p["endDate"]) for p in passwords.values()} == {
            (s["description"], s["endDate"]) for s in planned["secrets"]
        }
        grants = [r for r in run.of_type(GRANT) if r.name.startswith(f"{key}-consent-")]
        assert len(grants) == (
            len({p["resourceAppId"] for p in planned["permissions"]}) if planned["adminConsent"] else 0
        )
        assert run.outputs["apps"][key]["authorizeEndpoint"] == planned["endpoints"]["authorize"]
        assert run.outputs["apps"][key]["tokenEndpoint"] == planned["endpoints"]["token"]
