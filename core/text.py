"""Command-line wording and number formats, Vietnamese first; making stored text safe to print."""

from __future__ import annotations

import re

MESSAGES: dict[str, dict[str, str]] = {
    "vi": {
        "ingest.header": "Đã nhập {files} tệp ({lines} dòng) trong {seconds} giây — {eps} sự kiện/giây",
        "ingest.events": "Sự kiện phân tích được",
        "ingest.stored": "Sự kiện mới lưu",
        "ingest.already": "đã có từ trước",
        "ingest.dead": "Dòng lỗi (dead letter)",
        "ingest.alerts": "Cảnh báo mới",
        "ingest.incidents": "Sự cố mới",
        "ingest.updated": "cập nhật",
        "ingest.flagged": "Dòng được đánh dấu",
        "ingest.rules": "Luật phát hiện: {loaded} đã nạp, {failed} lỗi",
        "config.ok": "Cấu hình hợp lệ: {file} — {agencies} cơ quan, đơn vị, {systems} hệ thống thông tin, "
                     "{keys} khóa API, kho dữ liệu {store}",
        "config.bad": "Cấu hình không hợp lệ ({count} lỗi):",
        "error": "Lỗi",
        "demo.ready": "Canh Gác đang chạy thử tại {url}",
        "demo.keys": "Đăng nhập trang bằng một khóa API thử nghiệm:",
        "demo.stop": "Nhấn Ctrl-C để dừng.",
        "demo.home": "Dữ liệu (CANHGAC_HOME): {home}",
        "serve.ready": "Canh Gác phục vụ tại {url} (kho dữ liệu: {store})",
        "serve.no_config": "Không tìm thấy cấu hình (--config, CANHGAC_CONFIG hoặc $CANHGAC_HOME/canhgac.yaml). "
                           "canhgac serve không chạy bằng cấu hình ví dụ: các khóa API thử nghiệm trong đó là "
                           "công khai, ai cũng đăng nhập được.",
        "serve.demo_keys": "Cấu hình {file} dùng khóa API thử nghiệm công khai ({keys}): ai cũng đăng nhập được. "
                           "Thay bằng khóa của riêng bạn (lưu SHA-256 trong api_keys).",
        "serve.hint": "Tạo cấu hình: canhgac config example > canhgac.yaml, sửa cơ quan, hệ thống và khóa API, "
                      "rồi chạy canhgac serve --config canhgac.yaml. Chỉ để chạy thử: canhgac demo hoặc "
                      "canhgac serve --demo.",
        "serve.demo_mode": "Chế độ chạy thử (--demo): chấp nhận khóa API thử nghiệm công khai — không dùng cho "
                           "hệ thống thật.",
        "ingest.not_file": "{path}: không phải tệp đọc được",
        "ingest.hint_format": "Phần lớn các dòng của {file} không đọc được theo định dạng {source}. --source có "
                              "đúng không? Các dòng này giống định dạng {formats}.",
        "ingest.hint_unknown": "Phần lớn các dòng của {file} không đọc được theo định dạng {source}, và không "
                               "định dạng đã biết nào đọc được chúng. --source có đúng không? (lý do từng dòng: "
                               "canhgac dead-letters)",
        "warning": "Cảnh báo",
        "config.unknown_format": "không có định dạng nhật ký {format!r}; các định dạng đã biết: {known}",
        "config.no_log_file": "chưa có tệp nhật ký nào khớp {pattern}",
        "config.unknown_rule": "không có luật phát hiện nào có mã hoặc tên {rule} (kiểm tra lỗi chính tả)",
        "config.warnings": "{count} cảnh báo.",
        "serve.rules": "Luật phát hiện: {loaded} đã nạp, {failed} lỗi",
        "serve.rule_error": "  luật không nạp được: {error}",
        "serve.tailing": "Đang theo dõi {count} tệp nhật ký:",
        "serve.no_tails": "Không theo dõi tệp nhật ký nào (chưa có tệp nào khớp log_sources kiểu file).",
        "serve.syslog": "Nhận syslog: {listeners}",
        "serve.push": "Nhận nhật ký đẩy qua HTTP (/api/v1/ingest): {names}",
        "serve.slack_on": "Slack: bật ({routes} tuyến thông báo)",
        "serve.slack_off": "Slack: tắt ({reason})",
        "serve.port_taken": "Cổng {port} trên {host} đang được một chương trình khác dùng. Dừng chương trình đó "
                            "hoặc chọn cổng khác, ví dụ --port {other}.",
        "serve.cannot_listen": "Không mở được cổng {host}:{port}: {reason}",
        "serve.syslog_failed": "Không mở được cổng nhận syslog: {reason}",
        "demo.data": "Dữ liệu chạy thử (kho, nhật ký mô phỏng) nằm riêng tại {directory}, không đụng đến "
                     "~/.canhgac hay CANHGAC_HOME; chọn thư mục khác bằng --data-dir.",
        "demo.not_demo_dir": "{directory} không trống và không phải thư mục chạy thử của Canh Gác: không dùng để "
                             "tránh xóa nhầm dữ liệu. Chọn một thư mục trống hoặc mới.",
        "demo.scenario": "Kịch bản chạy thử: {what}",
        "stopped": "Đã dừng.",
        "none": "Không có bản ghi nào.",
    },
    "en": {
        "ingest.header": "Ingested {files} file(s) ({lines} lines) in {seconds} s — {eps} events/s",
        "ingest.events": "Events parsed",
        "ingest.stored": "New events stored",
        "ingest.already": "already stored",
        "ingest.dead": "Dead letters",
        "ingest.alerts": "New alerts",
        "ingest.incidents": "New incidents",
        "ingest.updated": "updated",
        "ingest.flagged": "Flagged lines",
        "ingest.rules": "Detection rules: {loaded} loaded, {failed} failed",
        "config.ok": "Configuration valid: {file} — {agencies} agencies, {systems} information systems, "
                     "{keys} API keys, {store} store",
        "config.bad": "Configuration invalid ({count} problems):",
        "error": "Error",
        "demo.ready": "Canh Gác demo running at {url}",
        "demo.keys": "Sign in to the page with a demo API key:",
        "demo.stop": "Press Ctrl-C to stop.",
        "demo.home": "Data (CANHGAC_HOME): {home}",
        "serve.ready": "Canh Gác serving at {url} (store: {store})",
        "serve.no_config": "No configuration found (--config, CANHGAC_CONFIG or $CANHGAC_HOME/canhgac.yaml). "
                           "canhgac serve does not run on the example configuration: its demo API keys are "
                           "public, anyone could sign in.",
        "serve.demo_keys": "Configuration {file} uses the public demo API keys ({keys}): anyone could sign in. "
                           "Replace them with your own (their SHA-256 in api_keys).",
        "serve.hint": "Create one: canhgac config example > canhgac.yaml, edit the agencies, systems and API keys, "
                      "then run canhgac serve --config canhgac.yaml. Only to try it out: canhgac demo or "
                      "canhgac serve --demo.",
        "serve.demo_mode": "Demo mode (--demo): the public demo API keys are accepted — not for real systems.",
        "ingest.not_file": "{path}: not a readable file",
        "ingest.hint_format": "Most lines of {file} could not be read as {source}. Is --source right? These lines "
                              "look like {formats}.",
        "ingest.hint_unknown": "Most lines of {file} could not be read as {source}, and no known format reads "
                               "them. Is --source right? (why, line by line: canhgac dead-letters)",
        "warning": "Warning",
        "config.unknown_format": "unknown log format {format!r}; known formats: {known}",
        "config.no_log_file": "no log file matches {pattern} yet",
        "config.unknown_rule": "no detection rule has the id or name {rule} (check the spelling)",
        "config.warnings": "{count} warning(s).",
        "serve.rules": "Detection rules: {loaded} loaded, {failed} failed",
        "serve.rule_error": "  rule not loaded: {error}",
        "serve.tailing": "Tailing {count} log file(s):",
        "serve.no_tails": "No log file tailed (no file matches the file log_sources yet).",
        "serve.syslog": "Syslog listeners: {listeners}",
        "serve.push": "HTTP push sources (/api/v1/ingest): {names}",
        "serve.slack_on": "Slack: on ({routes} notification routes)",
        "serve.slack_off": "Slack: off ({reason})",
        "serve.port_taken": "Port {port} on {host} is in use by another program. Stop it or choose another port, "
                            "e.g. --port {other}.",
        "serve.cannot_listen": "Cannot listen on {host}:{port}: {reason}",
        "serve.syslog_failed": "Cannot open a syslog listener's port: {reason}",
        "demo.data": "Demo data (store, simulated logs) kept apart in {directory}, not in ~/.canhgac nor "
                     "CANHGAC_HOME; choose another folder with --data-dir.",
        "demo.not_demo_dir": "{directory} is not empty and is not a Canh Gác demo folder: not used, so that "
                             "nothing is deleted by mistake. Choose an empty or new folder.",
        "demo.scenario": "Demo scenario: {what}",
        "stopped": "Stopped.",
        "none": "Nothing found.",
    },
}


