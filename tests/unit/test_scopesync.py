"""scopesync: the catalogue against what the tenant's resource service principals publish."""

from __future__ import annotations

import pytest

from mailoauth.graph.records import ResourceApi
from mailoauth.tenant.scopesync import differences
from tests.unit.desired import CATALOGUE, EXCHANGE, GRAPH


def published(**changes: tuple[str, bool] | None) -> dict[str, tuple[str, bool]]:
    """Graph's delegated scopes as the catalogue has them (id -> (value, admin consent)), with changes by value."""
    scopes = {s.value: (s.id, s.admin_consent) for s in CATALOGUE.scopes.values() if s.resource_app_id == GRAPH}
    for value, entry in changes.items():
        if entry is None:
            del scopes[value]
        else:
            scopes[value] = entry
    return {sid: (value, admin) for value, (sid, admin) in scopes.items()}


EXCHANGE_API = ResourceApi(
    "sp-exo",
    EXCHANGE,
    "Office 365 Exchange Online",
    {"3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5": ("EWS.AccessAsUser.All", False)},
)
SEND = "e383f46e-2787-4529-855e-0e479a3ffac0"
CASES = {
    "as catalogued": (published(), []),
    "admin consent now required": (
        published(**{"Mail.Send": (SEND, True)}),
        ["Mail.Send: adminConsent is false in the catalogue, true in the tenant"],
    ),
    "another id": (
        published(**{"Mail.Send": ("11111111-0000-0000-0000-000000000000", False)}),
        [f"Mail.Send: id is {SEND} in the catalogue, 11111111-0000-0000-0000-000000000000 in the tenant"],
    ),
    "withdrawn": (
        published(**{"POP.AccessAsUser.All": None}),
        ["POP.AccessAsUser.All: Microsoft Graph publishes no delegated permission of that name"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_differences(case: str) -> None:
    scopes, messages = CASES[case]
    resources = {GRAPH: ResourceApi("sp-graph", GRAPH, "Microsoft Graph", scopes), EXCHANGE: EXCHANGE_API}
    found = differences(CATALOGUE, resources)
    assert [d.message() for d in found] == messages


def test_a_resource_without_service_principal_is_reported_once() -> None:
    resources = {GRAPH: ResourceApi("sp-graph", GRAPH, "Microsoft Graph", published())}
    assert [d.message() for d in differences(CATALOGUE, resources)] == [
        "Office 365 Exchange Online has no service principal in the tenant; its scopes cannot be checked"
    ]
