"""`mailoauth completion SHELL`: a completion script generated from the command line's own parser.

shtab (the `completion` extra) writes the script from the full parser, so every command, action,
option and choice completes, and the script cannot drift from the code. Install it once, e.g.
`mailoauth completion bash > ~/.local/share/bash-completion/completions/mailoauth`.
"""

from __future__ import annotations

import argparse

from mailoauth import cli

SHELLS = ("bash", "zsh", "tcsh")


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "completion",
        [
            "mailoauth completion bash > ~/.local/share/bash-completion/completions/mailoauth",
            'eval "$(mailoauth completion bash)"',
        ],
        {cli.EXIT_OK: "the script was printed", cli.EXIT_INVALID: "the completion extra is not installed"},
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(cli.build_parser(every=True), shell=args.shell), end="")
    return cli.EXIT_OK
