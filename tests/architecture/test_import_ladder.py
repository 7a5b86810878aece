"""The import ladder of decision 0001, as an import-linter contract over the installed layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.architecture.layout import ROOT, installed_layout, pyproject

LINT_IMPORTS = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([*LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_the_ladder_holds(tmp_path: Path) -> None:
    result = lint(installed_layout(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    tree = installed_layout(tmp_path)
    model = tree / "canhgac" / "core" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nfrom canhgac.storage import base as _upward  # noqa\n",
                     encoding="utf-8")
    result = lint(tree)
    assert result.returncode != 0
    assert "canhgac.core.model -> canhgac.storage.base" in result.stdout


def test_the_graph_spans_every_floor(tmp_path: Path) -> None:
    """Guards the guard: a contract over an empty or partial tree would pass vacuously."""
    tree = installed_layout(tmp_path)
    for package in ("core", "storage", "collectors", "detectors", "incidents", "notifications", "api",
                    "dashboards", "commands"):
        assert (tree / "canhgac" / package / "__init__.py").is_file(), package


def test_every_subpackage_is_declared() -> None:
    """A package folder missing from ``pyproject.toml``'s list would be left out of the wheel."""
    settings = pyproject()["tool"]["setuptools"]
    declared = set(settings["packages"])
    found = set()
    for package, folder in settings["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *relative)))
    assert found == declared
