"""A normal (non-editable) install: build the wheel, install it into a fresh virtual environment outside
the checkout, and run the pipeline from another directory.

The fresh environment gets the wheel alone; its dependencies come from this environment's
site-packages through a ``.pth`` line, which adds the folder without running that folder's own ``.pth``
files, so the editable install of the checkout stays out of sight and nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.architecture.layout import ROOT

ATTACK = ('203.0.113.9 - - [01/Dec/2026:09:15:00 +0700] "GET /tra-cuu?ma=1%27%20UNION%20SELECT%20mat_khau'
          '%2Cten%20FROM%20nguoi_dung-- HTTP/1.1" 200 731 "-" "Mozilla/5.0"\n')


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(work / "dist"), str(ROOT)], check=True, capture_output=True, timeout=600)
    wheel = next((work / "dist").glob("canhgac-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)  # this environment's pip installs into it: no ensurepip, seconds saved
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, timeout=600)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return env_dir


def run(env_dir: Path, *args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CANHGAC_CONFIG")}
    env |= {"CANHGAC_HOME": str(home), "CANHGAC_LANG": "en"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_runs_the_pipeline_from_another_directory(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "access.log").write_text(ATTACK, encoding="utf-8")
    canhgac = str(installed / "bin" / "canhgac")
    ingest = run(installed, canhgac, "ingest", "access.log", "--source", "nginx", "--agency", "binhdinh",
                 cwd=elsewhere, home=tmp_path / "home")
    assert ingest.returncode == 0, ingest.stderr
    alerts = run(installed, canhgac, "alerts", "--format", "jsonl", cwd=elsewhere, home=tmp_path / "home")
    assert alerts.returncode == 0, alerts.stderr
    rows = [json.loads(line) for line in alerts.stdout.splitlines()]
    assert any("SQL" in row["rule_title"] and row["entities"]["source.ip"] == "203.0.113.9" for row in rows), rows


def test_the_wheel_installs_no_stray_top_level_packages(installed: Path, tmp_path: Path) -> None:
    python = str(installed / "bin" / "python")
    for stray in ("api", "storage", "collectors", "detectors", "incidents", "notifications", "dashboards", "core"):
        result = run(installed, python, "-c", f"import {stray}", cwd=tmp_path, home=tmp_path)
        assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr, stray
    located = run(installed, python, "-c", "import canhgac.storage.sqlite.store as s; print(s.__file__)",
                  cwd=tmp_path, home=tmp_path)
    assert str(installed) in located.stdout, located.stdout + located.stderr


def test_the_wheel_carries_its_data(installed: Path, tmp_path: Path) -> None:
    python = str(installed / "bin" / "python")
    script = ("from canhgac.detectors.sigma.loader import builtin_rules_dir, load_rules;"
              "from canhgac.dashboards import WEB_DIR; from canhgac.core.config import EXAMPLE_CONFIG;"
              "print(load_rules([builtin_rules_dir()]).count, (WEB_DIR / 'index.html').is_file(),"
              " EXAMPLE_CONFIG.is_file())")
    result = run(installed, python, "-c", script, cwd=tmp_path, home=tmp_path)
    count, page, example = result.stdout.split()
    assert int(count) >= 40 and page == "True" and example == "True", result.stderr


def test_the_wheel_exports_the_saved_dashboards(installed: Path, tmp_path: Path) -> None:
    canhgac = str(installed / "bin" / "canhgac")
    for target in ("kibana", "opensearch"):
        result = run(installed, canhgac, "dashboards", "export", "--target", target, cwd=tmp_path, home=tmp_path)
        assert result.returncode == 0, result.stderr
        kinds = {json.loads(line)["type"] for line in result.stdout.splitlines()}
        assert kinds == {"index-pattern", "visualization", "dashboard"}
