"""Value matching and every supported modifier, each with events that must and must not match."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.detectors.support import ABSENT, compile_rule, web_event


def check(tmp_path: Path, detection: str, matching: list[dict], not_matching: list[dict]) -> None:
    rule = compile_rule(tmp_path, detection)
    for fields in matching:
        assert rule.matches(web_event(fields)), f"should match: {fields}"
    for fields in not_matching:
        assert not rule.matches(web_event(fields)), f"should not match: {fields}"


def test_plain_value_is_whole_value_and_case_insensitive(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-method: get
        condition: selection
    """, [{"http.request.method": "GET"}, {"http.request.method": "get"}],
        [{"http.request.method": "POST"}, {"http.request.method": "GETX"}, {"http.request.method": ABSENT}])


def test_case_insensitivity_covers_vietnamese_letters(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-uri-query|contains: 'CÔNG ĐOÀN'
        condition: selection
    """, [{"url.query": "tu_khoa=thành lập công đoàn cơ sở"}], [{"url.query": "tu_khoa=cong doan"}])


def test_list_of_values_is_or(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-method: [PUT, DELETE]
        condition: selection
    """, [{"http.request.method": "PUT"}, {"http.request.method": "delete"}], [{"http.request.method": "GET"}])


def test_contains_startswith_endswith(tmp_path: Path) -> None:
    check(tmp_path, """
        contains:
          cs-uri-query|contains: 'union'
        starts:
          cs-uri-stem|startswith: '/quan-tri'
        ends:
          c-useragent|endswith: 'bot/1.0'
        condition: contains or starts or ends
    """, [{"url.query": "q=x UNION y"}, {"url.path": "/Quan-Tri/users"}, {"user_agent.original": "SpamBot/1.0"}],
        [{"url.query": "q=uni on"}, {"url.path": "/tin-tuc/quan-tri"}, {"user_agent.original": "bot/1.0 extra"}])


def test_all_modifier_needs_every_value(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          c-useragent|contains|all: ['python', 'requests']
        condition: selection
    """, [{"user_agent.original": "python-requests/2.31"}],
        [{"user_agent.original": "python-urllib/3.11"}, {"user_agent.original": "requests"}])


def test_wildcards_star_and_question_mark(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-uri-stem: '/admin/*/config.?hp'
        condition: selection
    """, [{"url.path": "/admin/x/y/config.php"}, {"url.path": "/ADMIN/a/CONFIG.PHP"},
          {"url.path": "/admin//config.xhp"}],
        [{"url.path": "/admin/x/config.phtml"}, {"url.path": "/admin/config.php"},
         {"url.path": "/x/admin/a/config.php"}])


def test_escaped_wildcards_are_literal(tmp_path: Path) -> None:
    check(tmp_path, r"""
        selection:
          cs-uri-query: 'q=\*\?'
        condition: selection
    """, [{"url.query": "q=*?"}], [{"url.query": "q=ab"}, {"url.query": "q=*x"}])


def test_backslash_before_ordinary_character_is_kept(tmp_path: Path) -> None:
    check(tmp_path, r"""
        selection:
          cs-uri-query|contains: 'C:\Windows'
        condition: selection
    """, [{"url.query": r"path=c:\windows\win.ini"}], [{"url.query": "path=c:/windows"}])


def test_star_alone_matches_any_present_value(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-referer: '*'
        condition: selection
    """, [{"http.request.referrer": "https://dichvucong.gov.vn/"}, {"http.request.referrer": ""}],
        [{"http.request.referrer": ABSENT}, {"http.request.referrer": None}])


def test_regex_is_searched_and_case_sensitive_by_default(tmp_path: Path) -> None:
    check(tmp_path, r"""
        selection:
          cs-uri-query|re: 'id=\d+ OR '
        condition: selection
    """, [{"url.query": "x=1&id=5 OR 1"}], [{"url.query": "id=5 or 1"}, {"url.query": "id=a OR 1"}])


def test_regex_flags_i_m_s(tmp_path: Path) -> None:
    check(tmp_path, """
        ignorecase:
          cs-uri-query|re|i: 'select.+from'
        multiline:
          cs-referer|re|m: '^evil$'
        dotall:
          c-useragent|re|s: 'a.b'
        condition: 1 of them
    """, [{"url.query": "SELECT x FROM y"}, {"http.request.referrer": "line one\nevil\nline three"},
          {"user_agent.original": "a\nb"}],
        [{"url.query": "select"}, {"http.request.referrer": "not evil here"}, {"user_agent.original": "a\n\nb"}])


def test_regex_anchors_are_respected(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-uri-stem|re: '^/api/v[0-9]+/$'
        condition: selection
    """, [{"url.path": "/api/v2/"}], [{"url.path": "/x/api/v2/"}, {"url.path": "/api/v2/ho-so"}])


