"""Directory reads the live commands share, as batched steps, converted to `mailoauth.graph.records` values.

Lookups by a list of values are split into `in (...)` filters of at most 15 values (Graph's limit)
and sent in JSON batches, so finding N apps costs about N/300 HTTP requests, not N. Bodies are read
as plain JSON: msgraph's model classes cost ~15 ms of CPU per directory object to deserialise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from mailoauth.graph.batch import Step, StepResult, run_batch
from mailoauth.graph.records import AppInTenant, Grant, Registration, ResourceApi, Secret
from mailoauth.graph.session import GraphSession

MAX_IN = 15
APP_SELECT = [
    "id", "appId", "displayName", "signInAudience", "web", "spa", "publicClient",
    "requiredResourceAccess", "passwordCredentials",
]  # fmt: skip
RESOURCE_SELECT = ["id", "appId", "displayName", "oauth2PermissionScopes", "appRoles"]


def odata_string(value: str) -> str:
    """A string literal for $filter: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def in_filters(prop: str, values: Iterable[str]) -> list[str]:
    """`prop in ('a','b',...)` clauses of at most 15 values each, duplicates dropped."""
    unique = list(dict.fromkeys(values))
    return [
        f"{prop} in ({','.join(odata_string(v) for v in unique[i : i + MAX_IN])})"
        for i in range(0, len(unique), MAX_IN)
    ]


def application_steps(graph: GraphSession, prop: str, values: Iterable[str], tag: Any) -> list[Step]:
    return [
        Step.get(graph.client.applications, dict, tag, filter=f, select=APP_SELECT) for f in in_filters(prop, values)
    ]


def service_principal_steps(graph: GraphSession, app_ids: Iterable[str], tag: Any, select: list[str]) -> list[Step]:
    return [
        Step.get(graph.client.service_principals, dict, tag, filter=f, select=select)
        for f in in_filters("appId", app_ids)
    ]


def filter_steps(builder: Any, prop: str, values: Iterable[str], tag: Any, select: list[str]) -> list[Step]:
    """GETs of a collection (`client.users`, ...) whose `prop` is one of `values`, 15 values a step."""
    return [Step.get(builder, dict, tag, filter=f, select=select) for f in in_filters(prop, values)]


def grant_step(graph: GraphSession, service_principal_id: str, tag: Any) -> Step:
    return Step.get(
        graph.client.oauth2_permission_grants, dict, tag, filter=f"clientId eq {odata_string(service_principal_id)}"
    )


def items(results: Sequence[StepResult], tag: Any) -> list[Any]:
    """Every item of the steps tagged `tag`; the first failed step's error is raised."""
    out: list[Any] = []
    for result in results:
        if result.step.tag == tag:
            if result.error:
                raise result.error
            out += result.items
    return out


def text(value: Any) -> str:
    return str(value).lower() if value is not None else ""


def timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def registration(app: dict[str, Any]) -> Registration:
    """A Graph `application` (JSON) as a Registration."""
    permissions = frozenset(
        (text(rra.get("resourceAppId")), text(access.get("id")), str(access.get("type") or "Scope"))
        for rra in app.get("requiredResourceAccess") or ()
        for access in rra.get("resourceAccess") or ()
    )
    others = {
        name: tuple((app.get(name) or {}).get("redirectUris") or ())
        for name in ("spa", "publicClient")
        if (app.get(name) or {}).get("redirectUris")
    }
    return Registration(
        object_id=text(app.get("id")),
        client_id=text(app.get("appId")),
        display_name=app.get("displayName") or "",
        sign_in_audience=app.get("signInAudience") or "",
        web_redirect_uris=tuple((app.get("web") or {}).get("redirectUris") or ()),
        other_redirect_uris=others,
        permissions=permissions,
        secrets=tuple(
            Secret(text(c.get("keyId")), c.get("displayName") or "", timestamp(c.get("endDateTime")))
            for c in app.get("passwordCredentials") or ()
        ),
    )


def grant(g: dict[str, Any]) -> Grant:
    return Grant(
        id=str(g.get("id")),
        client_id=text(g.get("clientId")),
        resource_id=text(g.get("resourceId")),
        consent_type=g.get("consentType") or "",
        principal_id=text(g.get("principalId")) or None,
        scopes=tuple((g.get("scope") or "").split()),
    )


