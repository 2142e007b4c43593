"""The JSON Schemas in schema/: generated from the key specs, checked in, and meant for editors.

Files are read as the YAML language server reads them (YAML 1.2: a date stays a string), then
validated with jsonschema's Draft 7 validator, the draft the schemas declare.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mailoauth.base.problems import InvalidInput
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.project import assembly, schema
from mailoauth.project.context import ProjectContext
from mailoauth.project.guard import load_policy
from tests.guardrails_support import make_project, run_cli
from tests.projectcopy import ROOT

SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


class Yaml12Loader(yaml.SafeLoader):
    """Safe loading without YAML 1.1's implicit timestamps, as editors see the file."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Yaml12Loader)  # a SafeLoader subclass


def validator(name: str) -> jsonschema.Draft7Validator:
    document = schema.documents()[name]
    jsonschema.Draft7Validator.check_schema(document)
    return jsonschema.Draft7Validator(document)


EXAMPLES = [
    *((p, "stack.schema.json") for p in sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))),
    (ROOT / "scopes/catalogue.yaml", "catalogue.schema.json"),
    *((p, "scope-set.schema.json") for p in sorted((ROOT / "scopes/sets").glob("*.yaml"))),
    (ROOT / "policy/rules.yaml", "policy.schema.json"),
]


def test_checked_in_schemas_are_what_the_specs_generate() -> None:
    for name, document in schema.documents().items():
        assert (ROOT / "schema" / name).read_text(encoding="utf-8") == schema.render(document), name
    assert sorted(p.name for p in (ROOT / "schema").iterdir()) == sorted(schema.documents())


def test_schema_command_reports_and_rewrites_stale_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_cli(capsys, ROOT, "schema")[:2] == (
        0,
        "schemas up to date: schema/stack.schema.json, schema/catalogue.schema.json, schema/scope-set.schema.json, "
        "schema/product.schema.json, schema/policy.schema.json\n",
    )
    project = make_project(tmp_path)
    shutil.copytree(ROOT / "schema", project / "schema")
    (project / "schema/stack.schema.json").write_text("{}\n", encoding="utf-8")
    assert run_cli(capsys, project, "schema")[:2] == (
        1,
        "out of date: schema/stack.schema.json; run mailoauth schema --write\n",
    )
    assert run_cli(capsys, project, "schema", "--write")[:2] == (0, "wrote schema/stack.schema.json\n")
    assert run_cli(capsys, project, "schema")[0] == 0


@pytest.mark.parametrize(("path", "schema_name"), EXAMPLES, ids=lambda v: str(v).removeprefix(str(ROOT) + "/"))
def test_every_example_file_validates_and_names_its_schema(path: Path, schema_name: str) -> None:
    errors = [e.message for e in validator(schema_name).iter_errors(load(path))]
    assert errors == []
    (reference,) = SCHEMA_COMMENT.findall(path.read_text(encoding="utf-8"))
    assert (path.parent / reference).resolve() == ROOT / "schema" / schema_name


DEV = load(ROOT / "stacks/Pulumi.dev.yaml")


def dev_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """The dev stack with one key set (or removed, for value None)."""
    doc = copy.deepcopy(DEV)
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return doc


def dev_without(*paths: tuple[str, ...]) -> dict[str, Any]:
    """The dev stack with several keys removed."""
    doc = DEV
    for path in paths:
        doc = dev_with(path, None) if doc is DEV else _removed(doc, path)
    return doc