def test_cidr_ipv4_and_ipv6(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          c-ip|cidr:
            - '10.52.0.0/26'
            - '2001:db8::/32'
        condition: selection
    """, [{"source.ip": "10.52.0.20"}, {"source.ip": "2001:db8::1"}, {"source.ip": "::ffff:10.52.0.20"}],
        [{"source.ip": "10.52.0.64"}, {"source.ip": "2001:db9::1"}, {"source.ip": "not-an-ip"},
         {"source.ip": ABSENT}, {"source.ip": "::ffff:10.52.0.64"}])


def test_exists_true_and_false(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-username|exists: true
        condition: selection
    """, [{"user.name": "quantri"}, {"user.name": ""}], [{"user.name": ABSENT}, {"user.name": None}])
    check(tmp_path, """
        selection:
          cs-username|exists: false
        condition: selection
    """, [{"user.name": ABSENT}], [{"user.name": "quantri"}])


def test_null_means_absent_or_none(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-referer: null
        condition: selection
    """, [{"http.request.referrer": ABSENT}, {"http.request.referrer": None}],
        [{"http.request.referrer": "-x"}, {"http.request.referrer": ""}])


def test_cased_is_case_sensitive(tmp_path: Path) -> None:
    check(tmp_path, """
        exact:
          cs-method|cased: GET
        partial:
          c-useragent|contains|cased: 'BOT'
        condition: exact or partial
    """, [{"http.request.method": "GET", "user_agent.original": "x"},
          {"http.request.method": "x", "user_agent.original": "xBOTx"}],
        [{"http.request.method": "get", "user_agent.original": "bot"}])


def test_base64_and_base64offset(tmp_path: Path) -> None:
    payload = base64.b64encode(b"cmd=whoami;id").decode()
    shifted = base64.b64encode(b"xcmd=whoami;id").decode()
    check(tmp_path, """
        plain:
          cs-uri-query|base64|contains: 'cmd=whoami;id'
        condition: plain
    """, [{"url.query": f"data={payload}"}], [{"url.query": f"data={shifted}"}, {"url.query": "cmd=whoami;id"}])
    check(tmp_path, """
        offset:
          cs-uri-query|base64offset|contains: 'whoami'
        condition: offset
    """, [{"url.query": f"data={base64.b64encode(prefix + b'whoami;').decode()}"} for prefix in (b"", b"x", b"xy")],
        [{"url.query": "data=whoami"}, {"url.query": f"data={base64.b64encode(b'who ami').decode()}"}])


def test_wide_base64offset_finds_utf16_payloads(tmp_path: Path) -> None:
    encoded = base64.b64encode("IEX (New-Object Net.WebClient)".encode("utf-16-le")).decode()
    check(tmp_path, """
        selection:
          cs-uri-query|wide|base64offset|contains: 'Net.WebClient'
        condition: selection
    """, [{"url.query": f"cmd=powershell -enc {encoded}"}],
        [{"url.query": f"cmd=powershell -enc {base64.b64encode(b'Net.WebClient').decode()}"}])


def test_windash_expands_dash_and_slash(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-uri-query|windash|contains: ' -enc '
        condition: selection
    """, [{"url.query": "c=powershell -enc AAA"}, {"url.query": "c=powershell /enc AAA"},
          {"url.query": "c=powershell \u2013enc AAA"}],
        [{"url.query": "c=powershell enc AAA"}])


