"""One incident that explains itself, and event search, in a real browser (headless Chromium through
Playwright) against a server on 127.0.0.1 seeded through the store: an anomaly's figures and chart, a
correlation's figures, the rule's description and response guide in both languages, ATT&CK names, alerts of
one rule shown once with a count, the timeline in words, tasks and observables edited on the page, the report
fields edited and saved, Discover with its histogram, the evidence link, and no sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from canhgac.api import create_app
from canhgac.core.config import load_settings
from canhgac.core.model import Alert, Severity, to_utc_iso, utcnow
from canhgac.storage.sqlite import SqliteStore

from tests.conftest import EXAMPLE_CONFIG
from tests.dashboards.browser_support import ARTIFACTS, CHROMIUM, served

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")

AGENCY = "quynhon"
SYSTEM = "cong-quynhon"
BRUTE_FORCE = "a5cae612-e8ff-4d26-9fb9-7f31837b82b4"
SSH_FAILURE = "f975ef48-5fd4-4ffc-a3a5-3ce9fb510013"
ANOMALY = "canhgac-anomaly-traffic"
ATTACKER = "203.0.113.50"
GUESSER = "198.51.100.7"
WINDOW_MINUTES = 5
ANOMALY_EVENTS = 40
BASELINE_EVENTS = 2  # in each of the 12 windows before


def _event(event_id: str, at: datetime, source: str, line: str, dataset: str) -> dict[str, Any]:
    return {"event.id": event_id, "@timestamp": to_utc_iso(at), "organization.id": AGENCY, "service.id": SYSTEM,
            "source.ip": source, "event.original": line, "event.dataset": dataset}


class Seeded:
    """What the server holds, and the incident numbers the grouping gave it."""

    def __init__(self, store: SqliteStore, app: Any) -> None:
        now = utcnow().replace(microsecond=0)
        self.window = now.replace(minute=now.minute - now.minute % WINDOW_MINUTES, second=0) - timedelta(minutes=30)
        width = timedelta(minutes=WINDOW_MINUTES)
        events = []
        for index in range(12):
            start = self.window - (12 - index) * width
            events += [_event(f"web-{index}-{n}", start + timedelta(seconds=30 + 60 * n), f"192.0.2.{n + 1}",
                              f'192.0.2.{n + 1} - - "GET /tin-tuc HTTP/1.1" 200 512', "nginx.access")
                       for n in range(BASELINE_EVENTS)]
        events += [_event(f"flood-{n}", self.window + timedelta(seconds=5 * n), "192.0.2.200",
                          f'192.0.2.200 - - "GET /?page={n} HTTP/1.1" 200 99', "nginx.access")
                   for n in range(ANOMALY_EVENTS)]
        self.brute_at = now - timedelta(minutes=20)
        brute_ids = [f"ssh-bf-{n}" for n in range(12)]
        events += [_event(event_id, self.brute_at + timedelta(seconds=10 * n), ATTACKER,
                          f"sshd[811]: Failed password for root from {ATTACKER} port 5{n:04d} ssh2", "system.auth")
                   for n, event_id in enumerate(brute_ids)]
        guess_ids = [f"ssh-g-{n}" for n in range(4)]
        events += [_event(event_id, now - timedelta(minutes=50 - n), GUESSER,
                          f"sshd[812]: Failed password for admin from {GUESSER} port 4{n:04d} ssh2", "system.auth")
                   for n, event_id in enumerate(guess_ids)]
        store.put_events(events)
        # the anomaly's chart: the agency's events from 12 windows before the window to 3 after it
        since, until = self.window - 12 * width, self.window + 4 * width
        self.anomaly_chart_total = sum(since <= datetime.fromisoformat(e["@timestamp"]) < until for e in events)

        common = {"agency": AGENCY, "system": SYSTEM, "created": now}
        anomaly = Alert(id="al-anomaly", detector="anomaly", rule_id=ANOMALY,
                        rule_title="Lưu lượng truy cập bất thường",
                        severity=Severity.high, first_seen=self.window, last_seen=self.window + width,
                        count=ANOMALY_EVENTS, tags=["attack.impact", "attack.t1498"], **common,
                        details={"window_start": to_utc_iso(self.window), "window_minutes": WINDOW_MINUTES,
                                 "anomaly_score": -0.1234, "features": [
                                     {"feature": "requests", "value": 40.0, "baseline": 2.0, "z": 26.98}]})
        brute = Alert(id="al-brute", detector="sigma", rule_id=BRUTE_FORCE, rule_title="SSH Brute Force",
                      rule_title_vi="Dò mật khẩu SSH (brute force)", severity=Severity.high,
                      entities={"source.ip": ATTACKER}, first_seen=self.brute_at,
                      last_seen=self.brute_at + timedelta(seconds=110), count=12, event_ids=brute_ids,
                      tags=["attack.credential_access", "attack.t1110.001"], **common,
                      details={"correlation": "event_count", "group": {"source.ip": ATTACKER}, "timespan": "5m",
                               "condition": "gte 10", "value": 12, "rules": [SSH_FAILURE], "evidence_total": 12})
        failures = [Alert(id=f"al-guess-{n}", detector="sigma", rule_id=SSH_FAILURE,
                          rule_title="SSH Authentication Failure", rule_title_vi="Đăng nhập SSH thất bại",
                          severity=Severity.low, entities={"source.ip": GUESSER},
                          first_seen=now - timedelta(minutes=50 - n), last_seen=now - timedelta(minutes=50 - n),
                          count=1, event_ids=[event_id], tags=["attack.credential_access", "attack.t1110"], **common)
                    for n, event_id in enumerate(guess_ids)]
        alerts = [anomaly, brute, *failures]
        store.put_alerts(alerts)
        changes = app.state.incidents.ingest_alerts(alerts)
        by_alert = {alert_id: change.incident.id for change in changes for alert_id in change.incident.alert_ids}
        self.anomaly, self.brute, self.guess = by_alert["al-anomaly"], by_alert["al-brute"], by_alert["al-guess-0"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    store = SqliteStore(tmp_path_factory.mktemp("detail") / "canhgac.db")
    app = create_app(load_settings(EXAMPLE_CONFIG), store)
    seeded = Seeded(store, app)
    with served(app) as url:
        yield url + "/", seeded
    store.close()


@pytest.fixture
def page(browser: Any, site: tuple[str, Seeded]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, timezone_id="Europe/Paris")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(site[0])
    opened.fill("#api-key", "demo-soc-analyst")
    opened.click("#signin-form button[type=submit]")
    opened.wait_for_selector("#views:not([hidden])")
    yield opened
    context.close()
    assert errors == []


def open_incident(page: Any, number: str) -> None:
    page.evaluate("(id) => { location.hash = `#incident/${encodeURIComponent(id)}`; }", number)
    expect(page.locator("#detail-title")).to_contain_text(number)
    page.wait_for_selector("#detail-body:not([hidden])")


def switch_language(page: Any, language: str) -> None:
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", language)


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def save_screenshot(page: Any, name: str, section: str | None = None) -> None:
    """The whole page, or (the detail scrolls inside its panel) the screen with one section brought into view."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if section:
        page.locator(section).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / name), full_page=section is None)


