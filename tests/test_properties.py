"""Property-based checks (Hypothesis): stack files generated from the key specs of the model, then
mutated (a key dropped, a value replaced by one of another type, an unknown key added).

- `mailoauth plan` on any of them either succeeds or exits 2 with its problems printed, never a
  traceback (the CLI is called in the test's process, so an exception fails the example);
- whenever `plan` succeeds, the Pulumi program under mocks registers exactly what `plan` shows.

The runs are derandomised, so the same examples run on every machine and commit.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailoauth import cli
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import APP_FIELDS, CONFIG_KEYS, GUID_PATTERN, Key
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from mailoauth.review import plan
from tests.projectcopy import copy_project
from tests.pulumi_harness import ROOT, assert_program_matches_plan, run_program, stack_config

TODAY = date(2026, 11, 27)
CATALOGUE = catalogue.load(WorkTree(ROOT))
APP_KEYS = ("jira", "helpdesk", "m0", "crm-x")  # none is another's prefix: resource names start with the key
VALID_URIS = ("https://fuzz.example.com/cb", "https://fuzz2.example.com/plugins/servlet/oauth2/callback")
URIS = (
    *VALID_URIS * 4,  # mostly valid ones, so that many generated files pass
    "http://localhost/cb",
    "http://127.0.0.1:8400/",
    "https://fuzz.example.com/cb?x=1",
    "https://fuzz.example.com/cb#frag",
    "https://a.example@fuzz.example/cb",
    "https://f\u0443zz.example.com/cb",
    "https://fuzz.example.com:70000/cb",
    "https://*.example.com/cb",
    "http://fuzz.example.com/cb",
    "not a uri",
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    TEXT,
    st.dates(date(1990, 1, 1), date(2100, 1, 1)),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text("abc", max_size=3), st.integers(), max_size=2),
)
NAMES = {
    "scopeSets": st.sampled_from([*sorted(CATALOGUE.sets), "no-such-set"]),
    "scopes": st.sampled_from([*sorted(CATALOGUE.scopes), "No.Such.Scope"]),
    "redirectUris": st.sampled_from(URIS),
    "owners": st.uuids().map(str),
    "mailboxes": st.sampled_from(["support@example.com", "ops@example.com", "not-a-mailbox"]),
}


def value(spec: Key) -> st.SearchStrategy[Any]:
    """A value of the spec's type (near the edges: a secret expiring in 2 years is refused by the lifetime
    rule, an unknown scope set by the catalogue; values of other types come from the mutations)."""
    if spec.kind == "string":
        if spec.pattern == GUID_PATTERN:
            return st.uuids().map(str)
        return st.from_regex(spec.pattern, fullmatch=True) if spec.pattern else TEXT.filter(str.strip)
    if spec.kind == "enum":
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "date":
        return st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=800))
    if spec.kind == "strings":
        return st.lists(NAMES.get(spec.name, TEXT), min_size=int(spec.required), max_size=3, unique=True)
    if spec.kind == "object":
        return mapping(spec.fields)
    if spec.kind == "objects":
        return st.lists(mapping(spec.fields), min_size=1, max_size=3)
    return JUNK


def mapping(keys: tuple[Key, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Required keys always, optional ones sometimes."""
    required = {k.name: value(k) for k in keys if k.required}
    optional = {k.name: value(k) for k in keys if not k.required and k.kind != "map"}
    return st.fixed_dictionaries(required, optional=optional)


APP = mapping(APP_FIELDS).map(lambda a: a if ("secret" in a) != ("secrets" in a) else _one_secret(a))
CONFIG = st.fixed_dictionaries(
    {
        "azuread:tenantId": value(CONFIG_KEYS[0]),
        "mailoauth:apps": st.dictionaries(st.sampled_from(APP_KEYS), APP, min_size=1, max_size=3),
    },
    optional={"azuread:environment": value(CONFIG_KEYS[1])},
)


def _one_secret(app: dict[str, Any]) -> dict[str, Any]:
    """Mostly valid apps: exactly one of secret/secrets (the other case is left to the mutations)."""
    app = {k: v for k, v in app.items() if k != "secrets"}
    return {**app, "secret": app.get("secret") or {"description": "fuzz", "expires": TODAY + timedelta(days=200)}}


@st.composite
def stack_files(draw: st.DrawFn) -> dict[str, Any]:
    """A stack document, then up to three mutations at random key paths."""
    doc = {"config": draw(CONFIG)}
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        parent, key = _pick(draw, doc)
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "drop" and key in parent:
            del parent[key]
        elif action == "replace":
            parent[key] = draw(JUNK)
        else:
            parent[draw(st.sampled_from(["extra", "mailoauth:extra", "redirectUri", "Audience"]))] = draw(JUNK)
    return doc


def _pick(draw: st.DrawFn, node: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A mapping somewhere in the document and one of its keys."""
    while True:
        if not node:  # everything here was dropped already
            return node, "extra"
        key = draw(st.sampled_from(sorted(node)))
        child = node[key]
        if not isinstance(child, dict) or not child or draw(st.integers(0, 3)) == 0:  # mostly deeper
            return node, key
        node = child


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    # the other stacks too: the program's cross-stack rule sees them
    folder = copy_project(Path(tempfile.mkdtemp(prefix="mailoauth-fuzz-")))
    yield folder
    shutil.rmtree(folder)


def run_plan(project: Path, doc: dict[str, Any]) -> tuple[int, str]:
    (project / "stacks" / "Pulumi.fuzz.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["-C", str(project), "plan", "--stack", "fuzz", "--format", "json"])
    return code, err.getvalue()


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY.isoformat())


FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(doc=stack_files())
def test_plan_succeeds_or_exits_2_with_its_problems(project: Path, doc: dict[str, Any]) -> None:
    code, err = run_plan(project, doc)
    assert code in (0, 2), err
    if code == 2:
        lines = err.splitlines()
        assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines), err
        assert "error: stacks/Pulumi.fuzz.yaml" in err


@settings(FUZZ, max_examples=40)
@given(doc=stack_files())
def test_when_plan_succeeds_the_program_registers_what_it_shows(project: Path, doc: dict[str, Any]) -> None:
    code, _ = run_plan(project, doc)
    if code != 0:
        return
    tree = WorkTree(project)
    planned = plan.plan_document(loader.load_stack(tree, "fuzz", ProjectContext(catalogue.load(tree))))
    loaded = yaml.safe_load((project / "stacks" / "Pulumi.fuzz.yaml").read_text(encoding="utf-8"))
    assert_program_matches_plan(run_program(stack_config(loaded), "fuzz"), planned)
