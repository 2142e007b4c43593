"""Each class or type name of the package means one thing: it is defined in one module only."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.projectcopy import ROOT


def test_no_class_or_type_name_is_defined_twice() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / "mailoauth").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                name = node.name
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id  # a type alias such as `Subject = A | B`
                if not name[0].isupper() or name.isupper():
                    continue
            else:
                continue
            if not name.startswith("_"):
                where[name].append(str(path.relative_to(ROOT)))
    assert {name: files for name, files in where.items() if len(files) > 1} == {}
