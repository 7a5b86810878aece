"""Report drafts (incident notice, breach notice) and monitoring reports, as JSON and printable Vietnamese HTML."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from canhgac.core.model import Alert, Severity
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, BINHDINH, NOW, QUYNHON, FrozenClock, etag, ok, open_incident


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_incident_notice_draft_json_and_html(client: TestClient, clock: FrozenClock) -> None:
    created = open_incident(client, agency="vpcp", system="cdvc", title="<script>alert(1)</script> lộ dữ liệu",
                            categories=["personal_data_leak"], detected_at=(NOW - timedelta(hours=1)).isoformat())
    number = created.json()["id"]
    client.patch(f"/api/v1/incidents/{number}", json={"handling_result": "Đã chặn IP, vá lỗi",
                                                      "recommendations": "Rà soát mã nguồn"},
                 headers={**ANALYST, "If-Match": etag(created)})
    url = f"/api/v1/incidents/{number}/reports/incident-notice"
    notice = ok(client.get(url, headers=ANALYST))
    assert notice["number"] == number and notice["form"].endswith("Thông tư 20/2017/TT-BTTTT")
    assert notice["system"] == {"id": "cdvc", "name": "Cổng Dịch vụ công quốc gia", "security_level": 4,
                                "domains": ["dichvucong.gov.vn"], "ip_addresses": ["10.10.0.0/24"],
                                "owner": "Văn phòng Chính phủ", "operator": "Văn phòng Chính phủ"}
    assert notice["detected_at"] == "2026-11-23T01:00:00Z" and notice["deadline"] == "2026-11-28T01:00:00Z"
    assert notice["serious"] is True and notice["handling_result"] == "Đã chặn IP, vá lỗi"
    assert notice["reporter"]["organization"].startswith("Trung tâm giám sát")
    html = client.get(url + "?format=html", headers=ANALYST)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<script>" not in html.text and "&lt;script&gt;" in html.text
    parsed = _Text()
    parsed.feed(html.text)
    text = " ".join(parsed.text)
    for label in ("THÔNG BÁO SỰ CỐ", "Tên hệ thống thông tin", "Chủ quản hệ thống thông tin",
                  "Đơn vị vận hành hệ thống thông tin", "Thời điểm phát hiện", "Kết quả xử lý", "Kiến nghị",
                  "23/11/2026 08:00:00 (GMT+7)", "dichvucong.gov.vn"):
        assert label in text, label
    assert "script" not in parsed.tags and "link" in parsed.tags


def test_breach_notice_items(client: TestClient) -> None:
    created = open_incident(client, categories=["personal_data_leak"])
    number = created.json()["id"]
    breach = {"occurred_at": "2026-11-22T20:00:00Z", "place": "Hệ thống một cửa", "act": "Truy xuất trái phép",
              "data_types": ["họ tên", "số định danh cá nhân"], "records_affected": 12000,
              "consequences": "Lộ thông tin công dân", "mitigation": "Khóa tài khoản", "contact": "0256 3822 222"}
    patched = client.patch(f"/api/v1/incidents/{number}", json={"breach": breach},
                           headers={**QUYNHON, "If-Match": etag(created)})
    assert ok(patched)["breach"]["records_affected"] == 12000
    notice = ok(client.get(f"/api/v1/incidents/{number}/reports/breach-notice", headers=QUYNHON))
    assert notice["nature"]["data_types"] == ["họ tên", "số định danh cá nhân"]
    assert notice["nature"]["act"] == "Truy xuất trái phép" and notice["contact"] == "0256 3822 222"
    assert notice["deadline"] == "2026-11-26T02:00:00Z"  # 72 hours from detection
    html = client.get(f"/api/v1/incidents/{number}/reports/breach-notice?format=html", headers=QUYNHON).text
    for label in ("VI PHẠM DỮ LIỆU CÁ NHÂN", "Bản chất của vi phạm", "Loại dữ liệu cá nhân", "12000",
                  "Biện pháp đã và sẽ thực hiện"):
        assert label in html


def test_monitoring_reports_daily_and_weekly(client: TestClient) -> None:
    def alert(n: int, agency: str, system: str | None, ip: str, days: int, tags: list[str]) -> Alert:
        seen = NOW - timedelta(days=days)
        return Alert(id=f"al-{n}", rule_id="web-sqli", rule_title="Tấn công SQL injection", severity=Severity.high,
                     agency=agency, system=system, entities={"source.ip": ip}, first_seen=seen, last_seen=seen,
                     created=seen, count=n, tags=tags)

    alerts = [alert(1, "binhdinh", "dvc-binhdinh", "203.0.113.1", 0, ["attack.t1190"]),
              alert(2, "quynhon", "cong-quynhon", "203.0.113.1", 0, ["attack.t1190", "attack.t1595"]),
              alert(3, "binhdinh", "dvc-binhdinh", "198.51.100.2", 2, ["attack.t1595"]),
              alert(4, "phuyen", "dvc-phuyen", "192.0.2.4", 0, ["attack.t1190"])]
    client.app.state.store.put_alerts(alerts)  # type: ignore[attr-defined]
    client.app.state.incidents.ingest_alerts(alerts)  # type: ignore[attr-defined]
    client.app.state.store.refresh()  # type: ignore[attr-defined]
    daily = ok(client.get("/api/v1/reports/monitoring?day=2026-11-23", headers=BINHDINH))
    assert daily["start"] == "2026-11-22T17:00:00Z" and daily["end"] == "2026-11-23T17:00:00Z"
    assert daily["alerts_total"] == 3 and daily["agency"] == "binhdinh"
    assert daily["targets"] == [{"key": "Cổng thông tin điện tử thành phố Quy Nhơn", "count": 2},
                                {"key": "Cổng dịch vụ công tỉnh Bình Định", "count": 1}]
    assert daily["techniques"] == [{"key": "T1190", "count": 3}, {"key": "T1595", "count": 2}]
    assert daily["sources"] == [{"key": "203.0.113.1", "count": 3}]
    assert sorted(i["id"] for i in daily["incidents_opened"]) == ["BDH-2026-000001", "QNN-2026-000001"]
    weekly = ok(client.get("/api/v1/reports/monitoring?day=2026-11-23&period=weekly", headers=BINHDINH))
    assert weekly["start"] == "2026-11-22T17:00:00Z"  # Monday 23 November, local time
    everything = ok(client.get("/api/v1/reports/monitoring?day=2026-11-21&period=weekly", headers=ANALYST))
    assert everything["alerts_total"] == 3 and everything["start"] == "2026-11-15T17:00:00Z"
    html = client.get("/api/v1/reports/monitoring?day=2026-11-23&format=html", headers=BINHDINH).text
    assert "BÁO CÁO NGÀY GIÁM SÁT" in html and "Mục tiêu bị tấn công" in html and "192.0.2.4" not in html
