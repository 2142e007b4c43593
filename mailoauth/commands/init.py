"""`mailoauth init`: create stacks/Pulumi.<env>.yaml for a mail product, from flags or (on a terminal) prompts.

Every answer is checked before the file is written: the new file must validate as `plan` would
read it (guardrails included), and an existing stack file is never overwritten.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from mailoauth import cli
from mailoauth.base import yamlio
from mailoauth.base.problems import did_you_mean
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.clouds import clouds
from mailoauth.desired.model import CONFIG_KEYS
from mailoauth.desired.products import Product
from mailoauth.project import assembly, files, newstack
from mailoauth.project.context import ProjectContext, utc_today
from mailoauth.project.guard import project_guard
from mailoauth.review.secretslots import RotationError, new_expiry

DEFAULT_LIFETIME = "12m"
CLOUDS = next(k.choices for k in CONFIG_KEYS if k.name == "azuread:environment")


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "init",
        [
            "mailoauth init",
            "mailoauth init --stack dev --tenant contoso.com --product email-this-issue --use-case mail-handler-imap "
            "--callback-url https://jira.example.com/plugins/servlet/oauth2/callback",
        ],
        {cli.EXIT_OK: "the stack file was written", cli.EXIT_INVALID: "bad input or the file exists; nothing written"},
    )
    cli.add_stack(p, required=False, help="the new stack (--env is the older spelling)", aliases=("--env",))
    p.add_argument("--tenant", metavar="GUID|DOMAIN", help="tenant GUID, or a domain of the tenant (looked up online)")
    p.add_argument("--product", metavar="NAME", help="product profile under products/ (email-this-issue, odoo, ...)")
    p.add_argument(
        "--use-case", action="append", dest="use_cases", metavar="NAME", help="a use case of the product (repeatable)"
    )
    p.add_argument(
        "--instance-url",
        metavar="URL",
        help="the product instance's base URL, where the product's callback has a pattern",
    )
    p.add_argument(
        "--callback-url", metavar="URL", help="the callback URL the product shows (products without a pattern)"
    )
    p.add_argument(
        "--lifetime",
        type=cli.span,
        metavar="SPAN",
        help=f"client secret lifetime (default {DEFAULT_LIFETIME})",
    )
    p.add_argument("--environment", default="global", choices=CLOUDS, help="Microsoft cloud (default global)")
    p.add_argument(
        "--login-url", metavar="URL", help="login host base URL for the domain lookup (default: the cloud's)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = cli.project_root(args)
    tree = WorkTree(root)
    cat = catalogue.load(tree)
    ask = _Prompter() if sys.stdin.isatty() else None
    answers = _answers(args, cat.products, ask)
    today = utc_today()
    text = newstack.stack_text(answers, today)
    if not files.STACK_NAME.fullmatch(answers.env):
        raise cli.UsageError(
            f"--stack {answers.env!r}: a stack name is letters, digits, '-', '_' and '.' (Pulumi's rule)"
        )
    file = files.stack_file(answers.env)
    _check(tree, cat, answers.env, text, file, today)
    _create(root / file, text)
    print(f"wrote {file}; next: mailoauth plan --stack {answers.env}")
    return cli.EXIT_OK


class _Prompter:
    """Asks on the terminal for what the flags left out, until the answer is not empty."""

    def __call__(self, question: str, choices: Any = ()) -> str:
        hint = f" [{', '.join(choices)}]" if choices else ""
        while True:
            answer = input(f"{question}{hint}: ").strip()
            if answer:
                return answer


def _answers(args: argparse.Namespace, products: dict[str, Product], ask: _Prompter | None) -> newstack.Answers:
    if ask is None:
        _require_flags(args)
    value = _Values(args, ask)
    env = value("stack", "Environment (stack name)")
    product = _product(value("product", "Product", sorted(products)), products)
    asked = args.use_cases or _split(value("use_cases", "Use cases (space or comma separated)", product.use_cases))
    cases = list(dict.fromkeys(asked))
    pattern = product.callback.pattern
    instance = args.instance_url
    callback = args.callback_url
    if not callback and not instance:
        if pattern:
            instance = value("instance_url", f"{product.name} base URL (the callback is {pattern})")
        else:
            callback = value("callback_url", f"Callback URL, from {product.callback.copy_from}")
    tenant_given = value("tenant", "Tenant (GUID or domain, e.g. contoso.onmicrosoft.com)")
    login = args.login_url or f"https://{clouds()[args.environment].login_host}"
    tenant, domain = newstack.resolve_tenant(tenant_given, login, newstack.fetch_url)
    lifetime = args.lifetime or cli.span(DEFAULT_LIFETIME)
    try:
        expires = new_expiry(lifetime, utc_today())
    except RotationError as exc:
        raise cli.UsageError(str(exc)) from None
    _check_cases(product, cases)
    return newstack.Answers(
        env, tenant, domain, args.environment, product, tuple(cases), instance, callback, expires, str(lifetime)
    )


class _Values:
    """A flag's value, else the terminal's answer; in a script a missing flag is an error naming it."""

    def __init__(self, args: argparse.Namespace, ask: _Prompter | None):
        self.args, self.prompt = args, ask

    def __call__(self, name: str, question: str, choices: Any = ()) -> str:
        given = getattr(self.args, name)
        if given:
            return str(given)
        assert self.prompt is not None  # in a script _require_flags has made every answer a flag
        return self.prompt(question, choices)


def _require_flags(args: argparse.Namespace) -> None:
    """In a script every answer is a flag: name all the missing ones at once."""
    flags = {"stack": "--stack", "tenant": "--tenant", "product": "--product", "use_cases": "--use-case"}
    missing = [flag for name, flag in flags.items() if not getattr(args, name)]
    if not (args.instance_url or args.callback_url):
        missing.append("--instance-url or --callback-url")
    if missing:
        raise cli.UsageError(f"not on a terminal, so these flags are needed: {', '.join(missing)}")


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _product(name: str, products: dict[str, Product]) -> Product:
    if name not in products:
        hint = did_you_mean(name, products) or f"products: {', '.join(sorted(products))}"
        raise cli.UsageError(f"--product {name!r}: no such profile in products/; {hint}")
    return products[name]


def _check_cases(product: Product, cases: list[str]) -> None:
    for name in cases:
        if name not in product.use_cases:
            hint = did_you_mean(name, product.use_cases) or f"use cases: {', '.join(product.use_cases)}"
            raise cli.UsageError(f"--use-case {name!r}: {product.name} has no such use case; {hint}")


def _check(tree: WorkTree, cat: catalogue.Catalogue, env: str, text: str, file: str, today: date) -> None:
    """The new file validates as `plan` reads it, against the project's other stacks; nothing is written otherwise."""
    if tree.read_text(file) is not None:
        raise cli.UsageError(f"{file} exists; init never overwrites a stack file (edit it, or pick another --stack)")
    guard = project_guard(tree, cat.products)
    assembly.build_stack(env, yamlio.load(text, file), file, ProjectContext(cat, today, guard))


def _create(path: Path, text: str) -> None:
    """Create the file (and stacks/ for a new project); if another process made it meanwhile, leave theirs alone."""
    path.parent.mkdir(exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise cli.UsageError(f"{path.name} exists; init never overwrites a stack file") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
