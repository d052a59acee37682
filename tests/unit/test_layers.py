"""The layering the import contracts (pyproject.toml, `lint-imports`) do not say alone:
domain/ imports nothing but the standard library and itself, and every top-level package
of the project is under a contract."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_top_levels(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def test_domain_imports_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"domain", "__future__"}
    outside = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "domain").rglob("*.py"))
        for name in _imported_top_levels(path) - allowed
    }
    assert not outside, f"domain/ imports beyond the standard library: {sorted(outside)}"


def test_the_check_sees_a_third_party_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom sqlalchemy import select\nfrom . import sibling\n")
    assert _imported_top_levels(module) - set(sys.stdlib_module_names) == {"sqlalchemy"}


def test_every_top_level_package_is_under_the_import_contracts() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracted = set(config["tool"]["importlinter"]["root_packages"])
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == contracted, f"packages {packages ^ contracted} differ from root_packages"