@pytest.mark.parametrize(("modifier", "number", "matching", "not_matching"), [
    ("lt", 400, [399, "200", 0], [400, 500]),
    ("lte", 400, [400, "399"], [401]),
    ("gt", 499, [500, "503"], [499, 200]),
    ("gte", 500, [500, 503.5], [499, "abc"]),
])
def test_numeric_comparisons(tmp_path: Path, modifier: str, number: int, matching: list, not_matching: list) -> None:
    check(tmp_path, f"""
        selection:
          sc-status|{modifier}: {number}
        condition: selection
    """, [{"http.response.status_code": value} for value in matching],
        [{"http.response.status_code": value} for value in [*not_matching, ABSENT]])


def test_numbers_and_numeric_strings_compare_equal(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          sc-status: 404
        condition: selection
    """, [{"http.response.status_code": 404}, {"http.response.status_code": "404"}],
        [{"http.response.status_code": 4040}, {"http.response.status_code": "404x"},
         {"http.response.status_code": True}])
    check(tmp_path, """
        selection:
          sc-status: '404'
        condition: selection
    """, [{"http.response.status_code": 404}, {"http.response.status_code": "404"}],
        [{"http.response.status_code": 403}])


def test_boolean_values(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          tls.established: true
        condition: selection
    """, [{"tls.established": True}, {"tls.established": "TRUE"}], [{"tls.established": False}, {"tls.established": 1}])


def test_neq_negates_the_item(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-method|neq: [GET, HEAD]
        condition: selection
    """, [{"http.request.method": "POST"}], [{"http.request.method": "GET"}, {"http.request.method": "head"}])


def test_fieldref_compares_two_fields(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          cs-host|fieldref: cs-referer
        condition: selection
    """, [{"url.domain": "a.gov.vn", "http.request.referrer": "A.gov.vn"}],
        [{"url.domain": "a.gov.vn", "http.request.referrer": "b.gov.vn"}, {"http.request.referrer": ABSENT}])
    check(tmp_path, """
        selection:
          cs-referer|fieldref|contains: cs-host
        condition: selection
    """, [{"url.domain": "a.gov.vn", "http.request.referrer": "https://a.gov.vn/x"}],
        [{"url.domain": "a.gov.vn", "http.request.referrer": "https://b.gov.vn/x"}])


def test_list_valued_event_fields_match_any_element(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          event.type: denied
        condition: selection
    """, [{"event.type": ["access", "denied"]}], [{"event.type": ["access"]}, {"event.type": []}])


def test_unknown_field_names_are_used_as_given(tmp_path: Path) -> None:
    check(tmp_path, """
        selection:
          http.request.method: POST
          url.path|startswith: '/api/'
        condition: selection
    """, [{"http.request.method": "POST", "url.path": "/api/ho-so"}], [{"http.request.method": "POST"}])


def test_keywords_search_every_text_field(tmp_path: Path) -> None:
    """Sigma keywords are full-text: the raw line and the decoded fields, not the bookkeeping ones."""
    check(tmp_path, """
        keywords:
          - 'union select'
          - 'etc/*passwd'
        condition: keywords
    """, [{"event.original": 'GET /?id=1 UNION SELECT 2 HTTP/1.1'}, {"event.original": "GET /etc/x/passwd"},
          {"event.original": "GET /?q=union%20select HTTP/1.1", "url.query": "q=union select"}],
        [{"event.original": "GET /?q=union HTTP/1.1", "url.query": "q=union"},
         {"event.id": "union select", "log.file.path": "/etc/passwd"}])


def test_keywords_with_modifiers(tmp_path: Path) -> None:
    check(tmp_path, r"""
        keywords:
          '|re': 'id=\d+'
        condition: keywords
    """, [{"event.original": "GET /x?id=42"}], [{"event.original": "GET /x?id=abc"}])
    check(tmp_path, """
        keywords:
          '|contains|all': ['wp-login', 'POST']
        condition: keywords
    """, [{"event.original": "POST /wp-login.php"}], [{"event.original": "GET /wp-login.php"}])