def resource_api(sp: dict[str, Any]) -> ResourceApi:
    return ResourceApi(
        object_id=text(sp.get("id")),
        app_id=text(sp.get("appId")),
        display_name=sp.get("displayName") or "",
        scopes={
            text(s.get("id")): (s.get("value") or "", s.get("type") == "Admin")
            for s in sp.get("oauth2PermissionScopes") or ()
        },
        roles={text(r.get("id")): r.get("value") or "" for r in sp.get("appRoles") or ()},
    )


async def resource_apis(graph: GraphSession, app_ids: Iterable[str]) -> dict[str, ResourceApi]:
    """Microsoft's resource service principals by appId, with their published permissions."""
    results = await run_batch(graph, service_principal_steps(graph, app_ids, "resources", RESOURCE_SELECT))
    return {api.app_id: api for api in map(resource_api, items(results, "resources"))}


async def find_apps(
    graph: GraphSession, wanted: dict[str, tuple[str | None, str]], resource_app_ids: Iterable[str] = ()
) -> tuple[dict[str, AppInTenant], dict[str, ResourceApi]]:
    """Find apps (key -> (client id or None, display name)) with their service principals and grants.

    Three batched rounds at most: registrations (by client id, else display name) plus the resource
    APIs; service principals; delegated permission grants (one step per app).
    """
    by_id = {key: cid.lower() for key, (cid, _) in wanted.items() if cid}
    by_name = {key: name for key, (cid, name) in wanted.items() if not cid}
    first = (
        application_steps(graph, "appId", by_id.values(), "apps")
        + application_steps(graph, "displayName", by_name.values(), "apps")
        + service_principal_steps(graph, by_id.values(), "sps", ["id", "appId"])
        + service_principal_steps(graph, resource_app_ids, "resources", RESOURCE_SELECT)
    )
    results = await run_batch(graph, first)
    registrations = [registration(a) for a in items(results, "apps")]
    found = {
        key: AppInTenant(key, "clientId", [r for r in registrations if r.client_id == cid])
        for key, cid in by_id.items()
    }
    found |= {
        key: AppInTenant(key, "displayName", [r for r in registrations if r.display_name.casefold() == name.casefold()])
        for key, name in by_name.items()
    }
    resources = {api.app_id: api for api in map(resource_api, items(results, "resources"))}
    sp_ids = {text(sp["appId"]): text(sp["id"]) for sp in items(results, "sps")}
    # APIs the tenant's registrations ask for that the caller did not name: looked up in round two
    asked = {rid for r in registrations for rid, _, _ in r.permissions} - set(resources)
    extra = service_principal_steps(graph, sorted(asked), "resources", RESOURCE_SELECT)
    for api in await _service_principals_and_grants(graph, found, sp_ids, extra):
        resources[api.app_id] = api
    return found, resources


async def _service_principals_and_grants(
    graph: GraphSession, found: dict[str, AppInTenant], sp_ids: dict[str, str], extra: list[Step]
) -> list[ResourceApi]:
    """Rounds two and three: grants of known service principals ride along with the missing SP lookups
    (and `extra` resource lookups); grants of the service principals found then follow."""
    apps = {a.registration.client_id: a for a in found.values() if a.registration}
    unknown = [cid for cid in apps if cid not in sp_ids]
    steps = extra + service_principal_steps(graph, unknown, "sps", ["id", "appId"])
    steps += [grant_step(graph, sp_ids[cid], cid) for cid in apps if cid in sp_ids]
    resources: list[ResourceApi] = []
    while steps:
        results = await run_batch(graph, steps)
        new = {text(sp["appId"]): text(sp["id"]) for sp in items(results, "sps")}
        resources += map(resource_api, items(results, "resources"))
        for result in results:
            if result.step.tag in apps:
                if result.error:
                    raise result.error
                apps[result.step.tag].grants = [grant(g) for g in result.items]
        sp_ids |= new
        steps = [grant_step(graph, new[cid], cid) for cid in unknown if cid in new]
        unknown = []
    for cid, app in apps.items():
        app.service_principal_id = sp_ids.get(cid)
    return resources
