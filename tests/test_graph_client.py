"""The Graph client against the fake cloud: real azure-identity, real msgraph-sdk, real HTTPS."""

from __future__ import annotations

import asyncio

from mailoauth.graph.session import Retry, open_session
from tests.fakes.cloud import CLIENT_ID, TENANT_ID, FakeCloud

FAST = Retry(delay=0.0, max_retries=3)


def test_lists_applications_through_msgraph(fake_cloud: FakeCloud, graph_target) -> None:
    app = fake_cloud.tenant.add_application("Jira mail handler", redirect_uris=["https://jira.example.com/cb"])

    async def work():
        async with open_session(graph_target, credential=fake_cloud.credential(), retry=FAST) as graph:
            page = await graph.get(
                graph.client.applications,
                filter=f"appId eq '{app['appId']}'",
                select=["id", "appId", "displayName", "web"],
            )
            return graph.principal, page.value

    principal, apps = asyncio.run(work())
    assert principal.tenant_id == TENANT_ID
    assert principal.app_id == CLIENT_ID
    assert principal.kind == "application"
    assert [(a.display_name, a.app_id, a.web.redirect_uris) for a in apps] == [
        ("Jira mail handler", app["appId"], ["https://jira.example.com/cb"])
    ]
    request = fake_cloud.graph.http_requests[-1]
    assert request.path == "/v1.0/applications"
    assert request.query == {"$filter": f"appId eq '{app['appId']}'", "$select": "id,appId,displayName,web"}


def run_with_graph(fake_cloud: FakeCloud, graph_target, work, credential=None):
    async def main():
        async with open_session(graph_target, credential=credential or fake_cloud.credential(), retry=FAST) as graph:
            return await work(graph)

    return asyncio.run(main())


def test_batch_steps_come_back_in_order_with_all_pages(fake_cloud: FakeCloud, graph_target) -> None:
    from msgraph.generated.models.application_collection_response import ApplicationCollectionResponse
    from msgraph.generated.models.service_principal_collection_response import ServicePrincipalCollectionResponse

    from mailoauth.graph.batch import Step, run_batch

    apps = [fake_cloud.tenant.add_application(f"app {i:02d}") for i in range(7)]
    fake_cloud.graph.page_size = 3

    async def work(graph):
        return await run_batch(
            graph,
            [
                Step.get(graph.client.applications, ApplicationCollectionResponse, select=["appId", "displayName"]),
                Step.get(
                    graph.client.service_principals,
                    ServicePrincipalCollectionResponse,
                    filter="appId eq '00000003-0000-0000-c000-000000000000'",
                    select=["id", "displayName"],
                ),
            ],
        )

    listed, graph_sp = run_with_graph(fake_cloud, graph_target, work)
    assert [a.display_name for a in listed.items] == [a["displayName"] for a in apps]
    assert [sp.display_name for sp in graph_sp.items] == ["Microsoft Graph"]
    targets = [(r.method, r.path, r.query.get("$skiptoken")) for r in fake_cloud.graph.http_requests]
    # one batch, then the two further pages of applications as plain GETs
    assert targets == [
        ("POST", "/v1.0/$batch", None),
        ("GET", "/v1.0/applications", "3"),
        ("GET", "/v1.0/applications", "6"),
    ]


def test_throttled_request_is_retried_after_retry_after(fake_cloud: FakeCloud, graph_target) -> None:
    fake_cloud.tenant.add_application("only app")
    fake_cloud.graph.fail(r"GET /v1\.0/applications$", 429, "Too many requests")
    fake_cloud.graph.fail(r"GET /v1\.0/applications$", 503, "Service unavailable")

    async def work(graph):
        return await graph.get_all(graph.client.applications, select=["displayName"])

    assert [a.display_name for a in run_with_graph(fake_cloud, graph_target, work)] == ["only app"]
    attempts = [(r.path, r.headers.get("retry-attempt")) for r in fake_cloud.graph.http_requests]
    assert attempts == [("/v1.0/applications", None), ("/v1.0/applications", "1"), ("/v1.0/applications", "2")]


def test_throttled_batch_step_is_sent_again(fake_cloud: FakeCloud, graph_target) -> None:
    from msgraph.generated.models.application_collection_response import ApplicationCollectionResponse
    from msgraph.generated.models.user import User

    from mailoauth.graph.batch import Step, run_batch

    fake_cloud.tenant.add_application("only app")
    fake_cloud.tenant.add_user("support@example.com")
    fake_cloud.graph.fail(r"GET /v1\.0/users/", 429, "Too many requests", batched=True)

    async def work(graph):
        return await run_batch(
            graph,
            [
                Step.get(graph.client.applications, ApplicationCollectionResponse, select=["displayName"]),
                Step.get(graph.client.users.by_user_id("support@example.com"), User, select=["userPrincipalName"]),
            ],
        )

    apps, user = run_with_graph(fake_cloud, graph_target, work)
    assert [a.display_name for a in apps.items] == ["only app"]
    assert user.ok and user.value.user_principal_name == "support@example.com"
    batches = [r for r in fake_cloud.graph.http_requests if r.path.endswith("$batch")]
    assert [len(r.json()["requests"]) for r in batches] == [2, 1]


def test_wrong_client_secret_shows_the_aadsts_message(fake_cloud: FakeCloud, graph_target) -> None:
    from azure.identity import ClientSecretCredential

    from mailoauth.graph.errors import GraphError

    wrong = ClientSecretCredential(
        TENANT_ID,
        CLIENT_ID,
        "not-the-secret",
        authority=fake_cloud.authority,
        disable_instance_discovery=True,
        connection_verify=fake_cloud.ca_path,
    )
    try:
        run_with_graph(fake_cloud, graph_target, lambda graph: graph.get(graph.client.applications), wrong)
    except GraphError as exc:
        message = str(exc)
    assert message == (
        "sign-in failed (ClientSecretCredential): AADSTS7000215: Invalid client secret provided. Ensure the secret "
        "being sent in the request is the client secret value, not the client secret ID, for a secret added to app "
        f"'{CLIENT_ID}'."
    )
    assert "not-the-secret" not in message
