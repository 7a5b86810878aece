"""A behaviour (data-leak) incident in a real browser (headless Chromium through Playwright) against a server on
127.0.0.1 seeded through the store: the Vietnamese explanation, the findings in Vietnamese number format, the
SVG chart of the feature with its usual band and times in Vietnam, the response guide, the evidence events, the
English switch, and marking the alert as expected work with a suppression."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from canhgac.api import create_app
from canhgac.core.config import load_settings
from canhgac.core.model import Alert, Severity, to_utc_iso, utcnow
from canhgac.core.timeutil import VIETNAM
from canhgac.detectors.behaviour.rules import RULES
from canhgac.storage.sqlite import SqliteStore

from tests.conftest import EXAMPLE_CONFIG
from tests.dashboards.browser_support import ARTIFACTS, CHROMIUM, served

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")

AGENCY = "quynhon"
OFFICIAL = "nguyen.thi.lan"
RULE = RULES["canhgac-behaviour-volume"]
POINTS = 24
EXPLANATION_VI = "Cán bộ nguyen.thi.lan đã xuất 1.240 hồ sơ trong 1 giờ; mức thường 30 ± 12; cán bộ cùng bộ phận 25"
EXPLANATION_EN = "Official nguyen.thi.lan exported 1,240 dossiers in 1 hour; usual 30 ± 12; peers in the same unit 25"


class Seeded:
    def __init__(self, store: SqliteStore, app: Any) -> None:
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        self.window = now - timedelta(hours=1)
        self.window_label = self.window.astimezone(VIETNAM).strftime("%H:%M")
        hours = [self.window - timedelta(hours=POINTS - 1 - n) for n in range(POINTS)]
        points = [[to_utc_iso(at), 1240.0 if at == self.window else float(20 + n % 7), 30.0, 12.0]
                  for n, at in enumerate(hours)]
        evidence = [f"motcua-{n}" for n in range(3)]
        store.put_events([{"event.id": event_id, "@timestamp": to_utc_iso(self.window + timedelta(minutes=5 + n)),
                           "organization.id": AGENCY, "event.dataset": "onestop.audit", "user.name": OFFICIAL,
                           "event.action": "dossier-export", "source.ip": "203.0.113.77",
                           "event.original": f"EXPORT {400 + n} ho so H08.31-261122-{n:04d} by {OFFICIAL}"}
                          for n, event_id in enumerate(evidence)])
        details = {
            "entity": {"kind": "official", "id": OFFICIAL, "name": "Nguyễn Thị Lan", "unit": "000.11.31.H08",
                       "role": None, "system": "motcua-quynhon"},
            "window": {"start": to_utc_iso(self.window), "end": to_utc_iso(now), "size": "hour"},
            "detected_at": to_utc_iso(now + timedelta(minutes=10)),
            "findings": [{"feature": "exports", "value": 1240, "baseline_mean": 30.0, "baseline_std": 12.0,
                          "peer_median": 25.0, "z": 100.8, "ratio": 41.3},
                         {"feature": "records", "value": 1180, "baseline_mean": 41.5, "baseline_std": 10.25,
                          "peer_median": None, "z": 111.07, "ratio": 28.43}],
            "multivariate_score": -0.2113, "new_networks": ["203.0.113.0/24"], "new_devices": 1,
            "explanation_vi": EXPLANATION_VI, "explanation_en": EXPLANATION_EN,
            "series": {"feature": "exports", "step": "hour", "points": points},
            "incident_categories": ["personal_data_leak"], "feedback": None}
        alert = Alert(id="bh-lan", detector="behaviour", rule_id=RULE.id, rule_title=RULE.title,
                      rule_title_vi=RULE.title_vi, grouping="user", severity=Severity.high, agency=AGENCY,
                      system="motcua-quynhon", entities={"user.name": OFFICIAL}, first_seen=self.window,
                      last_seen=now, count=1240, event_ids=evidence, details=details, tags=list(RULE.tags))
        store.put_alerts([alert])
        [change] = app.state.incidents.ingest_alerts([alert])
        self.incident = change.incident.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded, SqliteStore]]:
    store = SqliteStore(tmp_path_factory.mktemp("behaviour") / "canhgac.db")
    app = create_app(load_settings(EXAMPLE_CONFIG), store)
    seeded = Seeded(store, app)
    with served(app) as url:
        yield url + "/", seeded, store
    store.close()


@pytest.fixture
def page(browser: Any, site: tuple[str, Seeded, SqliteStore]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, timezone_id="Europe/Paris")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(site[0])
    opened.fill("#api-key", "demo-soc-analyst")
    opened.click("#signin-form button[type=submit]")
    opened.wait_for_selector("#views:not([hidden])")
    opened.evaluate("(id) => { location.hash = `#incident/${encodeURIComponent(id)}`; }", site[1].incident)
    opened.wait_for_selector("#detail-body:not([hidden])")
    yield opened
    context.close()
    assert errors == []


def switch_language(page: Any, language: str) -> None:
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_alert_explains_itself_with_its_numbers_chart_and_guide(page: Any, site: Any) -> None:
    seeded = site[1]
    box = page.locator("#detail-behaviour")
    expect(box.locator(".behaviour-explanation")).to_have_text(EXPLANATION_VI)
    expect(box.locator(".behaviour-findings tbody tr").first.locator("td")).to_have_text(
        ["Hồ sơ đã xuất", "1.240", "30 ± 12", "25", "41,3 lần"])
    expect(box.locator(".behaviour-findings tbody tr").nth(1).locator("td")).to_have_text(
        ["Hồ sơ khác nhau", "1.180", "41,5 ± 10,3", "—", "28,4 lần"])
    for text in ("203.0.113.0/24", "000.11.31.H08", "Nguyễn Thị Lan"):
        expect(box).to_contain_text(text)
    chart = box.locator("svg.behaviour-svg")
    expect(chart).to_have_attribute("data-points", str(POINTS))
    expect(chart.locator("circle.point")).to_have_count(POINTS)
    expect(chart.locator("circle.point.window")).to_have_attribute("data-value", "1240")
    expect(chart.locator("polygon.band")).to_have_count(1)
    expect(chart.locator("text.tick").last).to_have_text(seeded.window_label)  # Vietnam's hour, not Paris's
    rule = page.locator(f"#detail-rules article[data-rule='{RULE.id}']")
    expect(rule).to_contain_text(RULE.title_vi)
    for text in ("Gọi điện xác minh với cán bộ", "tạm khóa tài khoản", "Kiểm tra nơi nhận tệp đã xuất", "LGSP/NGSP"):
        expect(rule).to_contain_text(text)
    expect(page.locator("#detail-evidence")).to_contain_text("EXPORT 400 ho so H08.31-261122-0000")
    expect(page.locator("#detail-clocks")).to_contain_text("Thông báo vi phạm dữ liệu cá nhân (72 giờ)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "detail-behaviour.png"))
    rule.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "detail-behaviour-guide.png"))
    switch_language(page, "en")
    expect(box.locator(".behaviour-explanation")).to_have_text(EXPLANATION_EN)
    expect(box.locator(".behaviour-findings tbody tr").first.locator("td")).to_have_text(
        ["Dossiers exported", "1,240", "30 ± 12", "25", "41.3×"])
    expect(rule).to_contain_text(RULE.title)
    switch_language(page, "vi")


def test_the_analyst_marks_the_alert_as_expected_work(page: Any, site: Any) -> None:
    store: SqliteStore = site[2]
    box = page.locator("#detail-behaviour")
    box.get_by_role("button", name="Đánh dấu là công việc bình thường").click()
    form = box.locator("form.feedback-form")
    expect(form.locator("textarea")).to_have_attribute("placeholder", "Ví dụ: đợt cao điểm cấp đổi giấy tờ")
    form.get_by_role("button", name="Ghi nhận").click()
    expect(form.locator(".message")).to_have_text("Hãy nhập lý do.")
    form.locator("textarea").fill("đợt cao điểm cấp đổi giấy tờ")
    form.locator("select").select_option("7")
    form.get_by_role("button", name="Ghi nhận").click()
    done = box.locator(".behaviour-feedback.done")
    expect(done).to_contain_text("Đã đánh dấu là công việc bình thường")
    expect(done).to_contain_text("đợt cao điểm cấp đổi giấy tờ")
    expect(done).to_contain_text("demo-soc-analyst")
    expect(done).to_contain_text("tạm ẩn đến")
    expect(box.get_by_role("button", name="Đánh dấu là công việc bình thường")).to_have_count(0)
    done.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "detail-behaviour-feedback.png"))
    [suppression] = store.list_suppressions()
    assert suppression.rule_id == RULE.id and suppression.entities == {"user.name": OFFICIAL}
    assert timedelta(days=6, hours=23) < suppression.expires - utcnow() <= timedelta(days=7)
