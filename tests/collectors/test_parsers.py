"""Parsers: real-looking lines of each variant, including Vietnamese text, and garbage."""

from __future__ import annotations

import pytest

from canhgac.errors import ParseError
from collectors.parsers import get_parser

NGINX = ('100.72.14.9 - - [22/Nov/2026:15:04:05 +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%C4%91%C4%83ng+k'
         '%C3%BD+khai+sinh&trang=2 HTTP/1.1" 200 5120 "https://dichvucong.binhdinh.gov.vn/" '
         '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"')


def test_combined_line_becomes_ecs_fields() -> None:
    fields = get_parser("nginx").parse(NGINX)
    assert fields["@timestamp"] == "2026-11-22T08:04:05.000Z"
    assert fields["source.ip"] == "100.72.14.9"
    assert fields["http.request.method"] == "GET"
    assert fields["http.version"] == "1.1"
    assert fields["http.response.status_code"] == 200
    assert fields["http.response.body.bytes"] == 5120
    assert fields["url.path"] == "/thu-tuc-hanh-chinh/tra-cuu"
    assert fields["url.query"] == "tu_khoa=đăng ký khai sinh&trang=2"
    assert fields["url.original"].startswith("/thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%C4%91")
    assert fields["http.request.referrer"] == "https://dichvucong.binhdinh.gov.vn/"
    assert fields["user_agent.original"].endswith("Chrome/131.0")
    assert fields["event.outcome"] == "success"
    assert "user.name" not in fields


def test_double_encoding_is_decoded_until_stable() -> None:
    line = ('203.0.113.7 - - [22/Nov/2026:15:04:05 +0700] "GET /tai-ve?tep=%252e%252e%252fetc%252fpasswd&q=a%2Bb '
            'HTTP/1.1" 400 0 "-" "-"')
    fields = get_parser("nginx").parse(line)
    assert fields["url.query"] == "tep=../etc/passwd&q=a+b"
    assert fields["event.outcome"] == "failure"
    assert "user_agent.original" not in fields


def test_common_log_format_and_user_name() -> None:
    line = '10.52.0.9 - nguy%E1%BB%85n.an [01/Jan/2026:00:00:01 +0700] "POST /dang-nhap HTTP/1.0" 302 -'
    fields = get_parser("apache").parse(line)
    assert fields["user.name"] == "nguyễn.an"
    assert fields["@timestamp"] == "2025-12-31T17:00:01.000Z"
    assert "http.response.body.bytes" not in fields


def test_nginx_escapes_and_garbled_requests_still_make_events() -> None:
    tls = '198.51.100.4 - - [22/Nov/2026:15:04:05 +0700] "\\x16\\x03\\x01\\x00\\xF7" 400 157 "-" "-"'
    fields = get_parser("nginx").parse(tls)
    assert fields["http.response.status_code"] == 400
    assert "http.request.method" not in fields
    quoted = ('198.51.100.4 - - [22/Nov/2026:15:04:05 +0700] "GET /a?q=\\x22x\\x22 HTTP/1.1" 200 1 "-" '
              '"curl/8.5 \\"quoted\\""')
    fields = get_parser("nginx").parse(quoted)
    assert fields["url.query"] == 'q="x"'


def test_absolute_form_target_yields_domain() -> None:
    line = '192.0.2.8 - - [22/Nov/2026:15:04:05 +0700] "GET http://example.gov.vn/admin HTTP/1.1" 404 0 "-" "-"'
    fields = get_parser("nginx").parse(line)
    assert fields["url.domain"] == "example.gov.vn"
    assert fields["url.path"] == "/admin"


def test_non_ip_client_does_not_go_into_source_ip() -> None:
    line = 'proxy.local - - [22/Nov/2026:15:04:05 +0700] "GET / HTTP/1.1" 200 1 "-" "-"'
    fields = get_parser("nginx").parse(line)
    assert "source.ip" not in fields and fields["source.address"] == "proxy.local"


@pytest.mark.parametrize("line", ["", "garbage", '1.2.3.4 - - [32/Foo/2026:99:00:00 +0700] "GET / HTTP/1.1" 200 1',
                                  "1.2.3.4 - - [22/Nov/2026:15:04:05 +0700] GET / 200 1"])
def test_bad_lines_raise_parse_error_with_reason(line: str) -> None:
    with pytest.raises(ParseError) as caught:
        get_parser("nginx").parse(line)
    assert caught.value.reason


def test_sshd_failed_and_accepted_logins() -> None:
    parser = get_parser("sshd")
    failed = parser.parse("Nov 22 15:04:05 dvc-web01 sshd[811]: Failed password for invalid user quantri "
                          "from 198.51.100.23 port 50122 ssh2")
    assert failed["event.action"] == "ssh_login" and failed["event.outcome"] == "failure"
    assert failed["user.name"] == "quantri" and failed["source.ip"] == "198.51.100.23"
    assert failed["source.port"] == 50122 and failed["host.hostname"] == "dvc-web01"
    assert failed["event.category"] == ["authentication"]
    accepted = parser.parse("Nov  2 08:00:00 dvc-web01 sshd[9]: Accepted publickey for root from 10.52.0.5 "
                            "port 4022 ssh2: ED25519 SHA256:abc")
    assert accepted["event.outcome"] == "success" and accepted["@timestamp"].endswith("-11-02T01:00:00.000Z")
    other = parser.parse("Nov 22 15:04:05 dvc-web01 CRON[77]: pam_unix(cron:session): session opened")
    assert other["process.name"] == "CRON" and "event.action" not in other
    with pytest.raises(ParseError):
        parser.parse("not syslog at all")


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"known formats: .*nginx"):
        get_parser("iis-ftp")