def test_an_anomaly_shows_its_figures_and_the_events_around_its_window(page: Any, site: tuple[str, Seeded]) -> None:
    seeded = site[1]
    open_incident(page, seeded.anomaly)
    numbers = page.locator("#detail-numbers")
    expect(numbers).to_contain_text("Bất thường lưu lượng")
    expect(numbers.locator(".feature-table")).to_contain_text("Số yêu cầu")
    cells = numbers.locator(".feature-table tbody tr").first.locator("td")
    expect(cells).to_have_text(["Số yêu cầu", "40", "2", "26,98"])  # Vietnamese decimal comma
    expect(numbers).to_contain_text(f"({WINDOW_MINUTES} phút)")
    chart = page.locator("#detail-chart")
    expect(chart).to_have_attribute("data-total", str(seeded.anomaly_chart_total))
    assert int(chart.get_attribute("data-buckets") or 0) >= 12
    expect(page.locator("#detail-rules")).to_contain_text("Lưu lượng truy cập bất thường")
    save_screenshot(page, "detail-anomaly.png", "#detail-numbers-section")
    switch_language(page, "en")
    expect(numbers.locator(".feature-table")).to_contain_text("Requests")
    expect(page.locator("#detail-rules")).to_contain_text("Unusual web traffic")
    switch_language(page, "vi")


