"""Delegated permission grants of a stack's apps: read with the users and APIs they name, and removed.

Reading rides on `directory.find_apps` (registrations, service principals, grants), then one more
batched round names the users (`id in (...)`, 15 ids a step, 20 steps a request) and any resource
API the catalogue does not know. Removal is DELETE /oauth2PermissionGrants/{id} in JSON batches of
20; a grant counts as removed only when Graph answered its own DELETE with 2xx.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mailoauth.graph.batch import MAX_STEPS, Step, StepResult, run_batch
from mailoauth.graph.directory import (
    RESOURCE_SELECT,
    filter_steps,
    find_apps,
    items,
    odata_string,
    resource_api,
    text,
)
from mailoauth.graph.errors import GraphError
from mailoauth.graph.records import AppInTenant, ResourceApi
from mailoauth.graph.session import GraphSession

USER_SELECT = ["id", "userPrincipalName"]
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Application permissions that allow each write, least privileged first (Graph's permission reference).
WRITE_GRANTS = ("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All")
REVOKE_SESSIONS = ("User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All")


@dataclass
class TenantConsent:
    found: dict[str, AppInTenant]
    resources: dict[str, ResourceApi]  # by appId
    upns: dict[str, str]  # user object id -> userPrincipalName
    user_id: str | None = None  # the user asked for by UPN or object id, when the tenant has them


async def read_consent(
    graph: GraphSession,
    wanted: dict[str, tuple[str | None, str]],
    resource_app_ids: Iterable[str],
    user: str | None = None,
) -> TenantConsent:
    """The apps (key -> (client id or None, display name)) with their grants, and the names of the users
    they were granted by: every user, or with `user` (a UPN or object id) only that one."""
    found, resources = await find_apps(graph, wanted, resource_app_ids)
    grants = [g for app in found.values() for g in app.grants]
    known = {api.object_id for api in resources.values()}
    steps = filter_steps(
        graph.client.service_principals, "id", sorted({g.resource_id for g in grants} - known), "apis", RESOURCE_SELECT
    )
    if user is None:
        principals = sorted({g.principal_id for g in grants if g.principal_id})
        steps += filter_steps(graph.client.users, "id", principals, "users", USER_SELECT)
    else:
        prop = "id" if GUID.match(user) else "userPrincipalName"
        steps.append(
            Step.get(graph.client.users, dict, "users", filter=f"{prop} eq {odata_string(user)}", select=USER_SELECT)
        )
    results = await run_batch(graph, steps) if steps else []
    resources |= {api.app_id: api for api in map(resource_api, items(results, "apis"))}
    upns = {text(u.get("id")): str(u.get("userPrincipalName") or "") for u in items(results, "users")}
    consent = TenantConsent(found, resources, upns)
    if user is not None:  # a user deleted from the directory may still hold grants under their object id
        held = {g.principal_id for g in grants}
        consent.user_id = next(iter(upns), user.lower() if user.lower() in held else None)
    return consent


def lacking(held: Iterable[str], sign_out: bool) -> list[str]:
    """The least-privileged application permission for each write a revocation makes that `held` does not allow."""
    held = set(held)
    needed = [WRITE_GRANTS] + ([REVOKE_SESSIONS] if sign_out else [])
    return [options[0] for options in needed if not held & set(options)]


@dataclass(frozen=True)
class Removal:
    """What happened to one grant: removed, gone (already deleted), failed, unconfirmed or not attempted."""

    grant_id: str
    status: str
    error: str = ""

    @property
    def absent(self) -> bool:
        """The grant is known not to exist any more."""
        return self.status in ("removed", "gone")


async def delete_grants(
    graph: GraphSession, grant_ids: Sequence[str], progress: Callable[[int, Removal], None]
) -> list[Removal]:
    """DELETE each grant, 20 to a batch, calling `progress(position, outcome)` for each as its batch answers.

    A step that fails leaves the others to go on; a batch that fails as a whole (no answer per
    step) leaves its grants unconfirmed and stops, since the next batch would fail the same way.
    """
    outcomes: list[Removal] = []
    for start in range(0, len(grant_ids), MAX_STEPS):
        chunk = grant_ids[start : start + MAX_STEPS]
        if any(o.status == "unconfirmed" for o in outcomes):
            answered = [Removal(i, "not attempted", "not sent: an earlier batch failed as a whole") for i in chunk]
        else:
            answered = await _delete_chunk(graph, chunk)
        for outcome in answered:
            outcomes.append(outcome)
            progress(len(outcomes), outcome)
    return outcomes


async def _delete_chunk(graph: GraphSession, grant_ids: Sequence[str]) -> list[Removal]:
    try:
        results = await run_batch(graph, _deletes(graph, grant_ids))
    except GraphError as exc:  # no answer per step: any of them may or may not have been applied
        return [Removal(i, "unconfirmed", str(exc)) for i in grant_ids]
    return [_outcome(i, r) for i, r in zip(grant_ids, results, strict=True)]


def _deletes(graph: GraphSession, grant_ids: Sequence[str]) -> list[Step]:
    grants = graph.client.oauth2_permission_grants
    return [Step(grants.by_o_auth2_permission_grant_id(i).to_delete_request_information()) for i in grant_ids]


def _outcome(grant_id: str, result: StepResult) -> Removal:
    error = result.error
    if error is None:
        return Removal(grant_id, "removed")
    if error.status == 404:
        return Removal(grant_id, "gone", str(error))
    return Removal(grant_id, "failed", str(error))


async def sign_out(graph: GraphSession, user_id: str) -> None:
    """POST /users/{id}/revokeSignInSessions: the user's refresh tokens and session cookies stop working."""
    builder = graph.client.users.by_user_id(user_id).revoke_sign_in_sessions
    await graph.call(builder.post, "POST", f"/users/{user_id}/revokeSignInSessions")
