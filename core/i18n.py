"""Words shown to people, Vietnamese first (terms from the agencies' glossary), English on request."""

from __future__ import annotations

import os

LANGUAGES = ("vi", "en")

TERMS: dict[str, dict[str, str]] = {
    "vi": {
        "severity.low": "thấp", "severity.medium": "trung bình", "severity.high": "cao",
        "severity.critical": "nghiêm trọng",
        "state.new": "mới", "state.acknowledged": "đã tiếp nhận", "state.investigating": "đang xử lý",
        "state.contained": "đã ngăn chặn", "state.resolved": "đã khắc phục", "state.closed": "đã đóng",
        "incident": "sự cố", "new_incident": "Sự cố mới", "severity_raised": "Sự cố tăng mức độ",
        "agency": "Cơ quan, đơn vị", "system": "Hệ thống thông tin", "source": "Địa chỉ nguồn",
        "alerts": "Số cảnh báo", "first_seen": "Phát hiện lúc", "last_seen": "Lần cuối",
        "rule": "Luật phát hiện", "severity": "Mức độ", "state": "Trạng thái", "user": "Tài khoản",
    },
    "en": {
        "severity.low": "low", "severity.medium": "medium", "severity.high": "high",
        "severity.critical": "critical",
        "state.new": "new", "state.acknowledged": "acknowledged", "state.investigating": "investigating",
        "state.contained": "contained", "state.resolved": "resolved", "state.closed": "closed",
        "incident": "incident", "new_incident": "New incident", "severity_raised": "Incident severity raised",
        "agency": "Agency", "system": "Information system", "source": "Source address",
        "alerts": "Alerts", "first_seen": "First seen", "last_seen": "Last seen",
        "rule": "Detection rule", "severity": "Severity", "state": "State", "user": "Account",
    },
}


def term(key: str, language: str = "vi") -> str:
    return TERMS.get(language, TERMS["vi"]).get(key) or TERMS["vi"][key]


def cli_language(configured: str = "vi") -> str:
    chosen = os.environ.get("CANHGAC_LANG", configured)
    return chosen if chosen in LANGUAGES else "vi"


def pick(vi: str, en: str, language: str | None = None) -> str:
    """One of two wordings written side by side: the Vietnamese, or the English when that is the language
    (by default the command line's, ``CANHGAC_LANG``)."""
    return en if (language or cli_language()) == "en" else vi
