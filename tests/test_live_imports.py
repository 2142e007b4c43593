"""`plan`, `diff` and `validate` stay light: neither msgraph-sdk nor azure-identity is imported.

Each case runs in a fresh interpreter, since this test session itself imports the Graph libraries.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.projectcopy import ROOT

HEAVY = ("msgraph", "msgraph_core", "kiota_abstractions", "kiota_http", "azure", "msal", "httpx", "pulumi")
PROBE = """
import sys
from mailoauth.cli import build_parser, main
code = main(sys.argv[1:]) if len(sys.argv) > 1 else (build_parser() and 0)
print(f"exit={code} heavy={sorted({m.split('.')[0] for m in sys.modules} & set(%r))}")
"""


def probe(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [("plan", "--stack", "prod", "--format", "json"), ("validate", "--all"), ()],
    ids=["plan", "validate", "parser"],
)
def test_light_commands_do_not_import_graph_or_pulumi(argv: tuple[str, ...]) -> None:
    assert probe(*argv) == "exit=0 heavy=[]"
