"""The fake Graph refuses what Microsoft Graph refuses (docs/sources.md lists the source of each refusal)."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import pytest

from mailoauth.graph.errors import permission_for
from tests.fakes.cloud import FakeCloud
from tests.fakes.graph import READ


def call(cloud: FakeCloud, method: str, path: str, client: Any = None, **kwargs: Any) -> httpx.Response:
    token = cloud.credential(client).get_token("https://graph.microsoft.com/.default").token
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    with httpx.Client(verify=ssl.create_default_context(cafile=cloud.ca_path)) as http:
        return http.request(method, f"{cloud.graph_url}/v1.0{path}", headers=headers, **kwargs)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def signed_in_user(cloud: FakeCloud) -> Any:
    user = cloud.tenant.add_user("admin@example.com")
    cloud.tenant.directory_roles[user["id"]] = [{"id": "r1", "displayName": "x", "roleTemplateId": "t1"}]
    return cloud.add_client(user_id=user["id"], scopes=("User.Read",))


def test_a_cast_on_transitive_member_of_needs_the_advanced_query_options(fake_cloud: FakeCloud) -> None:
    user = signed_in_user(fake_cloud)
    path = "/me/transitiveMemberOf/microsoft.graph.directoryRole"
    refused = (
        400,
        "Request_UnsupportedQuery",
        "OData cast on transitiveMemberOf needs the ConsistencyLevel header set to eventual and $count=true.",
    )
    assert error_of(call(fake_cloud, "GET", path, user)) == refused
    assert error_of(call(fake_cloud, "GET", path, user, params={"$count": "true"})) == refused
    assert error_of(call(fake_cloud, "GET", path, user, headers={"ConsistencyLevel": "eventual"})) == refused
    ok = call(fake_cloud, "GET", path, user, params={"$count": "true"}, headers={"ConsistencyLevel": "eventual"})
    assert ok.status_code == 200
    assert [r["roleTemplateId"] for r in ok.json()["value"]] == ["t1"]


@pytest.mark.parametrize("top", ["1000", "0", "-1", "many"])
def test_top_is_at_most_999(fake_cloud: FakeCloud, top: str) -> None:
    answer = call(fake_cloud, "GET", "/applications", params={"$top": top})
    assert error_of(answer) == (
        400,
        "Request_BadRequest",
        f"Invalid page size specified: '{top}'. Must be between 1 and 999.",
    )
    assert call(fake_cloud, "GET", "/applications", params={"$top": "999"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "selected", "entity"),
    [
        ("/applications", "id,appID", "application"),  # property names are case-sensitive in $select
        ("/servicePrincipals", "id,appRoleIds", "servicePrincipal"),
        ("/oauth2PermissionGrants", "scopes", "oAuth2PermissionGrant"),
        ("/users", "id,mail,upn", "user"),
        ("/subscribedSkus", "skuPartNumber,plans", "subscribedSku"),
    ],
)
def test_select_of_an_unknown_property_is_refused(fake_cloud: FakeCloud, path: str, selected: str, entity: str) -> None:
    unknown = selected.rsplit(",", 1)[-1]
    assert error_of(call(fake_cloud, "GET", path, params={"$select": selected})) == (
        400,
        "Request_BadRequest",
        f"Could not find a property named '{unknown}' on type 'microsoft.graph.{entity}'.",
    )


def test_select_of_known_properties_is_answered(fake_cloud: FakeCloud) -> None:
    app = fake_cloud.tenant.add_application("Jira mail handler")
    answer = call(fake_cloud, "GET", f"/applications/{app['id']}", params={"$select": "appId,signInAudience"})
    assert answer.status_code == 200
    assert answer.json() == {"appId": app["appId"], "signInAudience": app["signInAudience"]}


def test_an_in_filter_holds_at_most_15_values(fake_cloud: FakeCloud) -> None:
    values = ",".join(f"'{i:08d}-0000-4000-8000-000000000000'" for i in range(16))
    assert error_of(call(fake_cloud, "GET", "/applications", params={"$filter": f"appId in ({values})"})) == (
        400,
        "Request_UnsupportedQuery",
        "Too many values in the 'in' operator: 16; at most 15 are supported.",
    )


def test_a_batch_holds_at_most_20_requests(fake_cloud: FakeCloud) -> None:
    requests = [{"id": str(i), "method": "GET", "url": "/applications"} for i in range(21)]
    answer = call(fake_cloud, "POST", "/$batch", content=json.dumps({"requests": requests}))
    assert error_of(answer) == (
        400,
        "BadRequest",
        "Invalid batch payload format: 21 requests; a batch holds at most 20.",
    )


def test_a_write_needs_a_permission_the_token_carries(fake_cloud: FakeCloud) -> None:
    reader = fake_cloud.add_client(roles=["Application.Read.All"])
    app = fake_cloud.tenant.add_application("Jira mail handler")
    body = {"passwordCredential": {"displayName": "x"}}
    answer = call(fake_cloud, "POST", f"/applications/{app['id']}/addPassword", reader, json=body)
    assert error_of(answer) == (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
    assert call(fake_cloud, "GET", f"/applications/{app['id']}", reader).status_code == 200  # reading is allowed
    assert app["passwordCredentials"] == []


@pytest.mark.parametrize("query", ["displayName ne 'x'", "not(startswith(displayName,'x'))"])
def test_ne_and_not_are_advanced_queries(fake_cloud: FakeCloud, query: str) -> None:
    fake_cloud.tenant.add_application("Jira mail handler")
    assert error_of(call(fake_cloud, "GET", "/applications", params={"$filter": query})) == (
        400,
        "Request_UnsupportedQuery",
        "Operators 'ne' and 'not' need the ConsistencyLevel header set to eventual and $count=true.",
    )
    answer = call(
        fake_cloud,
        "GET",
        "/applications",
        params={"$filter": query, "$count": "true"},
        headers={"ConsistencyLevel": "eventual"},
    )
    assert [a["displayName"] for a in answer.json()["value"]] == ["Jira mail handler"]


def test_subscribed_skus_take_the_documented_permissions(fake_cloud: FakeCloud) -> None:
    # List subscribedSkus: LicenseAssignment.Read.All least privileged, Organization.Read.All higher (docs/sources.md).
    assert READ["subscribedSkus"][0] == permission_for("GET", "/subscribedSkus") == "LicenseAssignment.Read.All"
    for role in ("LicenseAssignment.Read.All", "Organization.Read.All", "Organization.ReadWrite.All"):
        assert call(fake_cloud, "GET", "/subscribedSkus", fake_cloud.add_client(roles=[role])).status_code == 200
    refused = call(fake_cloud, "GET", "/subscribedSkus", fake_cloud.add_client(roles=["User.Read.All"]))
    assert error_of(refused) == (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