def test_a_correlation_explains_its_rule_in_both_languages(page: Any, site: tuple[str, Seeded]) -> None:
    open_incident(page, site[1].brute)
    numbers = page.locator("#detail-numbers")
    for text in ("gte 10", "5m", f"source.ip = {ATTACKER}", "12"):
        expect(numbers).to_contain_text(text)
    rule = page.locator(f"#detail-rules article[data-rule='{BRUTE_FORCE}']")
    expect(rule).to_contain_text("Dò mật khẩu SSH (brute force)")
    expect(rule).to_contain_text("Chặn địa chỉ nguồn trên tường lửa")
    expect(rule).to_contain_text("mười lượt đăng nhập SSH thất bại")  # the rule file's description_vi
    expect(rule).to_contain_text("Tác vụ giám sát hoặc sao lưu")  # its falsepositives_vi
    attack = page.locator("#detail-attack")
    expect(attack).to_contain_text("T1110.001")
    expect(attack).to_contain_text("Password Guessing")
    expect(attack).to_contain_text("ATT&CK v")
    expect(page.locator("#detail-chart")).to_have_attribute("data-total", "12")
    save_screenshot(page, "detail-rules.png", "#detail-attack")
    switch_language(page, "en")
    expect(rule).to_contain_text("SSH Brute Force")
    expect(rule).to_contain_text("Block the source address at the firewall")
    expect(rule).to_contain_text("Ten or more failed SSH logins")  # the English description
    expect(rule).to_contain_text("A monitoring or backup job")  # and false-positive notes
    expect(numbers).to_contain_text("Condition")
    switch_language(page, "vi")


def test_alerts_of_one_rule_are_one_row_with_a_count(page: Any, site: tuple[str, Seeded]) -> None:
    open_incident(page, site[1].guess)
    rows = page.locator("#detail-alerts tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Đăng nhập SSH thất bại")
    expect(rows.first).to_contain_text("× 4")


def test_timeline_in_words_tasks_and_observables(page: Any, site: tuple[str, Seeded]) -> None:
    open_incident(page, site[1].guess)
    page.select_option("#action-state", "acknowledged")
    page.click("#action-transition")
    expect(page.locator("#detail-facts")).to_contain_text("Đã tiếp nhận")
    page.fill("#action-note", "Đã gọi quản trị viên <b>cổng</b>")
    page.click("#action-comment")
    timeline = page.locator("#detail-timeline")
    expect(timeline).to_contain_text("demo-soc-analyst chuyển trạng thái từ «Mới» sang «Đã tiếp nhận».")
    expect(timeline.locator("blockquote")).to_have_text("Đã gọi quản trị viên <b>cổng</b>")
    assert "{" not in timeline.inner_text()  # sentences, not JSON

    page.fill("#task-title", "Chặn địa chỉ trên tường lửa")
    page.fill("#task-assignee", "an.nguyen")
    page.click("#task-form button[type=submit]")
    task = page.locator("#detail-tasks li.task")
    expect(task).to_contain_text("Chặn địa chỉ trên tường lửa")
    task.locator("select.task-state").select_option("done")
    expect(page.locator("#detail-tasks li.task-done")).to_have_count(1)
    page.locator("#detail-tasks .task-edit").click()
    page.fill("#detail-tasks .task-title-input", "Chặn địa chỉ 198.51.100.7 trên tường lửa")
    page.locator("#detail-tasks .task-save").click()
    expect(task).to_contain_text("Chặn địa chỉ 198.51.100.7 trên tường lửa")
    expect(timeline).to_contain_text("thêm công việc «Chặn địa chỉ trên tường lửa»")
    expect(timeline).to_contain_text("Cần làm → Đã xong")

    page.select_option("#observable-type", "ip")
    page.fill("#observable-value", "198.51.100.99")
    page.fill("#observable-note", "cùng dải với nguồn dò mật khẩu")
    page.click("#observable-form button[type=submit]")
    observable = page.locator("#detail-observables li.observable")
    expect(observable.filter(has_text="198.51.100.99")).to_contain_text("cùng dải")
    page.select_option("#observable-type", "domain")
    page.fill("#observable-value", "xau.example")
    page.click("#observable-form button[type=submit]")
    expect(observable.filter(has_text="xau.example")).to_have_count(1)
    observable.filter(has_text="xau.example").locator(".observable-remove").click()
    expect(observable.filter(has_text="xau.example")).to_have_count(0)
    expect(timeline).to_contain_text("thêm đối tượng quan sát Địa chỉ IP 198.51.100.99")
    expect(timeline).to_contain_text("xóa đối tượng quan sát Tên miền xau.example")
    save_screenshot(page, "detail-timeline.png", "#detail-timeline")
    switch_language(page, "en")
    expect(timeline).to_contain_text("demo-soc-analyst moved the incident from “New” to “Acknowledged”.")
    switch_language(page, "vi")


