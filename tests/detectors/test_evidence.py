"""The evidence transform: each normalisation through its public function, the fields an event gets, the
bounds on work, and a raw access-log line through the real decoder and the detection engine."""

from __future__ import annotations

import time

import pytest
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.raw import RawLine
from canhgac.core.config_detection import DetectionSettings
from canhgac.core.limits import MAX_EVALUATED_CHARS
from canhgac.core.model import Event
from canhgac.detectors import evidence
from canhgac.detectors.decoding import (
    base64_text,
    decode,
    decode_bytes,
    hex_text,
    normalise,
    normalise_path,
    percent_decode,
    strip_shell_evasions,
    strip_sql_comments,
    unescape,
)
from canhgac.detectors.engine import DetectionEngine
from canhgac.detectors.evidence import (
    ARGS,
    CMD,
    COMMAND_LINE,
    FINGERPRINTS,
    FLAGS,
    HEADERS,
    LONGEST,
    PATH,
    SQL,
    USER,
    VERDICT,
    with_evidence,
)

from tests.detectors.support import web_event

SQLI_RULE = "54a7859c-19d8-4a89-a8d8-8731a4231dd1"
XSS_RULE = "bd76b628-8302-4d3e-9dbf-2eef653af61b"
TRAVERSAL_RULE = "e03a6c95-764d-447e-ba28-39a6bf1cf2ea"
COMMAND_RULE = "a4592585-b99b-41c2-a782-34b31aa19526"


# decoding ---------------------------------------------------------------------------------------------
def test_percent_decoding_is_repeated_until_stable_and_plus_is_a_space_only_in_forms() -> None:
    assert decode("%2527%2520or%25201%253D1", form=True) == ("' or 1=1", {"multiple_encoding"})
    assert decode("a+b%2Bc", form=True)[0] == "a b+c"
    assert decode("a+b", form=False)[0] == "a+b"
    assert percent_decode("%41%42") == ("AB", False)


def test_iis_percent_u_and_overlong_utf8_spell_the_characters_they_stand_for() -> None:
    assert percent_decode("un%u0069on")[0] == "union"
    assert percent_decode("..%c0%af..%c0%afetc") == ("../../etc", True)
    assert decode_bytes(b"\xe0\x80\xaf") == ("/", True)
    assert decode_bytes(b"\xc1\x9c") == ("\\", True)
    assert decode("..%c0%af", form=False) == ("../", {"overlong_utf8"})


def test_valid_utf8_is_kept_and_stray_bytes_are_read_as_latin1() -> None:
    assert decode_bytes("đăng ký".encode()) == ("đăng ký", False)
    assert decode_bytes(b"A\xf1adir") == ("Añadir", False)  # old forms send ISO-8859-1 escapes


def test_html_entities_and_backslash_escapes_are_resolved() -> None:
    assert decode("&lt;script&gt;", form=False)[0] == "<script>"
    assert decode("&#x3c;img&#62;", form=False)[0] == "<img>"
    assert decode("%26lt%3Bsvg%26gt%3B", form=True)[0] == "<svg>"  # percent, then entity
    assert unescape("\\x3cscript\\u003e\\u{2f}") == "<script>/"
    assert unescape("c:\\windows\\new") == "c:\\windows\\new"  # not escapes: left alone


def test_nul_bytes_are_removed_and_flagged_and_control_characters_flagged() -> None:
    assert decode("/etc/passwd%00.jpg", form=True) == ("/etc/passwd.jpg", {"null_byte"})
    assert "control_chars" in decode("a%01b", form=True)[1]
    assert decode("a%0d%0ab", form=True)[1] == set()  # line breaks are text, not control characters


def test_full_width_forms_fold_to_ascii() -> None:
    assert normalise("%EF%BC%9Cscript%EF%BC%9E").text == "<script>"  # ＜script＞


def test_response_splitting_and_overflow_runs_are_flagged() -> None:
    assert "header_injection" in normalise("x%0d%0aSet-Cookie:%20a=b").flags
    assert "header_injection" not in normalise("line one%0d%0aline two").flags
    assert "repeated_chars" in normalise("A" * 300).flags
    assert "repeated_chars" not in normalise("ab" * 300).flags


