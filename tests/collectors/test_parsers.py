"""Parsers: real-looking lines of each variant, including Vietnamese text, and garbage."""

from __future__ import annotations

import pytest
from canhgac.collectors.parsers import get_parser
from canhgac.core.errors import ParseError

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


# --- variants of every format (tests/collectors/fixtures.py) -------------------------------------------------

from tests.collectors import fixtures as fx  # noqa: E402


def test_combined_variants_xff_timings_vhost_and_microseconds() -> None:
    parser = get_parser("nginx")
    xff = parser.parse(fx.NGINX_MAIN_XFF)
    assert xff["http.request.forwarded_for"] == "100.64.3.7, 10.52.0.4" and xff["source.ip"] == "10.52.0.5"
    timed = parser.parse(fx.NGINX_TIMINGS)
    assert timed["user.name"] == "trần.văn.bình" and timed["event.duration"] == 153_000_000
    assert timed["http.upstream.response_time"] == pytest.approx(0.152) and timed["http.upstream.connect_time"] == 0.001
    assert timed["http.request.forwarded_for"] == "203.0.113.50" and "tags" not in timed
    assert parser.parse(fx.NGINX_REQUEST_TIME)["event.duration"] == 4_000_000
    vhost = get_parser("apache").parse(fx.APACHE_VHOST)
    assert vhost["url.domain"] == "motcua.binhdinh.gov.vn" and vhost["destination.port"] == 443
    assert vhost["url.query"] == "nguoi_nop=Lê Thị Hồng" and vhost["source.ip"] == "100.99.7.1"
    assert get_parser("apache").parse(fx.APACHE_MICROS)["event.duration"] == 1_834_000
    odd = parser.parse(fx.NGINX_COMBINED + ' "something" else=1')
    assert odd["tags"] == ["unparsed_suffix"]


