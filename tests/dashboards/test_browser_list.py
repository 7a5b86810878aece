"""The incident list, the overview and the posture trends in a real browser (headless Chromium through
Playwright) against one server on 127.0.0.1 with 230 incidents: paging past 200 with the total shown, each
filter, search, sorting, a list that keeps its place while incidents arrive, bulk actions, charts drawn from
live data, the English switch, and the 1366 px / 414 px layouts. Screenshots go to test-artifacts/dashboards/.
Expectations are computed here from what was seeded and from the API, never copied from the page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from canhgac.api import create_app
from canhgac.core.config import EXAMPLE_CONFIG, load_settings
from canhgac.core.directory import Directory
from canhgac.core.model import Alert, Severity, utcnow
from canhgac.storage.sqlite import SqliteStore

from tests.dashboards.browser_support import ARTIFACTS, CHROMIUM, served

KEY = "demo-soc-analyst"
SEEDED = 230
OLD = 20  # incidents last seen three days ago
SEVERITIES = [Severity.low, Severity.medium, Severity.high, Severity.critical]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")


@dataclass
class Site:
    url: str
    api: httpx.Client
    app: Any
    now: datetime
    old_seen: datetime
    rules: list[dict[str, Any]]
    systems: list[tuple[str, str]]
    alerts: list[Alert] = field(default_factory=list)

    def incidents(self, **params: Any) -> list[dict[str, Any]]:
        """Every incident the API lists with these filters, through all its pages."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            answer = self.api.get("/api/v1/incidents", params={**params, **page})
            answer.raise_for_status()
            found += answer.json()
            cursor = answer.headers.get("X-Next-Cursor")
            if not cursor:
                return found

    def alert(self, ip: str, severity: Severity, rule: dict[str, Any], system: tuple[str, str],
              seen: datetime) -> Alert:
        made = Alert(id=f"al-{len(self.alerts) + 1}", rule_id=rule["id"], rule_title=rule["title"],
                     rule_title_vi=rule.get("title_vi"), severity=severity, agency=system[1], system=system[0],
                     entities={"source.ip": ip}, first_seen=seen, last_seen=seen, created=seen)
        self.alerts.append(made)
        return made


def _seed(site: Site) -> None:
    alerts = []
    for i in range(SEEDED):
        seen = site.old_seen if i < OLD else site.now - timedelta(seconds=30 + i)
        rule = site.rules[i % len(site.rules)]
        extra = 3 if 100 <= i < 105 else 1  # five incidents of three alerts each
        for _ in range(extra):
            alerts.append(site.alert(f"203.0.{113 + i // 200}.{i % 200 + 1}", SEVERITIES[(i * 7) % 11 % 4], rule,
                                     site.systems[i % len(site.systems)], seen))
    site.app.state.store.put_alerts(alerts)
    site.app.state.incidents.ingest_alerts(alerts)
    hour_ago = site.now - timedelta(hours=1)
    recent = [i for i in site.incidents(sort="id") if datetime.fromisoformat(i["last_seen"]) > hour_ago]
    for incident in recent[:3]:
        etag = site.api.get(f"/api/v1/incidents/{incident['id']}").headers["ETag"]
        site.api.patch(f"/api/v1/incidents/{incident['id']}", json={"assignee": "nguyen.van.an"},
                       headers={"If-Match": etag}).raise_for_status()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = load_settings(EXAMPLE_CONFIG)
    store = SqliteStore(tmp_path_factory.mktemp("list") / "canhgac.db")
    app = create_app(settings, store)
    with served(app) as url, httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30) as client:
        rules = [r for r in client.get("/api/v1/rules").json() if r.get("detector", "sigma") == "sigma"][:3]
        systems = [(s.id, s.agency) for s in Directory(settings).systems.values()][:4]
        now = utcnow()
        made = Site(url=url, api=client, app=app, now=now, old_seen=now - timedelta(days=3), rules=rules,
                    systems=systems)
        _seed(made)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield made
    store.close()