def test_whitespace_is_compressed_and_case_folded() -> None:
    assert normalise("UNION%09%0A%20SELECT").text == "union select"


# SQL, shell and path forms -----------------------------------------------------------------------------
def test_sql_comments_become_spaces_and_mysql_executable_comments_keep_their_content() -> None:
    assert strip_sql_comments("union/**/select") == "union select"
    assert strip_sql_comments("1/*!50000union*/select") == "1 union select"
    assert strip_sql_comments("or 1=1/* unclosed") == "or 1=1 "
    assert strip_sql_comments("-- and # stay") == "-- and # stay"
    assert normalise("1%2F**%2FUNION%2F*x*%2FALL%2F**%2FSELECT").sql == "1 union all select"


def test_sql_form_folds_typographic_quotes() -> None:
    assert normalise("’ or ‘1’=’1").sql == "' or '1'='1"


def test_shell_evasions_are_removed_the_way_a_shell_reads_the_word() -> None:
    assert strip_shell_evasions("c'a't${ifs}/etc/pa\\ss\\wd") == "cat /etc/passwd"
    assert strip_shell_evasions("w^h^o^a^m^i") == "whoami"
    assert strip_shell_evasions("who$@ami;ca$1t$ifs$9/etc/hosts") == "whoami;cat /etc/hosts"
    assert strip_shell_evasions("{cat,/etc/passwd}") == "cat /etc/passwd"
    assert strip_shell_evasions("127.0.0.1\nid") == "127.0.0.1;id"
    assert strip_shell_evasions("a ; id |  ls") == "a ;id |ls"
    assert normalise("1%0Acat%24%7BIFS%7D%2Fetc%2Fpasswd").cmd == "1;cat /etc/passwd"


def test_paths_are_decoded_and_separators_normalised_but_parent_steps_kept() -> None:
    assert normalise_path("/static/..%2f..%5c.%2f%2fetc/./passwd") == ("/static/../../etc/passwd", frozenset())
    assert normalise_path("/a//b/./c/.")[0] == "/a/b/c/"


def test_base64_values_carry_the_text_they_encode() -> None:
    assert base64_text("Li4vLi4vZXRjL3Bhc3N3ZA==") == "../../etc/passwd"
    assert base64_text("12345678") is None  # digits are a number, not base64
    assert base64_text("/w==") is None  # not printable text
    inner = normalise("Li4vLi4vZXRjL3Bhc3N3ZA==").inner
    assert inner is not None and inner.text == "../../etc/passwd"


def test_libinjection_gives_a_verdict_per_value() -> None:
    assert normalise("1' or '1'='1").fingerprint is not None
    assert normalise("<script>alert(1)</script>").xss
    plain = normalise("đăng ký khai sinh")
    assert plain.fingerprint is None and not plain.xss


# bounds --------------------------------------------------------------------------------------------------
def test_a_value_with_nothing_to_decode_takes_the_fast_path_unchanged() -> None:
    value = normalise("ho-tich-2026")
    assert value.text == value.sql == value.cmd == "ho-tich-2026" and value.flags == frozenset()


def test_long_values_are_normalised_on_a_bounded_prefix_and_flagged() -> None:
    long = "a" * (MAX_EVALUATED_CHARS + 5000) + "%27%20or%201=1"
    value = normalise(long)
    assert "capped" in value.flags and len(value.text) == MAX_EVALUATED_CHARS
    event = web_event({"url.original": "/tim-kiem?q=" + long})
    assert "capped" in evidence.evidence(event)[FLAGS]


def test_a_hex_literal_is_read_for_the_text_it_encodes() -> None:
    assert hex_text("0x73656c65637420404076657273696f6e") == "select @@version"
    assert hex_text("0x730065006c00650063007400200031003b00 exec(@q)") == "select 1;"  # SQL Server nvarchar
    assert hex_text("0xdeadbeefcafebabe") is None and hex_text("0x1234") is None and hex_text("x0x41414141") is None
    fields = with_evidence([web_event({"url.original": "/tra-cuu?ma=0x77616974666f722064656c61792027303a303a313027"})])
    assert "waitfor delay '0:0:10'" in fields[0][ARGS]


