"""The page in a real browser (headless Chromium through Playwright), against a server on 127.0.0.1: sign in,
open an incident, acknowledge it, open its notice draft, look at the posture view; no console errors
(a CSP violation is one). Skipped where Playwright or Chromium is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.core.model import Alert, Severity, utcnow
from canhgac.storage.sqlite import SqliteStore

from tests.dashboards.browser_support import ARGS, CHROMIUM, served

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    store = SqliteStore(tmp_path / "canhgac.db")
    app = create_app(settings, store)
    now = utcnow()
    alert = Alert(id="al-1", rule_id="web-sqli", rule_title="Tấn công SQL injection", severity=Severity.high,
                  agency="quynhon", system="cong-quynhon", entities={"source.ip": "203.0.113.9"}, first_seen=now,
                  last_seen=now, created=now, tags=["attack.t1190"])
    store.put_alerts([alert])
    app.state.incidents.ingest_alerts([alert])
    with served(app) as url:
        yield url + "/"
    store.close()


def test_sign_in_acknowledge_report_and_posture(server: str, tmp_path: Path) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(server)
        page.fill("#api-key", "demo-soc-analyst")
        page.click("#signin-form button[type=submit]")
        page.click("tr[data-id='QNN-2026-000001']")
        page.wait_for_selector("#detail-actions:not([hidden])")
        assert "Quá hạn" in page.inner_text("#detail-clocks") or "Còn hạn" in page.inner_text("#detail-clocks")
        page.select_option("#action-state", "acknowledged")
        page.click("#action-transition")
        expect(page.locator("#detail-facts")).to_contain_text("Đã tiếp nhận")
        expect(page.locator("#detail-audit")).to_contain_text("transition:acknowledged")
        page.screenshot(path=str(tmp_path / "detail.png"))
        page.click("#report-notice")
        page.wait_for_selector("#report-dialog[open]")
        frame = page.frame_locator("#report-frame")
        expect(frame.locator("h1")).to_contain_text("THÔNG BÁO SỰ CỐ")
        page.screenshot(path=str(tmp_path / "report.png"))
        page.click("#report-close")
        page.click("#view-posture")
        expect(page.locator("#posture-open")).to_have_text("1")
        page.screenshot(path=str(tmp_path / "posture.png"), full_page=True)
        page.click("#lang-switch")
        expect(page.locator("#posture-title")).to_have_text("Security posture")
        browser.close()
    assert errors == []
