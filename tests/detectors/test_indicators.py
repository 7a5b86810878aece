"""Indicator lists: plain text, CSV and STIX 2.1 bundles; IP, CIDR, domain and URL matches become alerts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from canhgac.core.config_detection import IndicatorList
from canhgac.core.errors import RuleError
from canhgac.core.model import Severity
from canhgac.detectors.indicators import IndicatorMatcher, load_indicator_list

from tests.detectors.support import auth_event, web_event

TEXT = """# Danh sách IP và tên miền độc hại (Cục ATTT)
203.0.113.7
198.51.100.0/24   # a whole hosting range
2001:db8:bad::/48
evil.example
https://phish.example/dang-nhap/
not an indicator!
"""
CSV = "indicator,type,note\n203.0.113.8,ip,scanner\nc2.example,domain,\nhttps://drop.example/x.php,url,\n"
STIX = {"type": "bundle", "id": "bundle--1", "objects": [
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--1", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '203.0.113.9'] OR [domain-name:value = 'stix.example']"},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--2", "pattern_type": "stix", "revoked": True,
     "pattern": "[ipv4-addr:value = '203.0.113.10']"},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--3", "pattern_type": "stix",
     "pattern": "[url:value = 'http://stix.example/a']"},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--4", "pattern_type": "sigma", "pattern": "x"},
    {"type": "malware", "id": "malware--1", "name": "x"},
]}


def matcher(tmp_path: Path, name: str, text: str, **options: object) -> IndicatorMatcher:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    source = IndicatorList(name=path.stem.replace("_", "-"), path=str(path), **options)  # type: ignore[arg-type]
    return IndicatorMatcher([load_indicator_list(source, path)])


def hits(found: IndicatorMatcher, **fields: object) -> list[str]:
    return [alert.details["indicator"] for alert in found.detect([web_event(dict(fields))])]


def test_plain_text_list(tmp_path: Path) -> None:
    found = matcher(tmp_path, "cuc_attt.txt", TEXT)
    assert found.lists[0].skipped == 1
    assert hits(found, **{"source.ip": "203.0.113.7"}) == ["203.0.113.7"]
    assert hits(found, **{"source.ip": "198.51.100.77"}) == ["198.51.100.0/24"]
    assert hits(found, **{"source.ip": "::ffff:198.51.100.5"}) == ["198.51.100.0/24"]
    assert hits(found, **{"source.ip": "2001:db8:bad:1::5"}) == ["2001:db8:bad::/48"]
    assert hits(found, **{"source.ip": "203.0.113.70"}) == []
    assert hits(found, **{"url.domain": "www.Evil.example"}) == ["evil.example"]
    assert hits(found, **{"url.domain": "notevil.example"}) == []
    assert hits(found, **{"url.domain": "phish.example", "url.original": "/dang-nhap"}) == ["phish.example/dang-nhap"]


def test_csv_list(tmp_path: Path) -> None:
    found = matcher(tmp_path, "feed.csv", CSV)
    assert hits(found, **{"source.ip": "203.0.113.8"}) == ["203.0.113.8"]
    assert hits(found, **{"url.domain": "api.c2.example"}) == ["c2.example"]
    assert hits(found, **{"url.full": "HTTPS://drop.example/x.php"}) == ["drop.example/x.php"]


def test_stix_bundle(tmp_path: Path) -> None:
    found = matcher(tmp_path, "bundle.json", json.dumps(STIX))
    assert hits(found, **{"source.ip": "203.0.113.9"}) == ["203.0.113.9"]
    assert hits(found, **{"source.ip": "203.0.113.10"}) == []  # revoked
    assert hits(found, **{"url.domain": "stix.example"}) == ["stix.example"]
    assert found.lists[0].skipped == 1  # the sigma-pattern indicator
    with pytest.raises(RuleError, match="STIX"):
        matcher(tmp_path, "broken.json", '{"type": "bundle"}')


def test_alerts_look_like_rule_alerts(tmp_path: Path) -> None:
    found = matcher(tmp_path, "cuc_attt.txt", TEXT, severity=Severity.critical, tags=["attack.t1071"])
    event = auth_event({"source.ip": "203.0.113.7"})
    [alert] = found.detect([event])
    assert alert.detector == "indicator" and alert.rule_id == "indicator:cuc-attt"
    assert alert.severity is Severity.critical and alert.tags == ["attack.t1071"]
    assert alert.event_ids == [event["event.id"]] and alert.agency == "binhdinh"
    assert alert.entities["source.ip"] == "203.0.113.7" and alert.rule_title_vi
    assert found.detect([event])[0].id == alert.id
