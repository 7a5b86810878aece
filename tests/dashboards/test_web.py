"""The page: served by the app, Vietnamese first, both dictionaries complete, nothing loaded from elsewhere."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.dashboards import WEB_DIR
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

GLOSSARY = {
    "soc.name": "Trung tâm giám sát, điều hành an toàn, an ninh mạng",
    "severity.low": "thấp", "severity.medium": "trung bình", "severity.high": "cao",
    "severity.critical": "nghiêm trọng",
    "state.new": "mới", "state.acknowledged": "đã tiếp nhận", "state.investigating": "đang xử lý",
    "state.contained": "đã ngăn chặn", "state.resolved": "đã khắc phục", "state.closed": "đã đóng",
    "resolution.true_positive": "tấn công thật", "resolution.false_positive": "cảnh báo nhầm",
    "resolution.benign": "hoạt động hợp lệ", "resolution.duplicate": "trùng lặp",
    "col.agency": "cơ quan, đơn vị", "col.system": "hệ thống thông tin", "incidents.empty": "Chưa có sự cố nào",
    "posture.title": "tình trạng an toàn thông tin", "clock.status.overdue": "quá hạn", "detail.clocks": "thời hạn",
    "serious.yes": "sự cố nghiêm trọng", "clock.acknowledge": "tiếp nhận",
}
SCRIPTS = sorted(p.name for p in WEB_DIR.glob("*.js"))


@pytest.fixture
def client(settings: Settings, sqlite_store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, sqlite_store)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def dictionaries() -> dict[str, dict[str, str]]:
    return json.loads((WEB_DIR / "i18n.json").read_text(encoding="utf-8"))


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        for name in ("data-i18n", "data-i18n-label"):
            if values.get(name):
                self.keys.add(str(values[name]))
        if values.get("id"):
            self.ids.add(str(values["id"]))
        self.urls += [str(values[name]) for name in ("src", "href") if values.get(name)]


def parsed_index() -> _Collector:
    collector = _Collector()
    collector.feed((WEB_DIR / "index.html").read_text(encoding="utf-8"))
    return collector


def test_index_is_served_in_vietnamese(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="vi">' in html
    for text in ("Trung tâm giám sát, điều hành an toàn, an ninh mạng", "Đăng nhập", "Khóa API", "Mức độ",
                 "Trạng thái", "Cơ quan, đơn vị", "Hệ thống thông tin", "Chưa có sự cố nào"):
        assert text in html
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(("name", "media"), [*((n, "javascript") for n in SCRIPTS),
                                             ("i18n.json", "application/json"), ("style.css", "text/css"),
                                             ("report.css", "text/css"), ("favicon.svg", "image/svg+xml")])
def test_assets_are_served(client: TestClient, name: str, media: str) -> None:
    response = client.get(f"/assets/{name}")
    assert response.status_code == 200
    assert media in response.headers["content-type"]


def test_index_references_only_local_assets_that_exist(client: TestClient) -> None:
    urls = parsed_index().urls
    assert urls, "the page loads its scripts and styles"
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), url
        assert client.get(f"/{url}").status_code == 200, url


def test_nothing_is_loaded_from_the_internet() -> None:
    for path in WEB_DIR.iterdir():
        if path.is_dir():
            continue
        # SVG's XML namespace is a URL (in an .svg file, or for createElementNS); an identifier, nothing is fetched.
        text = path.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://|//cdn|@import|url\(", text), path.name


def test_the_vendored_chart_library_is_shipped_and_fetches_nothing(client: TestClient) -> None:
    library = WEB_DIR / "vendor" / "chart.umd.min.js"
    text = library.read_text(encoding="utf-8")
    assert text.startswith("/*!\n * Chart.js v4.") and "Released under the MIT License" in text[:300]
    assert (WEB_DIR / "vendor" / "chart.js-LICENSE.md").read_text(encoding="utf-8").startswith("The MIT License")
    # The banner names the project's site; the code itself makes no request of its own.
    assert not re.search(r"fetch\(|XMLHttpRequest|importScripts|//cdn|@import", text)
    response = client.get("/assets/vendor/chart.umd.min.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]


def test_both_languages_have_the_same_keys(dictionaries: dict[str, dict[str, str]]) -> None:
    assert set(dictionaries) == {"vi", "en"}
    assert set(dictionaries["vi"]) == set(dictionaries["en"])
    for language, entries in dictionaries.items():
        for key, text in entries.items():
            assert text.strip(), f"{language}.{key} is empty"
            placeholders = set(re.findall(r"\{(\w+)\}", text))
            assert placeholders == set(re.findall(r"\{(\w+)\}", dictionaries["vi"][key])), f"{language}.{key}"


def test_vietnamese_uses_the_glossary_with_composed_diacritics(dictionaries: dict[str, dict[str, str]]) -> None:
    vi = dictionaries["vi"]
    for key, term in GLOSSARY.items():
        assert vi[key].lower() == term.lower(), key
    for key, text in vi.items():
        assert unicodedata.normalize("NFC", text) == text, key


def test_every_key_the_page_uses_exists(dictionaries: dict[str, dict[str, str]]) -> None:
    vi = dictionaries["vi"]
    used = set(parsed_index().keys)
    script = "\n".join((WEB_DIR / name).read_text(encoding="utf-8") for name in SCRIPTS)
    used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", script))
    used |= set(re.findall(r"""showSignIn\(\s*["']([\w.]+)["']""", script))
    used |= set(re.findall(r"""showBanner\(\s*["']([\w.]+)["']""", script))
    used |= set(re.findall(r"""showMessage\(\$\(["'][\w-]+["']\),\s*["']([\w.]+)["']""", script))
    for prefix, values in (("severity", ("low", "medium", "high", "critical")),
                           ("state", ("new", "acknowledged", "investigating", "contained", "resolved", "closed")),
                           ("role", ("soc_admin", "soc_analyst", "agency_responder", "agency_viewer", "auditor")),
                           ("resolution", ("true_positive", "false_positive", "benign", "duplicate")),
                           ("clock", ("acknowledge", "resolve", "incident_notice", "breach_notice",
                                      "serious_initial_report")),
                           ("clock.status", ("pending", "overdue", "met", "late"))):
        used |= {f"{prefix}.{value}" for value in values}
    assert len(used) > 40
    assert used - set(vi) == set()


def test_script_elements_exist_for_every_id_the_script_uses() -> None:
    script = "\n".join((WEB_DIR / name).read_text(encoding="utf-8") for name in SCRIPTS)
    wanted = set(re.findall(r"""\$\(\s*["']([\w-]+)["']\s*\)""", script))
    for match in re.finditer(r"""for \(const id of \[([^\]]+)\]\)""", script):
        wanted |= set(re.findall(r'"([\w-]+)"', match.group(1)))
    assert wanted - parsed_index().ids == set()


def test_untrusted_text_never_goes_through_html_parsing() -> None:
    for name in SCRIPTS:
        script = (WEB_DIR / name).read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in script, f"{name} uses {sink}"


def test_times_are_shown_in_vietnam() -> None:
    script = (WEB_DIR / "i18n.js").read_text(encoding="utf-8")
    assert 'TIME_ZONE = "Asia/Ho_Chi_Minh"' in script and "Intl.DateTimeFormat" in script
    assert "GMT+7" in script


def test_key_stays_in_session_storage_and_language_in_local_storage() -> None:
    app_js = (WEB_DIR / "app.js").read_text(encoding="utf-8")
    common_js = (WEB_DIR / "common.js").read_text(encoding="utf-8")
    i18n_js = (WEB_DIR / "i18n.js").read_text(encoding="utf-8")
    assert "sessionStorage" in app_js and "localStorage" not in app_js + common_js
    assert '"X-API-Key"' in common_js and '"If-Match"' in common_js
    assert "localStorage" in i18n_js and "sessionStorage" not in i18n_js
    # The list polls on its own timer and never reorders what is shown (list.js).
    assert "POLL_MS = 4000" in (WEB_DIR / "list.js").read_text(encoding="utf-8")


def test_report_frame_runs_no_scripts() -> None:
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    frame = re.search(r"<iframe[^>]*>", html)
    assert frame is not None and 'sandbox="allow-same-origin allow-modals"' in frame.group()
    assert "allow-scripts" not in html
