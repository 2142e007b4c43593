"""What the rules need from the project beyond one stack file: the policy file and the cross-stack callback index.

`rules.Guard` carries both; `project_guard` builds it from a tree, so every command and the Pulumi program judge a
stack with the same levels and the same knowledge of which stacks register which instance callback URI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailoauth.base import yamlio
from mailoauth.base.keyspec import check_fields
from mailoauth.base.problems import InvalidInput, Problems, raise_if_errors
from mailoauth.base.tree import Tree
from mailoauth.desired.products import Product, lenient_callbacks
from mailoauth.guardrails import rules
from mailoauth.project import files


def load_policy(tree: Tree) -> rules.Policy:
    """The project's rule levels and parameters (policy/rules.yaml); the defaults when there is no such file."""
    text = tree.read_text(rules.POLICY_FILE)
    if text is None:
        return rules.Policy()
    found = Problems(rules.POLICY_FILE)
    values = check_fields(found, (), yamlio.load(text, rules.POLICY_FILE) or {}, rules.POLICY_KEYS)
    raise_if_errors(yamlio.with_lines(found.items, text))
    return rules.policy_from_values(values)


def project_guard(
    tree: Tree,
    products: Mapping[str, Product],
    read: dict[str, tuple[str, Any] | InvalidInput] | None = None,
    policy: rules.Policy | None = None,
) -> rules.Guard:
    """What the rules need from the rest of the project: the policy file and every stack's callback URIs.

    `read` (`files.read_stacks`) spares reading the stack files again, `policy` reading the policy file.
    """
    if read is None:
        read = files.read_stacks(tree, [])
    docs = {name: entry[1] for name, entry in read.items() if isinstance(entry, tuple)}  # unreadable ones are skipped
    return rules.Guard(load_policy(tree) if policy is None else policy, _callback_index(docs, products))


def _callback_index(docs: dict[str, Any], products: Mapping[str, Product]) -> dict[str, frozenset[str]]:
    """Instance callback URI -> the stacks whose files register it (derived ones too), read leniently
    (loopback URIs left out)."""
    index: dict[str, set[str]] = {}
    for name, doc in docs.items():
        for app in files.raw_apps(doc).values():
            for uri in lenient_callbacks(app, products) if isinstance(app, dict) else ():
                if not rules.is_loopback(uri):
                    index.setdefault(uri, set()).add(name)
    return {uri: frozenset(names) for uri, names in index.items()}
