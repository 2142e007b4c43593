"""The `mailoauth` command line: shared options, error reporting and exit statuses.

Exit statuses: 0 success, 1 a finding the command exists to report (a change, drift, expiry),
2 invalid input (every problem printed, never a traceback), 3 a policy threshold was crossed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from mailoauth import __version__
from mailoauth.base.problems import CommandError, InvalidInput, Problem

COMMANDS = (
    "plan",
    "validate",
    "diff",
    "schema",
    "secrets",
    "preflight",
    "audit",
    "scopes",
    "consent",
    "adopt",
    "verify",
    "explain",
)
EXIT_OK, EXIT_FINDING, EXIT_INVALID, EXIT_POLICY = 0, 1, 2, 3


class UsageError(Exception):
    """A command-line mistake that is not about a file (unknown app key, bad option value)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailoauth", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mailoauth {__version__}")
    parser.add_argument(
        "-C",
        "--project-dir",
        type=Path,
        default=None,
        help="project directory (default: the nearest folder with Pulumi.yaml)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"mailoauth.commands.{name.replace('-', '_')}").register(sub)
    return parser


def add_format(parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json", "markdown")) -> None:
    parser.add_argument("--format", choices=choices, default=choices[0], help=f"output format (default {choices[0]})")


def project_root(args: argparse.Namespace) -> Path:
    from mailoauth.base.tree import find_project_root

    root = args.project_dir.resolve() if args.project_dir else find_project_root()
    if not (root / "Pulumi.yaml").is_file():
        raise UsageError(
            f"no mailoauth project at {root} (no Pulumi.yaml there or above); run it in the project "
            "or name it with -C DIR"
        )
    return root


# Top-level package of an optional dependency -> the extra that installs it.
EXTRAS = {
    "ruamel": "edit",
    "azure": "graph",
    "msgraph": "graph",
    "msgraph_core": "graph",
    "kiota_abstractions": "graph",
    "kiota_http": "graph",
    "msal": "graph",
    "pulumi": "deploy",
    "pulumi_azuread": "deploy",
    "pulumi_policy": "policy",
}


def missing_extra(exc: ModuleNotFoundError) -> UsageError | None:
    """A clear message instead of a traceback when a command needs an extra the light install lacks."""
    package = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(package)
    if extra is None:
        return None
    return UsageError(
        f"this command needs {package}, which is not installed: pip install 'mailoauth[{extra}]' "
        "(the light install covers plan, validate, diff, schema, explain and secrets report)"
    )


def edit_modules(*names: str) -> list[ModuleType]:
    """The mailoauth modules that rewrite stack files (ruamel.yaml, the `edit` extra), imported before any
    work starts so a missing extra is reported first."""
    return [importlib.import_module(f"mailoauth.{name}") for name in names]


def span(text: str) -> Any:
    """argparse type for a span like 90d, 6w, 6m, 1y (secretslots.Duration)."""
    from mailoauth.review.secretslots import Duration

    try:
        return Duration.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def window(text: str) -> Any:
    """argparse type for a reporting window (`--within`): a span, or a bare number of days."""
    return span(f"{text}d" if text.isdigit() else text)


def report_problems(problems: Sequence[Problem], fmt: str = "text") -> None:
    """Problems go to stderr for people; with --format json, a JSON document goes to stdout too."""
    for p in problems:
        print(str(p), file=sys.stderr)
    if fmt == "json":
        print(
            json.dumps(
                {"ok": not any(p.severity == "error" for p in problems), "problems": [p.as_json() for p in problems]},
                indent=2,
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except InvalidInput as exc:
        report_problems(exc.problems, getattr(args, "format", "text"))
        return EXIT_INVALID
    except (UsageError, CommandError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except ModuleNotFoundError as exc:
        if (usage := missing_extra(exc)) is None:
            raise
        print(f"error: {usage}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
