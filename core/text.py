"""Command-line wording and number formats, Vietnamese first."""

from __future__ import annotations

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