def message(key: str, language: str, **values: object) -> str:
    return MESSAGES.get(language, MESSAGES["vi"])[key].format(**values)


def number(value: float, language: str, decimals: int = 0) -> str:
    """``25000.5`` → ``25.000,5`` in Vietnamese, ``25,000.5`` in English."""
    text = f"{value:,.{decimals}f}"
    if language == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


#: What a terminal could act on or hide behind, beyond the C0 controls (which JSON encoders already escape):
#: DEL, C1 controls (8-bit CSI/OSC), bidi marks, overrides and isolates, invisible separators and joiners,
#: line and paragraph separators, the byte order mark, interlinear annotation marks, lone surrogates.
_UNSAFE_BEYOND_C0 = "\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
#: In a table cell tab and newline are escaped too: a cell is one line.
_UNSAFE_FOR_TERMINAL = re.compile(f"[\x00-\x1f{_UNSAFE_BEYOND_C0}]")
_UNSAFE_IN_JSON = re.compile(f"[{_UNSAFE_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (or that would hide or reorder what is shown)
    replaced by a visible escape: ``\\x1b``, ``\\x9b``, ``\\u202e``. For every table and text line the
    command line prints from stored data."""
    return _UNSAFE_FOR_TERMINAL.sub(_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable_json(line: str) -> str:
    """A JSON text with the characters a terminal would act on written as ``\\uXXXX`` escapes: the same
    JSON value (they can only occur inside strings), safe to print."""
    return _UNSAFE_IN_JSON.sub(_json_escape, line)
