"""The `mailoauth` command line: a lazy command registry, shared options, error reporting and exit statuses.

The registry names each command and its one-line summary; only the module of the command that runs
is imported (pip's command registry works this way), so `plan`, `diff` and `validate` start without
the code of the live commands. `--stack`, `--app` and `--format` are added by the helpers here, so
every command spells and checks them alike.

Exit statuses: 0 success, 1 a finding the command exists to report (a change, drift, expiry),
2 invalid input (every problem printed, never a traceback), 3 a policy threshold was crossed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mailoauth import __version__
from mailoauth.base.problems import CommandError, InvalidInput, Problem

if TYPE_CHECKING:  # the model is imported by the commands that need it, not on every start
    from mailoauth.desired.model import App, Stack

# The command registry: name -> one-line summary; the code is mailoauth/commands/<name>.py, imported on use.
COMMANDS = {
    "plan": "validate one stack and show what pulumi up would register",
    "validate": "check stack files against the core checks and the guardrails",
    "diff": "rate what a change does to every stack, between two git revisions",
    "schema": "check the JSON Schemas in schema/ against the key specs (--write refreshes them)",
    "secrets": "rotate client secrets without downtime; report expiring ones",
    "preflight": "check a tenant before the first pulumi up: licences, mailboxes, rights",
    "audit": "compare a stack with its tenant: permissions, redirect URIs, secrets, consent",
    "scopes": "compare the scope catalogue with what the tenant publishes",
    "consent": "list who consented to a stack's apps; revoke one user's or everyone's consent",
    "adopt": "write a portal-made app registration into a stack, for pulumi up to import",
    "verify": "sign a mailbox user in and prove IMAP, SMTP and Graph end to end",
    "explain": "explain an AADSTS code or a mail server reply, with the fix",
    "handoff": "what to paste where in the mail product's OAuth2 form",
    "init": "create a stack file for a mail product (prompts on a terminal)",
    "fleet": "job lists under GitHub's matrix limit, sign-in targets and the nightly report for many stacks",
    "completion": "print a shell completion script (bash, zsh, tcsh)",
}
EXIT_OK, EXIT_FINDING, EXIT_INVALID, EXIT_POLICY = 0, 1, 2, 3
EXITS = {
    EXIT_OK: "success",
    EXIT_FINDING: "a finding the command reports (a change, drift, an expiring secret, a failed check)",
    EXIT_INVALID: "invalid input: every problem with file, line, key path and fix; nothing was changed",
    EXIT_POLICY: "a policy threshold was crossed (diff --fail-on)",
}
DESCRIPTION = (
    "Declarative Microsoft Entra ID app registrations for mail OAuth2 (IMAP, SMTP, Microsoft Graph): "
    "plan, review, deploy with Pulumi, and verify."
)
FORMATS = ("text", "json", "markdown")


class UsageError(Exception):
    """A command-line mistake that is not about a file (unknown app key, bad option value)."""


def build_parser(command: str | None = None, every: bool = False) -> argparse.ArgumentParser:
    """The parser with `command` (or, with `every`, all commands) fully registered; the others are listed
    by name and summary only, so their modules are not imported."""
    parser = argparse.ArgumentParser(
        prog="mailoauth",
        description=DESCRIPTION,
        epilog=epilog(["mailoauth plan --stack dev", "mailoauth diff --base main", "mailoauth COMMAND --help"], EXITS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mailoauth {__version__}")
    parser.add_argument(
        "-C",
        "--project-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="project directory (default: the nearest folder with Pulumi.yaml)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if every or name == command:
            importlib.import_module(f"mailoauth.commands.{name}").register(sub)
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command word in `argv` (after the global options), if it names a registered command."""
    words = iter(argv)
    for word in words:
        if word in ("-C", "--project-dir"):
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def epilog(examples: Sequence[str], exits: Mapping[int, str]) -> str:
    lines = ["examples:", *(f"  {e}" for e in examples), "", "exit status:"]
    return "\n".join([*lines, *(f"  {code}  {text}" for code, text in exits.items())])


