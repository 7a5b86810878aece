"""Scanners are found by what they do, not only by the user agent they announce (issue 9, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canhgac.cli import main

WORDS = ["admin", "backup", "config", "db", "old", "test", "tmp", "upload", "wp-login.php", "phpmyadmin",
         ".env", ".git/HEAD", "server-status", "api/v1", "console", "debug", "install", "setup", "shell",
         "cgi-bin/test.cgi", "login.bak", "web.config", "backup.tar.gz", "dump.sql", "private", "secret",
         "manager/html", "jmx-console", "actuator/env", "solr/admin", "vendor/phpunit", "xmlrpc.php", "owa",
         "remote", "autodiscover", "sitemap.old", "data", "export", "files", "logs"]


def line(second: int, path: str, status: int, agent: str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)") -> str:
    return (f'198.51.100.77 - - [22/Nov/2026:15:{second // 60:02d}:{second % 60:02d} +0700] "GET /{path} HTTP/1.1" '
            f'{status} 153 "-" "{agent}"\n')


def titles(capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["alerts", "--format", "jsonl"]) == 0
    return [json.loads(row)["rule_title"] for row in capsys.readouterr().out.splitlines()]


def test_a_wordlist_walk_with_a_browser_agent_is_a_content_discovery_scan(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(line(n * 2, word, 404) for n, word in enumerate(WORDS)), encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "binhdinh"]) == 0
    found = titles(capsys)
    assert found.count("Content Discovery Scan From One Address") == 1
    assert "Known Web Vulnerability Scanner User Agent" not in found


def test_a_citizen_meeting_a_few_missing_pages_is_not_a_scan(home: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(line(n * 2, word, 404 if n % 8 == 0 else 200) for n, word in enumerate(WORDS)),
                   encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "binhdinh"]) == 0
    assert "Content Discovery Scan From One Address" not in titles(capsys)
