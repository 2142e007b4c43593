"""CrossGuard pack: mailoauth's guardrails on azuread Application, ApplicationPassword and consent grants.

`pulumi preview --policy-pack policy` runs it; rule levels come from policy/rules.yaml beside this file
and can be overridden per rule with `--policy-pack-config`. See docs/guardrails.md.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the mailoauth project: its package, scopes/ and stacks/
sys.path.insert(0, str(ROOT))

from pulumi_policy import PolicyPack  # noqa: E402

from mailoauth.deploy.crossguard import policies  # noqa: E402

PolicyPack(name="mailoauth-guardrails", policies=policies(ROOT))
