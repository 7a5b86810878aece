from __future__ import annotations

from pathlib import Path

import pytest
from canhgac.core.config import EXAMPLE_CONFIG

from canhgac.cli import main

EXAMPLE = EXAMPLE_CONFIG


def test_example_configuration_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "Cấu hình hợp lệ" in out and "30 cơ quan, đơn vị" in out


def test_errors_name_file_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agencies:\n"
        "  - {id: binhdinh, code: BDH, level: province, name_vi: Bình Định, name_en: Binh Dinh}\n"
        "  - id: quynhon\n"
        "    code: QNN\n"
        "    level: city\n"
        "    name_vi: Quy Nhơn\n"
        "    name_en: Quy Nhon\n"
        "    parent: binhdinh\n"
        "systems:\n"
        "  - {id: dvc, name: Cổng, agency: binhdinh, kind: portal, security_level: 3}\n", encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:5: [agencies[1].level]" in err
    assert f"{bad}:10: [systems[0].kind]" in err


def test_cross_references_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agencies:\n"
        "  - {id: binhdinh, code: BDH, level: province, name_vi: Bình Định, name_en: Binh Dinh,\n"
        "     merged_into: gialai}\n"
        "api_keys:\n"
        "  - {name: k, role: agency_viewer, agency: binhdinh, sha256: '" + "0" * 64 + "'}\n"
        "  - {name: k2, role: agency_viewer, sha256: '" + "1" * 64 + "'}\n", encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:6: [api_keys[1]] Value error, role agency_viewer needs an agency" in err
    bad.write_text(bad.read_text().replace("  - {name: k2, role: agency_viewer, sha256: '" + "1" * 64 + "'}\n", ""))
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: [agencies[0].merged_into] unknown agency 'gialai'" in err


def test_broken_yaml_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agencies:\n  - {id: x\n", encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 1
    assert f"{bad}:" in capsys.readouterr().err
    assert main(["config", "check", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err


def _with_sources(tmp_path: Path, sources: str) -> Path:
    config = tmp_path / "canhgac.yaml"
    config.write_text(
        "agencies:\n"
        "  - {id: gialai, code: GLI, level: province, name_vi: Gia Lai, name_en: Gia Lai}\n"
        "systems:\n"
        "  - id: dvc-gialai\n"
        "    name: Cổng dịch vụ công tỉnh Gia Lai\n"
        "    agency: gialai\n"
        "    kind: public_service_portal\n"
        "    security_level: 3\n"
        "    log_sources:\n" + sources, encoding="utf-8")
    return config


def test_unknown_log_format_is_an_error_naming_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text("", encoding="utf-8")
    config = _with_sources(tmp_path, f"      - {{type: file, format: nginx, paths: [{log}]}}\n"
                                     f"      - type: file\n"
                                     f"        format: ngnix\n"
                                     f"        paths: [{log}]\n")
    assert main(["config", "check", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:12: [systems[0].log_sources[1].format] không có định dạng nhật ký 'ngnix'" in err
    assert "nginx" in err.split("'ngnix'", 1)[1]  # the known formats are listed
    assert "systems[0].log_sources[0]" not in err


def test_missing_log_files_are_a_warning_only(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    present = tmp_path / "present.log"
    present.write_text("", encoding="utf-8")
    missing = tmp_path / "missing" / "*.log"
    config = _with_sources(tmp_path, f"      - {{type: file, format: nginx, paths: [{present}, '{missing}']}}\n")
    assert main(["config", "check", str(config)]) == 0
    captured = capsys.readouterr()
    assert "Cấu hình hợp lệ" in captured.out and "1 cảnh báo" in captured.out
    assert (f"Cảnh báo: {config}:10: [systems[0].log_sources[0].paths[1]] chưa có tệp nhật ký nào khớp {missing}"
            in captured.err)
    assert str(present) not in captured.err
    monkeypatch.setenv("CANHGAC_LANG", "en")
    assert main(["config", "check", str(config)]) == 0
    assert f"Warning: {config}:10: [systems[0].log_sources[0].paths[1]] no log file matches" in capsys.readouterr().err


def test_grouping_overrides_must_name_loaded_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    marker = "    by_principal: true"
    assert marker in text
    config = tmp_path / "canhgac.yaml"
    config.write_text(text.replace(marker, marker + "\n    rules: {ssh_failure_burst: alone, ssh_failure_brust: user}",
                                   1), encoding="utf-8")
    assert main(["config", "check", str(config)]) == 1
    err = capsys.readouterr().err
    assert "[incidents.grouping.rules.ssh_failure_brust]" in err and "ssh_failure_brust" in err
    assert "rules.ssh_failure_burst]" not in err  # a real rule name is accepted