def test_a_request_contributes_a_bounded_number_of_values() -> None:
    target = "/x?" + "&".join(f"p{i}=%27{i}" for i in range(2000))
    fields = evidence.evidence(web_event({"url.original": target}))
    assert len(fields[ARGS]) == evidence.MAX_VALUES


@pytest.mark.parametrize("payload", [
    "%25" * 20000,  # decodes one level per round
    "&#" * 20000 + "x",
    "\\x" * 20000,
    "{" * 10000 + "a,b" + "}" * 10000,
    "${IFS" * 10000,
    "/*" * 20000,
    "%c0" * 20000,
    "'" + "+" * 60000,
    "select" + "/**/" * 10000 + "x",
])
def test_pathological_values_take_milliseconds(payload: str) -> None:
    evidence.clear_caches()
    event = web_event({"url.original": "/tim-kiem?q=" + payload, "user_agent.original": payload[:8192],
                       "http.request.body.content": payload})
    started = time.perf_counter()
    evidence.evidence(event)
    assert time.perf_counter() - started < 0.25


# the event ------------------------------------------------------------------------------------------------
def test_a_web_event_gets_its_evidence_fields() -> None:
    event = web_event({
        "url.original": "/van-ban/..%2F..%2Fetc%2Fpasswd?q=1%27%20UNION%2F**%2FSELECT%201&trang=2&%3Cx%3E=1",
        "user_agent.original": "Mozilla/5.0 ${jndi:ldap://x}",
        "http.request.referrer": "https://dichvucong.tinh.example/?a=%3Csvg%3E",
    })
    fields = evidence.evidence(event)
    assert fields[PATH] == "/van-ban/../../etc/passwd"
    assert fields[ARGS] == ["1' union/**/select 1", "2", "<x>", "1"]
    assert fields[SQL][0] == "1' union select 1"
    assert fields[HEADERS] == ["mozilla/5.0 ${jndi:ldap://x}", "https://dichvucong.tinh.example/?a=<svg>"]
    assert fields[VERDICT] == ["sqli"] and fields[FINGERPRINTS]
    assert fields[LONGEST] == len("/van-ban/../../etc/passwd")


def test_json_and_form_bodies_are_read_value_by_value() -> None:
    json_body = evidence.evidence(web_event({"url.original": "/api/ho-so",
                                             "http.request.body.content": '{"ten": "a+b", "q": ["1\' or \'1\'=\'1"]}'}))
    assert json_body[ARGS] == ["a+b", "1' or '1'='1"] and json_body[VERDICT] == ["sqli"]
    form_body = evidence.evidence(web_event({"url.original": "/dang-nhap",
                                             "http.request.body.content": "user=admin%27--&pass=x+y"}))
    assert form_body[ARGS] == ["admin'--", "x y"]


def test_user_names_cookies_and_command_lines_are_normalised_too() -> None:
    fields = evidence.evidence({"user.name": "admin' OR '1'='1", "process.command_line": "c\\at /etc/pa''sswd",
                                "http.request.cookie": "sid=abc; pref=%3Cscript%3E"})
    assert fields[USER] == "admin' or '1'='1" and fields[VERDICT] == ["sqli"]
    assert fields[COMMAND_LINE] == "cat /etc/passwd"
    assert fields[HEADERS] == ["<script>"]  # header values are evidence only with markup, quotes, braces or $


def test_ordinary_headers_are_not_evidence() -> None:
    fields = evidence.evidence(web_event({"url.original": "/", "user_agent.original": "Mozilla/5.0 (X11; Linux)",
                                          "http.request.referrer": "https://dichvucong.tinh.example/?q=a%20b"}))
    assert HEADERS not in fields


def test_events_without_attacker_input_are_passed_through_and_inputs_are_never_changed() -> None:
    plain: Event = {"event.id": "x", "message": "Server started"}
    web = web_event({"url.original": "/tim-kiem?q=%27"})
    before = dict(web)
    out = with_evidence([plain, web])
    assert out[0] is plain and web == before and out[1] is not web and out[1][ARGS] == ["'"]
    assert CMD in out[1]


