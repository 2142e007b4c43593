"""`mailoauth verify` end to end against the fake login, Graph, IMAP and SMTP servers."""

from __future__ import annotations

from tests.verify_world import USER, World, world  # noqa: F401


def test_browser_flow_proves_imap_smtp_and_graph(world: World) -> None:
    result = world.run("helpdesk")
    print(result.out, result.err)
    assert result.code == 0
