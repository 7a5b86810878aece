"""The installed layout of the package, built from ``pyproject.toml``'s ``package-dir`` mapping.

import-linter (grimp) walks a package's folder, and in the repository ``canhgac/`` holds only the roof;
the subpackages live in sibling folders that setuptools maps under ``canhgac``. Copying the Python files
into the layout a wheel installs lets the contract see the real graph.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def installed_layout(target: Path) -> Path:
    """Copy every mapped package's ``.py`` files into ``target`` as they are installed; returns ``target``."""
    mapping: dict[str, str] = pyproject()["tool"]["setuptools"]["package-dir"]
    for package, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        destination = target.joinpath(*package.split("."))
        shutil.copytree(ROOT / folder, destination, dirs_exist_ok=True,
                        ignore=lambda _dir, names: [n for n in names if n == "__pycache__"
                                                    or (Path(_dir, n).is_file() and not n.endswith(".py"))])
    return target