def _removed(doc: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    del target[last]
    return doc


APP = ("config", "mailoauth:apps", "jira-mail-in")
BAD_STACKS = {
    "tenant is not a GUID": (
        dev_with(("config", "azuread:tenantId"), "contoso"),
        "pattern",
        ["config", "azuread:tenantId"],
    ),
    "unknown cloud": (dev_with(("config", "azuread:environment"), "public"), "enum", ["config", "azuread:environment"]),
    "misspelt mailoauth key": (dev_with(("config", "mailoauth:app"), {}), "additionalProperties", ["config"]),
    "unknown top-level key": (dev_with(("stack",), "dev"), "additionalProperties", []),
    "app key with capitals": (
        dev_with(("config", "mailoauth:apps", "Jira_Mail"), DEV["config"]["mailoauth:apps"]["jira-mail-in"]),
        "pattern",
        ["config", "mailoauth:apps"],
    ),
    "misspelt app key": (dev_with((*APP, "scopeSet"), ["imap"]), "additionalProperties", list(APP)),
    "unknown audience": (dev_with((*APP, "audience"), "tenant"), "enum", [*APP, "audience"]),
    "missing redirect URIs and no product": (
        dev_without((*APP, "redirectUris"), (*APP, "product"), (*APP, "useCases")),
        "anyOf",
        list(APP),
    ),
    "redirect URIs as one string": (
        dev_with((*APP, "redirectUris"), "https://x.example.com/cb"),
        "type",
        [*APP, "redirectUris"],
    ),
    "adminConsent not a boolean": (dev_with((*APP, "adminConsent"), "yes"), "type", [*APP, "adminConsent"]),
    "expiry not a date": (dev_with((*APP, "secret", "expires"), "31.05.2027"), "pattern", [*APP, "secret", "expires"]),
    "secret without description": (dev_with((*APP, "secret"), {"expires": "2027-05-31"}), "required", [*APP, "secret"]),
    "empty secrets list": (dev_with((*APP, "secrets"), []), "minItems", [*APP, "secrets"]),
}


@pytest.mark.parametrize("case", BAD_STACKS)
def test_bad_stack_files_are_rejected_by_the_schema_and_by_validate(case: str) -> None:
    document, keyword, path = BAD_STACKS[case]
    errors = list(validator("stack.schema.json").iter_errors(document))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [(keyword, path)]
    cat = catalogue.load(WorkTree(ROOT))
    with pytest.raises(InvalidInput):  # the tool agrees: what the editor marks, validate refuses
        assembly.build_stack(
            "dev", yaml.safe_load(yaml.safe_dump(document)), "stacks/Pulumi.dev.yaml", ProjectContext(cat)
        )


def test_other_namespaces_keys_are_left_alone() -> None:
    document = dev_with(("config", "azuread:useOidc"), True)
    assert list(validator("stack.schema.json").iter_errors(document)) == []


CATALOGUE = load(ROOT / "scopes/catalogue.yaml")
SEND = ("resources", "graph", "scopes", "Mail.Send")


def catalogue_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(CATALOGUE)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


BAD_FILES = {
    "scope id not a GUID": ("catalogue.schema.json", catalogue_with((*SEND, "id"), "e383f46e"), "pattern"),
    "unknown access": ("catalogue.schema.json", catalogue_with((*SEND, "access"), "readwrite"), "enum"),
    "scope with a misspelt key": (
        "catalogue.schema.json",
        catalogue_with((*SEND, "protocols"), "graph"),
        "additionalProperties",
    ),
    "resource with a misspelt key": (
        "catalogue.schema.json",
        catalogue_with(("resources", "graph", "appID"), "00000003-0000-0000-c000-000000000000"),
        "additionalProperties",
    ),
    "resource without appId": (
        "catalogue.schema.json",
        catalogue_with(("resources", "graph", "appId"), None),
        "required",
    ),
    "scope set with a misspelt key": (
        "scope-set.schema.json",
        {"description": "x", "scope": ["Mail.Read"]},
        "additionalProperties",
    ),
    "includes as a string": ("scope-set.schema.json", {"description": "x", "includes": "graph-read"}, "type"),
    "unknown rule id": (
        "policy.schema.json",
        {"rules": {"redirect-http": {"level": "advisory"}}},
        "additionalProperties",
    ),
    "unknown level": ("policy.schema.json", {"rules": {"owners": {"level": "off"}}}, "enum"),
    "lifetime of zero months": ("policy.schema.json", {"rules": {"secret-max-lifetime": {"maxMonths": 0}}}, "minimum"),
    "lifetime on a rule without one": (
        "policy.schema.json",
        {"rules": {"owners": {"maxMonths": 3}}},
        "additionalProperties",
    ),
}


FILE_OF_SCHEMA = {
    "catalogue.schema.json": "scopes/catalogue.yaml",
    "scope-set.schema.json": "scopes/sets/extra.yaml",
    "policy.schema.json": "policy/rules.yaml",
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_scope_and_policy_files_are_rejected_by_the_schema_and_by_the_loader(case: str, tmp_path: Path) -> None:
    schema_name, document, keyword = BAD_FILES[case]
    assert [e.validator for e in validator(schema_name).iter_errors(document)] == [keyword]
    project = make_project(tmp_path)
    (project / FILE_OF_SCHEMA[schema_name]).write_text(yaml.safe_dump(document), encoding="utf-8")
    load = load_policy if schema_name == "policy.schema.json" else catalogue.load
    with pytest.raises(InvalidInput):  # the loader agrees: what the editor marks, the tool refuses
        load(WorkTree(project))


def test_catalogue_names_the_unknown_key_in_a_scope(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    text = yaml.safe_dump(catalogue_with((*SEND, "protocols"), "graph"))
    (project / "scopes/catalogue.yaml").write_text(text, encoding="utf-8")
    line = 1 + [s.strip() for s in text.splitlines()].index("protocols: graph")
    with pytest.raises(InvalidInput) as caught:
        catalogue.load(WorkTree(project))
    assert [str(p) for p in caught.value.problems] == [
        f"error: scopes/catalogue.yaml:{line}: resources.graph.scopes.Mail.Send.protocols: unknown key; "
        "did you mean 'protocol'?"
    ]


def test_the_schema_checks_shape_not_meaning() -> None:
    """Shape only: an expiry long past still matches the schema (validate is what refuses it)."""
    document = dev_with((*APP, "secret", "expires"), "2001-01-01")
    assert list(validator("stack.schema.json").iter_errors(document)) == []
