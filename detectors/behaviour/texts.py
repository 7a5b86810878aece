"""One sentence per alert, in Vietnamese and in English, saying what the entity did against its normal."""

from __future__ import annotations

from datetime import datetime

from canhgac.core.timeutil import VIETNAM
from canhgac.detectors.behaviour.features import EntityKey
from canhgac.detectors.behaviour.scoring import Finding, Verdict

#: What the entity did, as a verb phrase with the count before the object.
DOING_VI = {"views": ("đã xem", "hồ sơ"), "downloads": ("đã tải xuống", "hồ sơ"), "prints": ("đã in", "hồ sơ"),
            "exports": ("đã xuất", "hồ sơ"), "records": ("đã truy cập", "hồ sơ khác nhau"),
            "outside_unit": ("đã truy cập", "hồ sơ ngoài đơn vị của mình"),
            "outside_procedure": ("đã truy cập", "hồ sơ thuộc thủ tục chưa từng xử lý"),
            "sequential": ("đã truy cập", "hồ sơ có mã liên tiếp"), "off_hours": ("đã thực hiện", "thao tác"),
            "calls": ("đã gọi", "lượt API"), "bytes": ("đã nhận", "byte dữ liệu"),
            "distinct_apis": ("đã gọi", "API khác nhau")}
DOING_EN = {"views": ("viewed", "dossiers"), "downloads": ("downloaded", "dossiers"),
            "prints": ("printed", "dossiers"), "exports": ("exported", "dossiers"),
            "records": ("touched", "distinct dossiers"), "outside_unit": ("touched", "dossiers of other units"),
            "outside_procedure": ("touched", "dossiers of procedures never handled"),
            "sequential": ("touched", "dossiers with consecutive numbers"), "off_hours": ("made", "actions"),
            "calls": ("made", "API calls"), "bytes": ("received", "bytes"),
            "distinct_apis": ("called", "distinct APIs")}
CLIENT_RECORDS_VI = ("đã nhận", "bản ghi")
CLIENT_RECORDS_EN = ("received", "records")
WEEKDAYS_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def number_vi(value: float) -> str:
    """1240 → "1.240", 30.5 → "30,5" (Vietnamese grouping and decimal comma)."""
    return number_en(value).translate(_SWAP)


_SWAP = str.maketrans({",": ".", ".": ","})


def number_en(value: float) -> str:
    rounded = round(value, 1)
    return f"{int(rounded):,}" if rounded == int(rounded) else f"{rounded:,.1f}"


def _who(key: EntityKey, profile: dict[str, str], language: str) -> str:
    if key.kind == "official":
        return f"{'Cán bộ' if language == 'vi' else 'Official'} {key.id}"
    system, _, account = key.id.partition("/")
    if language == "vi":
        return f"Hệ thống {system} (tài khoản {account})"
    return f"System {system} (account {account})"


def _peers(key: EntityKey, language: str) -> str:
    if key.kind == "official":
        return "cán bộ cùng bộ phận" if language == "vi" else "peers in the same unit"
    return "các hệ thống cùng API" if language == "vi" else "systems calling the same API"


def _doing(key: EntityKey, feature: str, language: str) -> tuple[str, str]:
    if key.kind == "client" and feature == "records":
        return CLIENT_RECORDS_VI if language == "vi" else CLIENT_RECORDS_EN
    return (DOING_VI if language == "vi" else DOING_EN)[feature]


def _span(size: str, start: datetime, days: int, language: str) -> str:
    local = start.astimezone(VIETNAM)
    if size == "hour":
        return "trong 1 giờ" if language == "vi" else "in 1 hour"
    if size == "day":
        return f"trong ngày {local:%d/%m/%Y}" if language == "vi" else f"on {local:%d/%m/%Y}"
    return (f"trong {days} ngày từ {local:%d/%m/%Y}" if language == "vi"
            else f"over {days} days from {local:%d/%m/%Y}")


def _finding_text(key: EntityKey, finding: Finding, size: str, start: datetime, days: int, language: str) -> str:
    number = number_vi if language == "vi" else number_en
    verb, thing = _doing(key, finding.feature, language)
    text = f"{verb} {number(finding.value)} {thing} {_span(size, start, days, language)}"
    usual = "mức thường" if language == "vi" else "usual"
    per_day = (" mỗi ngày" if language == "vi" else " a day") if size in ("day", "days") else ""
    text += f"; {usual}{per_day} {number(finding.baseline_mean)} ± {number(finding.baseline_std)}"
    if finding.peer_median is not None:
        text += f"; {_peers(key, language)} {number(finding.peer_median)}"
    return text


def explain(key: EntityKey, profile: dict[str, str], verdict: Verdict, size: str, start: datetime,
            days: int, language: str) -> str:
    who = _who(key, profile, language)
    if verdict.rule == "off-hours":
        local = start.astimezone(VIETNAM)
        actions = verdict.findings[0].value
        number = number_vi if language == "vi" else number_en
        if language == "vi":
            text = (f"{who} hoạt động lúc {local:%H}:00–{local:%H}:59 {WEEKDAYS_VI[local.weekday()]} "
                    f"{local:%d/%m/%Y}, ngoài giờ làm việc thường lệ, với {number(actions)} thao tác")
            if verdict.new_networks:
                text += f", từ mạng chưa từng dùng {', '.join(verdict.new_networks)}"
            if verdict.new_devices:
                text += f", trên {verdict.new_devices} thiết bị (trình duyệt) mới"
            return text
        text = (f"{who} was active at {local:%H}:00–{local:%H}:59 on {local:%A %d/%m/%Y}, outside its usual "
                f"hours, with {number(actions)} actions")
        if verdict.new_networks:
            text += f", from a network never used before {', '.join(verdict.new_networks)}"
        if verdict.new_devices:
            text += f", on {verdict.new_devices} new device(s) (browser)"
        return text
    parts = [_finding_text(key, finding, size, start, days, language) for finding in verdict.findings[:2]]
    return f"{who} " + "; ".join(parts)
