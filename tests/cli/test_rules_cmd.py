"""``canhgac rules test``, ``canhgac rules lint`` and ``canhgac hunt``, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from canhgac.detectors.sigma import builtin_rules_dir

from canhgac.cli import main

SQLI = ('203.0.113.66 - - [22/Nov/2026:15:04:09 +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%27%20UNION%20'
        'SELECT%20username,password%20FROM%20nguoi_dung-- HTTP/1.1" 500 312 "-" "Mozilla/5.0"\n')
BENIGN = ('100.72.14.9 - - [22/Nov/2026:15:04:05 +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=khai+sinh '
          'HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"\n')
SQLI_RULE = "54a7859c-19d8-4a89-a8d8-8731a4231dd1"
BRUTE_FORCE = "a5cae612-e8ff-4d26-9fb9-7f31837b82b4"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rules_test_passes_on_the_pack_and_reports_per_rule(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "test")
    assert code == 0
    assert "SSH Brute Force (7/7)" in out and "0 lỗi" in out.splitlines()[-1]


def test_rules_test_reports_a_failing_fixture(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    source = builtin_rules_dir() / "web" / "web_xss.yml"
    (folder / "xss.yml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    fixtures = (builtin_rules_dir() / "web" / "web_xss.tests.yml").read_text(encoding="utf-8")
    (folder / "xss.tests.yml").write_text(fixtures.replace("\nno_match:\n", "\nno_match:\n- {'@timestamp': "
                                          "'2025-03-15T03:00:00.000Z', event.id: x, event.original: x, organization.id:"
                                          " binhdinh, event.category: [web], event.dataset: nginx.access, url.query: "
                                          "'q=<script>'}\n", 1), encoding="utf-8")
    monkeypatch.setenv("CANHGAC_LANG", "en")
    code, out, _ = run(capsys, "rules", "test", str(folder))
    assert code == 1
    assert "FAIL  Cross-Site Scripting Payload in the Request" in out and "no_match[0]: should stay quiet" in out


def test_rules_lint(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "lint")
    assert code == 0 and "0 lỗi, 0 cảnh báo" in out
    (tmp_path / "bare.yml").write_text("title: Bare\nid: 12121212-3434-4565-8787-909090909090\nlogsource:\n"
                                       "  category: webserver\ndetection:\n  s:\n    cs-method: TRACE\n"
                                       "  condition: s\n", encoding="utf-8")
    (tmp_path / "broken.yml").write_text("title: Broken\nlogsource: {category: webserver}\n", encoding="utf-8")
    code, out, _ = run(capsys, "rules", "lint", "--strict", str(tmp_path))
    assert code == 1
    assert "no ATT&CK technique tag" in out and "no fixture file bare.tests.yml" in out
    assert f"{tmp_path / 'broken.yml'}:" in out


def test_rules_lint_warns_about_untranslated_description_and_false_positives(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = builtin_rules_dir() / "web" / "web_ssti.yml"  # two falsepositives, both translated
    rule = yaml.safe_load(source.read_text(encoding="utf-8"))
    variants = {"translated": rule, "no_description_vi": {k: v for k, v in rule.items() if k != "description_vi"},
                "no_falsepositives_vi": {k: v for k, v in rule.items() if k != "falsepositives_vi"},
                "one_short": rule | {"falsepositives_vi": rule["falsepositives_vi"][1:]}}
    warned: dict[str, list[str]] = {}
    for name, document in variants.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "ssti.yml").write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
        (folder / "ssti.tests.yml").write_text(source.with_name("web_ssti.tests.yml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
        code, out, _ = run(capsys, "rules", "lint", "--strict", str(folder))
        warned[name] = [line for line in out.splitlines() if "_vi" in line]
        assert code == (0 if name == "translated" else 1), out
    assert warned["translated"] == []
    [line] = warned["no_description_vi"]
    assert "ssti.yml" in line and "no description_vi" in line
    [line] = warned["no_falsepositives_vi"]
    assert "no falsepositives_vi" in line
    [line] = warned["one_short"]
    assert "falsepositives_vi has 1 item" in line and "falsepositives has 2" in line


def test_hunt_finds_what_live_detection_found_with_the_same_ids(home: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    access = tmp_path / "access.log"
    access.write_text(BENIGN + SQLI + BENIGN.replace("15:04:05", "15:04:12"), encoding="utf-8")
    auth = tmp_path / "auth.log"
    auth.write_text("".join(f"Nov 22 15:10:{second:02d} dvc-web01 sshd[{4000 + second}]: Failed password for root "
                            f"from 198.51.100.7 port {50000 + second} ssh2\n" for second in range(12)),
                    encoding="utf-8")
    assert run(capsys, "ingest", str(access), "--source", "nginx", "--agency", "binhdinh")[0] == 0
    assert run(capsys, "ingest", str(auth), "--source", "sshd", "--agency", "binhdinh")[0] == 0
    _, out, _ = run(capsys, "alerts", "--format", "jsonl", "--limit", "1000")
    live = [json.loads(line) for line in out.splitlines() if line.strip()]
    for rule_id in (SQLI_RULE, BRUTE_FORCE):
        code, out, err = run(capsys, "hunt", "--rule", rule_id, "--since", "3650d", "--format", "jsonl")
        assert code == 0, err
        hunted = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert hunted and {alert["id"] for alert in hunted} == {a["id"] for a in live if a["rule_id"] == rule_id}
    code, _, err = run(capsys, "hunt", "--rule", "no-such-rule")
    assert code == 2 and "no-such-rule" in err


def test_rules_list_shows_names_vietnamese_titles_levels_and_attack(home: Path, capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "rules", "list")
    assert code == 0
    [brute] = [row for row in out.splitlines() if row.startswith("sshd_brute_force ")]
    assert "cao" in brute and "T1110.001" in brute and "Dò mật khẩu SSH" in brute
    code, out, _ = run(capsys, "rules", "list", "--format", "jsonl")
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert rows["sshd_brute_force"]["id"] == BRUTE_FORCE and rows["sshd_brute_force"]["kind"] == "correlation"
    assert rows["web_sqli_query_string"]["attack_techniques"] == ["T1190"]
    assert rows["web_sqli_query_string"]["title_vi"]
    monkeypatch.setenv("CANHGAC_LANG", "en")
    _, out, _ = run(capsys, "rules", "list")
    assert "SSH Brute Force" in out and "high" in out and out.splitlines()[0].split()[:2] == ["name", "level"]


def test_hunt_selects_a_rule_by_name_or_file_stem(home: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    access = tmp_path / "access.log"
    access.write_text(BENIGN + SQLI, encoding="utf-8")
    assert run(capsys, "ingest", str(access), "--source", "nginx", "--agency", "binhdinh")[0] == 0
    by_id = [row["id"] for row in map(json.loads, run(capsys, "hunt", "--rule", SQLI_RULE, "--since", "3650d",
                                                      "--format", "jsonl")[1].splitlines())]
    assert by_id
    for reference in ("web_sqli_query_string", "web_sqli_query_string.yml"):
        code, out, err = run(capsys, "hunt", "--rule", reference, "--since", "3650d", "--format", "jsonl")
        assert code == 0, err
        assert [row["id"] for row in map(json.loads, out.splitlines())] == by_id
