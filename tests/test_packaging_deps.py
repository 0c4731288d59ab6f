"""Every third-party module the package imports is a declared runtime dependency.

A wheel installed into a clean venv has only pyproject's `dependencies`; the test venv also holds the test
extras, so an undeclared import (pyarrow once) passes every test here and fails for users.
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = {"tests", "benchmarks", "scripts", "docs", "examples", "build", "dist", ".venv", "venv"}
IMPORT_TO_DIST = {"yaml": "pyyaml", "sklearn": "scikit-learn", "PIL": "pillow"}


def _imported_top_level_modules() -> dict[str, str]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_SHIPPED or rel.name == "setup.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(rel))
    return found


def test_every_imported_third_party_module_is_a_declared_dependency():
    declared = {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower()
                for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    missing = {}
    for module, where in _imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in {"trialforge", "__future__"}:
            continue
        if IMPORT_TO_DIST.get(module, module).lower() not in declared:
            missing[module] = where
    assert not missing, f"imported by package code but not in pyproject dependencies: {missing}"
