"""Every third-party module the tests import is declared, not borrowed from another package.

jsonschema once arrived only through simcord[pytest]: a simcord release that dropped it would
have turned the schema tests into silent skips.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {"bot", "cogs", "questions", "tests"}


def normalized(requirement: str) -> str:
    """The distribution name of a requirement, as PEP 503 compares names."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert name, requirement
    return re.sub(r"[-_.]+", "-", name.group()).lower()


def declared_for_tests() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project["optional-dependencies"]
    # `make test` installs .[dev,worker]
    return {normalized(r) for r in [*project["dependencies"], *extras["dev"], *extras["worker"]]}


def imported_by_tests() -> set[str]:
    modules = set()
    for file in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") ==
                  "importorskip" and node.args and isinstance(node.args[0], ast.Constant)):
                modules.add(str(node.args[0].value).split(".")[0])
    return modules - OURS - set(sys.stdlib_module_names) - {"__future__"}


def test_every_module_the_tests_import_is_a_declared_dependency():
    distributions = packages_distributions()
    missing = {module: distributions.get(module) for module in imported_by_tests()
               if not {normalized(d) for d in distributions.get(module, [])} &
               declared_for_tests()}
    assert not missing, f"imported by tests but not declared in pyproject.toml: {missing}"