# end to end ------------------------------------------------------------------------------------------------
def decoded(line: str) -> Event:
    decoder = LineDecoder(get_parser("nginx"), Origin("/var/log/nginx/access.log", "/var/log/nginx/access.log",
                                                      "binhdinh", "dvc-binhdinh"))
    events, letters = decoder.decode([RawLine(0, line.encode())])
    assert not letters
    return events[0]


def access_line(target: str, agent: str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)") -> str:
    return f'203.0.113.9 - - [22/Nov/2026:15:04:09 +0700] "GET {target} HTTP/1.1" 200 512 "-" "{agent}"'


@pytest.mark.parametrize(("target", "rule_id"), [
    # double-encoded quote, comments between the keywords
    ("/tra-cuu?ma_ho_so=1%2527%2520UNION%252F**%252FALL%252F**%252FSELECT%2520NULL--", SQLI_RULE),
    # entity-encoded markup with an event handler
    ("/tim-kiem?q=%26lt%3Bimg%20src%3Dx%20onerror%3Dalert(1)%26gt%3B", XSS_RULE),
    # overlong UTF-8 slashes
    ("/tai-lieu?file=..%c0%af..%c0%af..%c0%afetc%c0%afpasswd", TRAVERSAL_RULE),
    # quotes and $IFS inside the command
    ("/kiem-tra?host=127.0.0.1%3Bc%27a%27t%24%7BIFS%7D%2Fetc%2Fpasswd", COMMAND_RULE),
])
def test_a_raw_line_through_the_decoder_and_the_engine_raises_the_alert(target: str, rule_id: str) -> None:
    engine = DetectionEngine(DetectionSettings())
    event = decoded(access_line(target))
    assert rule_id in {alert.rule_id for alert in engine.detect([event])}
    assert not any(name.startswith(evidence.PREFIX) for name in event)  # the stored event stays raw


def test_ordinary_portal_requests_raise_no_attack_alert() -> None:
    engine = DetectionEngine(DetectionSettings())
    events = [decoded(access_line(target)) for target in (
        "/thu-tuc-hanh-chinh/tim-kiem?tu_khoa=%C4%91%C4%83ng+k%C3%BD+khai+sinh&linh_vuc=ho-tich&trang=2",
        "/cong-dan/tra-cuu?dia_chi=th%C3%B4n+Ph%C3%BA+H%E1%BB%AFu%2C+x%C3%A3+Ea+H%27leo",
        "/tim-kiem?q=t%C3%A0i+nguy%C3%AAn+%26+m%C3%B4i+tr%C6%B0%E1%BB%9Dng",
        "/sso/callback?redirect_uri=https%3A%2F%2Fdichvucong.tinh.example%2Fcallback&state=a1b2c3d4",
    )]
    attack_rules = {SQLI_RULE, XSS_RULE, TRAVERSAL_RULE, COMMAND_RULE}
    assert not attack_rules & {alert.rule_id for alert in engine.detect(events)}


def test_an_attack_in_a_modsecurity_request_body_raises_the_alert() -> None:
    """The WAF logged the body and let the request through: the SQL in the posted login form is found."""
    from tests.collectors import fixtures

    decoder = LineDecoder(get_parser("modsecurity"), Origin("/var/log/modsec_audit.log", "/var/log/modsec_audit.log",
                                                            "binhdinh", "dvc-binhdinh"))
    data = fixtures.MODSEC_NATIVE_POST.encode()
    lines, offset = [], 0
    for line in data.split(b"\n"):
        lines.append(RawLine(offset, line))
        offset += len(line) + 1
    events, letters = decoder.decode(lines, final=True)
    assert not letters and len(events) == 1
    json_events, _ = decoder.decode([RawLine(offset, fixtures.MODSEC_V3_JSON_POST.encode())], final=True)
    engine = DetectionEngine(DetectionSettings())
    alerts = engine.detect(events + json_events)
    assert {(a.rule_id, a.event_ids[0]) for a in alerts if a.rule_id == SQLI_RULE} == {
        (SQLI_RULE, events[0]["event.id"]), (SQLI_RULE, json_events[0]["event.id"])}