def test_report_fields_are_editable_saved_and_printed(page: Any, site: tuple[str, Seeded]) -> None:
    open_incident(page, site[1].brute)
    page.click("#report-notice")
    page.wait_for_selector("#report-dialog[open]")
    frame = page.frame_locator("#report-frame")
    expect(frame.locator("h1")).to_contain_text("THÔNG BÁO SỰ CỐ")
    for name in ("reference", "date", "incident_type", "handling_result", "recommendations", "reporter_name",
                 "reporter_phone", "signer_name"):
        expect(frame.locator(f"[data-field='{name}']")).to_have_attribute("contenteditable", "true")
    expect(frame.locator("body")).to_contain_text("Số:")
    expect(frame.locator("body")).to_contain_text("(Ký, ghi rõ họ tên, đóng dấu)")
    frame.locator("[data-field='reference']").fill("15/TB-TTGS")
    frame.locator("[data-field='handling_result']").fill("Đã chặn 203.0.113.50 trên tường lửa")
    frame.locator("[data-field='recommendations']").fill("Tắt đăng nhập SSH bằng mật khẩu")
    frame.locator("[data-field='signer_name']").fill("Nguyễn Văn An")
    printed = frame.locator("body")
    expect(printed).to_contain_text("15/TB-TTGS")
    expect(printed).to_contain_text("Nguyễn Văn An")
    page.click("#report-save")
    expect(page.locator("#report-message")).to_contain_text("Đã lưu")
    save_screenshot(page, "report-draft.png")
    page.click("#report-close")
    stored = page.evaluate("""async (id) => (await fetch(`/api/v1/incidents/${id}`,
        { headers: { "X-API-Key": "demo-soc-analyst" } })).json()""", site[1].brute)
    assert stored["handling_result"] == "Đã chặn 203.0.113.50 trên tường lửa"
    assert stored["recommendations"] == "Tắt đăng nhập SSH bằng mật khẩu"
    page.click("#report-notice")
    expect(frame.locator("[data-field='handling_result']")).to_have_text("Đã chặn 203.0.113.50 trên tường lửa")


def test_discover_searches_with_chips_and_histogram(page: Any) -> None:
    page.click("#view-discover")
    expect(page.locator("#discover-view")).to_be_visible()
    page.fill("#discover-field", f"source.ip:{ATTACKER}")
    page.click("#discover-form button[type=submit]")
    expect(page.locator("#discover-chips .field-chip")).to_have_count(1)
    hits = page.locator("#discover-results li.hit")
    expect(hits).to_have_count(12)
    expect(page.locator("#discover-chart")).to_have_attribute("data-total", "12")
    page.fill("#discover-q", "port 50003")
    page.click("#discover-form button[type=submit]")
    expect(hits).to_have_count(1)
    hits.first.locator("summary").click()
    fields = hits.first.locator(".hit-fields")
    expect(fields).to_contain_text("source.ip")
    expect(fields).to_contain_text("system.auth")
    expect(hits.first.locator("pre")).to_contain_text(f"Failed password for root from {ATTACKER} port 50003")
    page.locator("#discover-chips .field-chip-remove").click()
    page.fill("#discover-q", "")
    page.click("#discover-form button[type=submit]")
    expect(hits).to_have_count(50)  # one page; the rest on demand
    expect(page.locator("#discover-more")).to_be_visible()
    page.click("#discover-more")
    expect(hits).to_have_count(16 + ANOMALY_EVENTS + 12 * BASELINE_EVENTS)
    save_screenshot(page, "discover.png")


def test_evidence_opens_its_surroundings_in_discover(page: Any, site: tuple[str, Seeded]) -> None:
    open_incident(page, site[1].brute)
    page.locator("#detail-evidence .around").first.click()
    expect(page.locator("#discover-view")).to_be_visible()
    expect(page.locator("#discover-chips .field-chip")).to_have_attribute("data-field", f"source.ip:{ATTACKER}")
    expect(page.locator("#discover-range")).to_have_value("custom")
    expect(page.locator("#discover-results li.hit")).to_have_count(12)
    # the first evidence event is the first failure; its range is typed in Vietnam's time whatever the
    # browser's zone (this one runs in Paris)
    vietnam = site[1].brute_at + timedelta(hours=7)
    typed = "%Y-%m-%dT%H:%M:%S"
    expect(page.locator("#discover-since")).to_have_value((vietnam - timedelta(minutes=5)).strftime(typed))
    expect(page.locator("#discover-until")).to_have_value((vietnam + timedelta(minutes=5)).strftime(typed))


@pytest.mark.parametrize("width", [1366, 414])
def test_detail_and_discover_fit_the_screen(page: Any, site: tuple[str, Seeded], width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_incident(page, site[1].brute)
    page.wait_for_selector("#detail-evidence article.event")
    no_sideways_scroll(page)
    save_screenshot(page, f"detail-{width}.png", "#detail-numbers-section")
    page.click("#view-discover")
    page.wait_for_selector("#discover-results li.hit")
    page.locator("#discover-results li.hit summary").first.click()
    no_sideways_scroll(page)
    save_screenshot(page, f"discover-{width}.png", "#discover-title")