@pytest.fixture
def page(site: Site, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(opened, site.url + "/")
    yield opened
    context.close()
    assert errors == []


def sign_in(page: Any, url: str) -> None:
    page.goto(url)
    page.fill("#api-key", KEY)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#views:not([hidden])")


def shown_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all("#incident-rows tr[data-id]", "rows => rows.map(r => r.dataset.id)")


def wait_for_list(page: Any, count: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('#incident-rows tr[data-id]').length === n", arg=count)


def no_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


LIST_FITS = "(() => { const list = document.querySelector('.list'); return list.scrollWidth <= list.clientWidth; })()"


def chart(page: Any, canvas: str) -> dict[str, Any]:
    page.wait_for_function("id => window.Chart && Chart.getChart(document.getElementById(id))", arg=canvas)
    return page.evaluate("""id => { const c = Chart.getChart(document.getElementById(id));
        return { labels: c.data.labels, datasets: c.data.datasets.map(d => ({ label: d.label, data: d.data })) }; }""",
                         canvas)


def test_pages_past_200_with_the_total_shown(site: Site, page: Any) -> None:
    total = len(site.incidents())
    assert total >= SEEDED
    wait_for_list(page, 100)
    expect(page.locator("#count")).to_contain_text(f"100/{total}")
    page.click("#list-more")
    wait_for_list(page, 200)
    page.click("#list-more")
    wait_for_list(page, total)
    expect(page.locator("#count")).to_contain_text(f"{total}/{total}")
    expect(page.locator("#list-more")).to_be_hidden()
    ids = shown_ids(page)
    assert len(set(ids)) == total and set(ids) == {i["id"] for i in site.incidents()}
    page.screenshot(path=str(ARTIFACTS / "list-1366.png"))


def check_filter(page: Any, site: Site, expected: list[dict[str, Any]]) -> None:
    assert 0 < len(expected) <= 100, len(expected)
    wait_for_list(page, len(expected))
    assert set(shown_ids(page)) == {i["id"] for i in expected}


def test_each_filter_and_the_address_keeps_them(site: Site, page: Any) -> None:
    everything = site.incidents()
    page.click("#filter-severity button[data-severity=critical]")
    check_filter(page, site, [i for i in everything if i["severity"] == "critical"])
    page.click("#filter-severity button[data-severity=critical]")
    page.select_option("#filter-state", "open")
    page.select_option("#filter-system", site.systems[1][0])
    check_filter(page, site, [i for i in everything if i["system"] == site.systems[1][0] and
                              i["state"] in ("new", "acknowledged", "investigating", "contained")])
    page.reload()
    page.wait_for_selector("#views:not([hidden])")
    expect(page.locator("#filter-system")).to_have_value(site.systems[1][0])
    expect(page.locator("#filter-state")).to_have_value("open")
    page.click("#filter-reset")
    agency = next(a for _, a in site.systems if 0 < len(site.incidents(agency=a)) <= 100)
    page.select_option("#filter-agency", agency)
    check_filter(page, site, site.incidents(agency=agency))
    page.select_option("#filter-agency", "")
    rule = site.rules[2]
    label = page.eval_on_selector(f"#filter-rule option[value='{rule['id']}']", "o => o.textContent")
    assert label == (rule.get("title_vi") or rule["title"])  # a name, never the rule's UUID
    page.select_option("#filter-rule", label=label)
    page.select_option("#filter-range", "7d")
    check_filter(page, site, [i for i in everything if i["rule_id"] == rule["id"]])
    page.select_option("#filter-rule", "")
    page.select_option("#filter-range", "custom")
    vietnam = site.old_seen + timedelta(hours=7)
    page.fill("#filter-from", (vietnam - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#filter-to", (vietnam + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    day_ago = site.now - timedelta(days=1)
    check_filter(page, site, [i for i in everything if datetime.fromisoformat(i["last_seen"]) < day_ago])
    assert len(shown_ids(page)) == OLD
    page.select_option("#filter-range", "1h")
    page.fill("#filter-assignee", "nguyen.van.an")
    check_filter(page, site, [i for i in everything if i["assignee"] == "nguyen.van.an" and
                              datetime.fromisoformat(i["last_seen"]) > site.now - timedelta(hours=1)])
    page.reload()
    page.wait_for_selector("#views:not([hidden])")
    expect(page.locator("#filter-assignee")).to_have_value("nguyen.van.an")
    expect(page.locator("#filter-range")).to_have_value("1h")


def test_search_by_address_and_by_number(site: Site, page: Any) -> None:
    target = site.incidents()[57]
    page.fill("#filter-q", target["entities"]["source.ip"])
    check_filter(page, site, [target])
    page.fill("#filter-q", target["id"].lower())
    check_filter(page, site, [target])
    assert "q=" in page.url


def test_sorting_by_clicking_the_headers(site: Site, page: Any) -> None:
    wait_for_list(page, 100)
    page.click("#incident-table th[data-sort=alert_count] button")
    page.wait_for_function("() => document.querySelector('#incident-rows tr .col-alerts')?.textContent === '3'")
    expect(page.locator("#incident-table th[data-sort=alert_count]")).to_have_attribute("aria-sort", "descending")
    page.click("#incident-table th[data-sort=id] button")
    first = min(i["id"] for i in site.incidents())
    expect(page.locator("#incident-rows tr").first).to_have_attribute("data-id", first)
    assert "sort=id" in page.url


def test_the_list_keeps_its_place_while_incidents_arrive(site: Site, page: Any) -> None:
    wait_for_list(page, 100)
    before = shown_ids(page)
    arriving = [site.alert(f"198.51.100.{n}", Severity.high, site.rules[0], site.systems[0], utcnow())
                for n in range(1, 4)]
    site.app.state.store.put_alerts(arriving)
    site.app.state.incidents.ingest_alerts(arriving)
    expect(page.locator("#list-fresh")).to_contain_text("3 sự cố mới", timeout=15000)
    assert shown_ids(page) == before
    page.click("#list-fresh")
    page.wait_for_function("() => document.querySelector('#list-fresh').hidden")
    newest = {i["id"] for i in site.incidents() if i["entities"].get("source.ip", "").startswith("198.51.100.")}
    assert set(shown_ids(page)[:3]) == newest


def test_bulk_acknowledge_and_close_with_one_reason(site: Site, page: Any) -> None:
    page.select_option("#filter-state", "new")
    page.wait_for_function("() => document.querySelectorAll('#incident-rows tr[data-id]').length > 5")
    first, second, third = shown_ids(page)[:3]
    for incident_id in (first, second):
        page.check(f"#incident-rows tr[data-id='{incident_id}'] input.pick")
    expect(page.locator("#bulk-count")).to_contain_text("2")
    page.fill("#bulk-reason", "Đã kiểm tra, tiếp nhận hàng loạt")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-result")).to_contain_text("2/2")
    for incident_id in (first, second):
        detail = site.api.get(f"/api/v1/incidents/{incident_id}").json()
        assert detail["state"] == "acknowledged"
        assert any("tiếp nhận hàng loạt" in str(entry) for entry in detail["audit"]), detail["audit"]
    etag = site.api.get(f"/api/v1/incidents/{third}").headers["ETag"]
    site.api.post(f"/api/v1/incidents/{third}/transition", json={"state": "closed", "resolution": "benign"},
                  headers={"If-Match": etag}).raise_for_status()
    page.select_option("#filter-state", "")
    page.wait_for_function("() => document.querySelectorAll('#incident-rows tr[data-id]').length === 100")
    for incident_id in (first, second, third):
        page.check(f"#incident-rows tr[data-id='{incident_id}'] input.pick")
    page.select_option("#bulk-action", "close")
    page.select_option("#bulk-resolution", "false_positive")
    page.fill("#bulk-reason", "Cảnh báo nhầm do quét nội bộ")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-result")).to_contain_text("2/3")
    expect(page.locator("#bulk-result li")).to_contain_text(third)
    assert [site.api.get(f"/api/v1/incidents/{i}").json()["state"] for i in (first, second)] == ["closed", "closed"]
    page.screenshot(path=str(ARTIFACTS / "bulk-1366.png"))
    page.click("#bulk-clear")
    page.check("#pick-all")
    expect(page.locator("#bulk-count")).to_contain_text(str(len(shown_ids(page))))
    page.click("#bulk-clear")
    fourth = shown_ids(page)[5]
    page.check(f"#incident-rows tr[data-id='{fourth}'] input.pick")
    page.select_option("#bulk-action", "assign")
    page.fill("#bulk-assignee", "tran.thi.binh")
    page.fill("#bulk-reason", "Chuyển cho ca trực đêm")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-result")).to_contain_text("1/1")
    assert site.api.get(f"/api/v1/incidents/{fourth}").json()["assignee"] == "tran.thi.binh"


def test_overview_charts_come_from_live_data_and_lead_into_the_list(site: Site, page: Any) -> None:
    page.click("#view-overview")
    overview = site.api.get("/api/v1/overview").json()
    histogram = chart(page, "chart-histogram")
    assert [d["label"] for d in histogram["datasets"]] == ["Thấp", "Trung bình", "Cao", "Nghiêm trọng"]
    for dataset, severity in zip(histogram["datasets"], ["low", "medium", "high", "critical"], strict=True):
        assert sum(dataset["data"]) == sum(b[severity] for b in overview["alerts"]["histogram"])
    recent = sum(1 for a in site.alerts if a.last_seen > utcnow() - timedelta(hours=24))
    assert sum(sum(d["data"]) for d in histogram["datasets"]) == overview["alerts"]["total"] == recent
    rules = chart(page, "chart-rules")
    assert rules["labels"] == [r.get("title_vi") or r["title"] for r in overview["top_rules"]]
    assert sum(rules["datasets"][0]["data"]) == sum(r["count"] for r in overview["top_rules"]) > 0
    systems = chart(page, "chart-systems")
    assert systems["datasets"][0]["data"] == [s["count"] for s in overview["top_systems"]]
    expect(page.locator("#overview-sources li")).to_have_count(len(overview["top_sources"]))
    page.screenshot(path=str(ARTIFACTS / "overview-1366.png"), full_page=True)
    point = page.evaluate("""() => { const c = Chart.getChart(document.getElementById('chart-rules'));
        const bar = c.getDatasetMeta(0).data[0]; const box = c.canvas.getBoundingClientRect();
        return [box.left + bar.x - 5, box.top + bar.y]; }""")
    page.mouse.click(*point)
    expect(page.locator("#incidents-view")).to_be_visible()
    assert page.input_value("#filter-rule") == overview["top_rules"][0]["rule_id"]
    page.click("#view-overview")
    source = overview["top_sources"][0]["value"]
    page.click(f"#overview-sources button[data-value='{source}']")
    assert page.input_value("#filter-q") == source
    wait_for_list(page, 1)
    assert site.incidents(q=source)[0]["id"] == shown_ids(page)[0]
    page.click("#view-overview")
    page.click("#overview-severity .tile-critical")
    expect(page.locator("#filter-severity button[data-severity=critical]")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => document.querySelectorAll('#incident-rows tr[data-id]').length > 0")
    assert set(page.eval_on_selector_all("#incident-rows .badge", "b => b.map(x => x.textContent)")) == {"Nghiêm trọng"}


def test_posture_trends_by_week(site: Site, page: Any) -> None:
    page.click("#view-posture")
    weeks = site.api.get("/api/v1/posture", params={"days": 84}).json()["weeks"]
    assert len(weeks) >= 8
    incidents = chart(page, "chart-posture-incidents")
    assert incidents["datasets"][0]["data"] == [w["opened"] for w in weeks]
    assert incidents["datasets"][1]["data"] == [w["open_at_end"] for w in weeks]
    times = chart(page, "chart-posture-times")
    assert times["datasets"][1]["data"] == [w["mttr_hours"] for w in weeks]
    page.screenshot(path=str(ARTIFACTS / "posture-1366.png"), full_page=True)


def test_the_english_switch(site: Site, page: Any) -> None:
    page.click("#view-overview")
    chart(page, "chart-histogram")
    page.click("#lang-switch")
    expect(page.locator("#view-overview")).to_have_text("Overview")
    assert [d["label"] for d in chart(page, "chart-histogram")["datasets"]] == ["Low", "Medium", "High", "Critical"]
    page.screenshot(path=str(ARTIFACTS / "overview-en-1366.png"))
    page.click("#view-incidents")
    expect(page.locator("#count")).to_contain_text("Showing")
    expect(page.locator("#filter-severity button[data-severity=high]")).to_have_text("High")
    expect(page.locator("#incident-table th[data-sort=last_seen]")).to_contain_text("Last seen")
    assert "Tất cả" not in page.inner_text("#filters")
    page.screenshot(path=str(ARTIFACTS / "list-en-1366.png"))


@pytest.mark.parametrize("width", [1366, 414])
def test_layouts_have_no_sideways_scrolling(site: Site, page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    wait_for_list(page, 100)
    no_overflow(page)
    assert page.evaluate(LIST_FITS)
    page.screenshot(path=str(ARTIFACTS / f"list-{width}.png"))
    page.click("#incident-rows tr[data-id] td.col-title")
    page.wait_for_selector("#detail:not([hidden])")
    no_overflow(page)
    assert page.evaluate(LIST_FITS)
    page.screenshot(path=str(ARTIFACTS / f"list-detail-{width}.png"))
    for view in ("overview", "posture"):
        page.click(f"#view-{view}")
        page.wait_for_selector(f"#{view}-view:not([hidden])")
        page.wait_for_timeout(300)
        no_overflow(page)
        page.screenshot(path=str(ARTIFACTS / f"{view}-{width}.png"), full_page=True)


def test_dissolved_units_say_what_they_became_part_of(site: Site, page: Any) -> None:
    page.click("#view-incidents")
    binhdinh = page.locator("#filter-agency option[value=binhdinh]")
    expect(binhdinh).to_contain_text(
        "Ủy ban nhân dân tỉnh Bình Định (đã giải thể, nay thuộc Ủy ban nhân dân tỉnh Gia Lai)")
    expect(page.locator("#filter-agency option[value=gialai]")).not_to_contain_text("giải thể")
    order = page.eval_on_selector_all("#filter-agency option", "options => options.map(o => o.value)")
    assert order.index("gialai") < order.index("binhdinh")  # listed under its successor
    page.click("#lang-switch")
    expect(binhdinh).to_contain_text("(dissolved, now part of Gia Lai Provincial People's Committee)")
    page.click("#lang-switch")
