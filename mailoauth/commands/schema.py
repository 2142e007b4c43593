"""`mailoauth schema [--write]`: are the JSON Schemas in schema/ what the key specs generate? Refresh them."""

from __future__ import annotations

import argparse

from mailoauth import cli
from mailoauth.project import schema


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "schema",
        ["mailoauth schema", "mailoauth schema --write"],
        {cli.EXIT_OK: "the schemas are up to date (or were written)", cli.EXIT_FINDING: "a schema is out of date"},
    )
    p.add_argument("--write", action="store_true", help="rewrite the schema files that are out of date")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = cli.project_root(args)
    stale = schema.stale(root)
    if args.write:
        schema.write(root, stale)
        print(f"wrote {_paths(stale)}" if stale else "schemas up to date")
        return cli.EXIT_OK
    if stale:
        print(f"out of date: {_paths(stale)}; run mailoauth schema --write")
        return cli.EXIT_FINDING
    print(f"schemas up to date: {_paths(list(schema.documents()))}")
    return cli.EXIT_OK


def _paths(names: list[str]) -> str:
    return ", ".join(f"{schema.SCHEMA_DIR}/{n}" for n in names)