def test_iis_follows_the_fields_directive_and_keeps_it_in_its_state() -> None:
    parser = get_parser("iis")
    assert [parser.parse(line) for line in fx.IIS_HEADER] == [None, None, None]
    default = parser.parse(fx.IIS_DEFAULT_LINE)
    assert default["@timestamp"] == "2026-11-22T08:04:05.000Z"  # IIS writes UTC
    assert default["url.query"] == "tuKhoa=cấp phép xây dựng" and default["user.name"] == "BINHDINH\\nguyễn.lan"
    assert default["user_agent.original"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert default["event.duration"] == 187_000_000 and default["destination.port"] == 443
    assert parser.parse(fx.IIS_CUSTOM_FIELDS) is None
    custom = parser.parse(fx.IIS_CUSTOM_LINE)
    assert custom["url.domain"] == "dichvucong.binhdinh.gov.vn"
    assert custom["http.request.forwarded_for"] == "203.0.113.9"
    assert custom["@timestamp"] == "2026-11-22T08:05:00.123Z" and custom["http.response.status_code"] == 500
    assert custom["url.original"] == "/api/ho-so/nop" and custom["event.outcome"] == "failure"
    resumed = get_parser("iis")
    resumed.restore(parser.snapshot())  # type: ignore[attr-defined]
    assert resumed.parse(fx.IIS_CUSTOM_LINE) == custom
    with pytest.raises(ParseError, match="values where"):
        get_parser("iis").parse(fx.IIS_CUSTOM_LINE)


def test_syslog_headers_rfc3164_rfc5424_and_iso() -> None:
    parser = get_parser("syslog")
    modern = parser.parse(fx.RFC5424)
    assert modern["@timestamp"] == "2026-11-22T08:09:00.000Z" and modern["host.hostname"] == "dvc-web01.binhdinh.gov.vn"
    assert modern["log.syslog.severity.code"] == 6 and modern["log.syslog.facility.code"] == 4
    assert modern["log.syslog.structured_data.origin.ip"] == "10.52.0.20"
    assert modern["event.action"] == "ssh_login" and modern["source.ip"] == "203.0.113.77"
    assert not modern["message"].startswith("\ufeff")
    assert parser.parse(fx.RSYSLOG_ISO)["@timestamp"] == "2026-11-22T08:08:00.123Z"
    assert parser.parse(fx.RFC3164_PRI)["log.syslog.priority"] == 86
    assert "host.hostname" not in parser.parse(fx.RFC5424_NIL)
    assert parser.parse(fx.SSH_FAILED)["event.dataset"] == "system.auth"
    assert "event.dataset" not in parser.parse("Nov 22 15:04:05 web01 nginx[5]: started")  # the static one
    assert parser.static_fields["event.dataset"] == "system.syslog"
    with pytest.raises(ParseError, match="priority"):
        parser.parse("<999>Nov 22 15:04:05 web01 x: y")


def test_openssh_pam_sudo_and_su_messages() -> None:
    parser = get_parser("sshd")
    invalid = parser.parse(fx.SSH_INVALID)
    assert invalid["event.action"] == "ssh_invalid_user" and invalid["user.name"] == "nguyễn"
    assert parser.parse(fx.SSH_TOO_MANY)["event.action"] == "ssh_max_auth_attempts"
    pam = parser.parse(fx.PAM_FAILURE)
    assert pam["event.action"] == "pam_auth_failure" and pam["user.name"] == "root"
    assert pam["source.ip"] == "198.51.100.23"
    assert parser.parse(fx.PAM_SESSION)["event.category"] == ["session"]
    sudo = parser.parse(fx.SUDO)
    assert sudo["user.name"] == "tran.binh" and sudo["user.effective.name"] == "root"
    assert sudo["process.command_line"] == "/usr/bin/cat /etc/shadow"
    su = parser.parse(fx.SU_FAILED)
    assert su["event.outcome"] == "failure" and su["user.effective.name"] == "root"


def test_netfilter_kernel_lines() -> None:
    block = get_parser("syslog").parse(fx.NETFILTER_UFW)
    assert block["event.module"] == "iptables" and block["event.category"] == ["network"]
    assert block["event.type"] == ["connection", "denied"] and block["rule.name"] == "UFW BLOCK"
    assert (block["source.ip"], block["source.port"], block["destination.ip"], block["destination.port"]) == \
        ("203.0.113.5", 51234, "10.52.0.20", 22)
    assert block["network.transport"] == "tcp" and block["observer.ingress.interface.name"] == "eth0"
    accept = get_parser("netfilter").parse(fx.NETFILTER_ACCEPT)
    assert accept["event.type"] == ["connection", "allowed"] and accept["network.transport"] == "udp"


def test_fortigate_key_values() -> None:
    parser = get_parser("fortigate")
    traffic = parser.parse(fx.FORTIGATE_TRAFFIC)
    assert traffic["@timestamp"] == "2026-11-22T08:12:00.123Z"  # eventtime, nanoseconds
    assert traffic["event.module"] == "fortinet" and traffic["event.type"] == ["connection", "denied"]
    assert traffic["source.ip"] == "203.0.113.9" and traffic["destination.port"] == 443
    assert traffic["observer.name"] == "FGT-BDH-01" and traffic["network.transport"] == "tcp"
    assert traffic["fortinet.firewall.crlevel"] == "high" and traffic["log.syslog.priority"] == 189
    utm = parser.parse(fx.FORTIGATE_UTM)
    assert utm["event.category"] == ["network", "intrusion_detection"] and utm["rule.name"] == "SQL.Injection"
    assert utm["user.name"] == 'nguy"en' and utm["@timestamp"] == "2026-11-22T08:12:05.000Z"
    via_syslog = get_parser("syslog").parse(fx.FORTIGATE_SYSLOG_HEADER)
    assert via_syslog["event.module"] == "fortinet" and via_syslog["event.action"] == "login"


def _records(text: str) -> list[str]:
    from canhgac.collectors.parsers.modsecurity import RecordFramer
    from canhgac.collectors.raw import RawLine

    framer, offset, lines = RecordFramer(), 0, []
    for line in text.encode().split(b"\n"):
        lines.append(RawLine(offset, line))
        offset += len(line) + 1
    return [r.data.decode() for r in framer.feed(lines) + framer.flush() if r.data.strip()]


def test_modsecurity_json_v3_v2_and_native_serial() -> None:
    parser = get_parser("modsecurity")
    v3 = parser.parse(fx.MODSEC_V3_JSON)
    assert v3["rule.id"] == ["942100"] and v3["event.action"] == "intercepted" and v3["event.kind"] == "alert"
    assert v3["url.query"] == "ma=1' or 1=1--&ten=Ngô" and v3["user_agent.original"] == "sqlmap/1.8.11"
    assert v3["rule.category"] == ["attack-sqli"] and v3["event.severity"] == 2
    v2 = parser.parse(fx.MODSEC_V2_JSON)
    assert v2["rule.id"] == ["930120"] and v2["@timestamp"] == "2026-11-22T08:13:05.000Z"
    assert v2["event.type"] == ["denied"] and v2["url.domain"] == "motcua.binhdinh.gov.vn"
    [native] = _records(fx.MODSEC_NATIVE)
    serial = parser.parse(native)
    assert serial["url.path"] == "/tai-lieu/đất-đai.pdf" and serial["url.query"] == "id=1 UNION SELECT 1"
    assert serial["rule.id"] == ["942100"] and serial["event.action"] == "intercepted"
    assert serial["http.response.status_code"] == 403 and serial["event.severity"] == 2
    [v3_native] = _records(fx.MODSEC_V3_NATIVE)
    assert parser.parse(v3_native)["rule.id"] == ["949110"]
    [cut] = _records(fx.MODSEC_NATIVE.split("--a1b2c3d4-H--")[0])
    assert parser.parse(cut)["tags"] == ["incomplete_record"]


def test_modsecurity_request_bodies_are_mapped_for_the_web_rules() -> None:
    parser = get_parser("modsecurity")
    [native] = _records(fx.MODSEC_NATIVE_POST)
    serial = parser.parse(native)
    assert serial["http.request.body.content"] == "ten_dang_nhap=admin%27%20OR%20%271%27%3D%271%27--&mat_khau=x"
    assert "http.request.body.bytes" not in serial  # the framer may have cut the section: no size is claimed
    posted = parser.parse(fx.MODSEC_V3_JSON_POST)
    assert posted["http.request.body.content"] == '{"ma_ho_so":"1 UNION SELECT mat_khau FROM nguoi_dung--"}'
    assert posted["http.request.body.bytes"] == 56 and posted["http.request.method"] == "POST"
    v2 = parser.parse(fx.MODSEC_V2_JSON.replace('"request":{', '"request":{"body":["a=1&", "b=2"],'))
    assert v2["http.request.body.content"] == "a=1&b=2"
    assert "http.request.body.content" not in parser.parse(fx.MODSEC_V3_JSON)  # a GET has none


def test_shipped_json_mappings() -> None:
    onestop = [get_parser("onestop").parse(line) for line in fx.ONESTOP]
    assert onestop[0]["event.action"] == "login" and onestop[0]["event.outcome"] == "success"
    assert onestop[0]["user.full_name"] == "Nguyễn Thị Lan" and onestop[0]["@timestamp"] == "2026-11-22T01:01:12.345Z"
    export = onestop[3]
    assert export["event.action"] == "dossier-export" and export["egov.record.count"] == 4812
    assert export["egov.record.ids"] == ["H08.11-261101-0001", "H08.11-261101-0002", "H08.11-261101-0003"]
    assert export["url.path"] == "/bao-cao/xuat?loai=đất đai"
    assert onestop[4]["event.outcome"] == "failure" and onestop[5]["event.action"] == "login"
    eoffice = [get_parser("eoffice").parse(line) for line in fx.EOFFICE]
    assert eoffice[0]["event.action"] == "document-sent" and eoffice[0]["@timestamp"] == "2026-11-22T01:15:00.000Z"
    assert eoffice[0]["egov.document.to_agencies"] == ["000.00.00.G01", "000.00.00.H37"]
    assert eoffice[2]["event.action"] == "document-opened" and eoffice[2]["egov.document.classification"] == "mat"
    gateway = [get_parser("gateway").parse(line) for line in fx.GATEWAY]
    assert gateway[0]["egov.api.name"] == "CSDLQG-DC/tra-cuu-cong-dan" and gateway[0]["egov.record.count"] == 1
    assert gateway[1]["url.query"] == "ten=Công ty Bình Định" and gateway[2]["http.response.body.bytes"] == 61440000
    assert gateway[3]["event.outcome"] == "failure" and gateway[0]["event.duration"] == 120_000_000


def test_json_mapping_flags_unknown_fields_and_refuses_missing_required_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    parser = get_parser("gateway")
    flagged = parser.parse(fx.GATEWAY[0][:-1] + ',"bi_mat":"x"}')
    assert flagged["tags"] == ["unknown_fields"] and flagged["labels.unknown_fields"] == "bi_mat"
    with pytest.raises(ParseError, match=r"required field 'api\.name'"):
        parser.parse('{"ts": 1795310400123, "consumer": {"system": "a"}}')
    with pytest.raises(ParseError, match="invalid JSON"):
        parser.parse("{not json")
    with pytest.raises(ParseError, match="time field"):
        parser.parse('{"ts": "yesterday", "consumer": {"system": "a"}, "api": {"name": "b"}}')
    mapping = tmp_path / "x.yaml"
    mapping.write_text("module: x\ndataset: x.y\ntimestamp: {from: t, format: 'dd/MM/yyyy'}\n")
    from canhgac.core.errors import ConfigError

    with pytest.raises(ConfigError, match="lacks"):
        get_parser("x", mappings={"x": mapping})
    mapping.write_text("module: x\ndataset: x.y\ntimestamp: {from: t}\nfeilds: {}\n")
    with pytest.raises(ConfigError, match="Extra inputs"):
        get_parser("x", mappings={"x": mapping})


def test_zone_less_times_follow_the_source_zone() -> None:
    from datetime import UTC

    from canhgac.collectors.parsers import ParserOptions

    line = '{"timestamp": "22/11/2026 08:15:00", "su_kien": "MO", "van_ban": {"id": "1"}}'
    assert get_parser("eoffice").parse(line)["@timestamp"] == "2026-11-22T01:15:00.000Z"
    assert get_parser("eoffice", ParserOptions(zone=UTC)).parse(line)["@timestamp"] == "2026-11-22T08:15:00.000Z"
    iis_local = get_parser("iis", ParserOptions(zone=__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")))
    assert iis_local.parse(fx.IIS_DEFAULT_LINE)["@timestamp"] == "2026-11-22T01:04:05.000Z"