def command(
    sub: argparse._SubParsersAction, name: str, examples: Sequence[str], exits: Mapping[int, str], summary: str = ""
) -> argparse.ArgumentParser:
    """A command's (or an action's) parser: its summary from the registry, an epilog with examples and exit statuses."""
    text = summary or COMMANDS[name]
    return sub.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=epilog(examples, exits),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def command_group(sub: argparse._SubParsersAction, name: str, example: str) -> argparse._SubParsersAction:
    """A command made of actions (`secrets rotate`, `consent list`): its parser and the ACTION sub-parsers."""
    parser = command(sub, name, [example], {EXIT_INVALID: "unknown or missing ACTION"})
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def stack_name(text: str) -> str:
    """argparse type for --stack: a stack name, or its file (stacks/Pulumi.NAME.yaml) for the name NAME."""
    from mailoauth.base.problems import quoted
    from mailoauth.project.files import STACK_NAME, STACK_PREFIX

    file = Path(text).name
    name = text
    if file.startswith(STACK_PREFIX) and file.endswith((".yaml", ".yml")):
        name = file[len(STACK_PREFIX) :].rsplit(".", 1)[0]
    if not STACK_NAME.fullmatch(name) or name in (".", ".."):
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a stack name or stack file (stacks/Pulumi.NAME.yaml)")
    return name


def add_stack(
    parser: argparse._ActionsContainer,
    required: bool = True,
    many: bool = False,
    help: str = "",
    aliases: Sequence[str] = (),
) -> None:
    """--stack NAME (or several with `many`); a stack file path is taken for its name."""
    what = help or ("only these stacks" if many else "the stack")
    parser.add_argument(
        "--stack",
        *aliases,
        dest="stack",
        required=required,
        type=stack_name,
        metavar="NAME",
        **({"nargs": "+", "action": "extend"} if many else {}),
        help=f"{what}: stacks/Pulumi.NAME.yaml (the name or the file)",
    )


def add_app(parser: argparse.ArgumentParser, help: str = "") -> None:
    """--app KEY, optional: every command resolves it with `pick_app` (without it, the stack's only app)."""
    parser.add_argument(
        "--app", metavar="KEY", help=help or "app key under mailoauth:apps (default: the stack's only app)"
    )


def pick_app(stack: Stack, key: str | None, note: str = "") -> App:
    """The app `--app` names in `stack`; without --app, the stack's only app. Otherwise a UsageError (exit 2)
    listing the stack's app keys, with a suggestion for a misspelt one."""
    from mailoauth.base.problems import did_you_mean, quoted

    apps = stack.apps
    if key is None and len(apps) == 1:
        return next(iter(apps.values()))
    if key in apps:
        return apps[key]
    listed = f"apps: {', '.join(apps)}"
    if key is None:
        raise UsageError(
            f"{stack.file}: stack {stack.name} has {len(apps)} apps; choose one with --app ({listed}){note}"
        )
    hint = "".join(f"; {h}" for h in [did_you_mean(key, apps)] if h)
    raise UsageError(f"{stack.file}: config.mailoauth:apps: no app {quoted(key)}{hint} ({listed}){note}")


def output_format(text: str) -> str:
    return "markdown" if text == "md" else text


def add_format(parser: argparse.ArgumentParser, choices: Sequence[str] = FORMATS) -> None:
    """--format with the given choices (first is the default); `md` is accepted for markdown."""
    parser.add_argument(
        "--format",
        type=output_format,
        choices=choices,
        default=choices[0],
        metavar="|".join(choices),
        help=f"output format (default {choices[0]})" + ("; md = markdown" if "markdown" in choices else ""),
    )


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
    "shtab": "completion",
}


def missing_extra(exc: ModuleNotFoundError) -> UsageError | None:
    """A clear message instead of a traceback when a command needs an extra the light install lacks."""
    package = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(package)
    if extra is None:
        return None
    return UsageError(
        f"this command needs {package}, which is not installed: pip install 'mailoauth[{extra}]' "
        "(the light install covers plan, validate, diff, schema, explain, handoff, init and secrets report)"
    )


def edit_modules(*names: str) -> list[ModuleType]:
    """The mailoauth modules that rewrite stack files (ruamel.yaml, the `edit` extra), imported before any
    work starts so a missing extra is reported first."""
    return [importlib.import_module(f"mailoauth.{name}") for name in names]


def span(text: str, shortest: int = 1) -> Any:
    """argparse type for a span like 90d, 6w, 6m, 1y (secretslots.Duration)."""
    from mailoauth.review.secretslots import Duration

    try:
        return Duration.parse(text, shortest)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def window(text: str) -> Any:
    """argparse type for a reporting window (`--within`): a span or a bare number of days; 0d is "expired now"."""
    return span(f"{text}d" if text.isdigit() else text, shortest=0)


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
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(chosen_command(words)).parse_args(words)
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
