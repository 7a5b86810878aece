"""Printable Vietnamese HTML for the report drafts. Every value is escaped: titles, descriptions and
observables come from attackers' log lines or from people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from canhgac.core.i18n import term
from canhgac.core.timeutil import VIETNAM, local_display
from canhgac.incidents.monitoring import IncidentFigures, IncidentLine, MonitoringReport
from canhgac.incidents.posture import Count
from canhgac.incidents.reports import BreachNotice, IncidentNotice

#: (label, value) or (label, value, field): a named field is editable in the draft (contenteditable needs no
#: script); the page reads the edited ``handling_result`` and ``recommendations`` back and saves them.
Rows = Sequence[tuple[str, object] | tuple[str, object, str]]
CATEGORY_VI = {
    "outage": "Gián đoạn dịch vụ", "secret_data_leak": "Lộ, mất dữ liệu bí mật",
    "personal_data_leak": "Lộ, mất dữ liệu cá nhân", "integrity_loss": "Mất toàn vẹn dữ liệu quan trọng",
    "loss_of_control": "Mất quyền điều khiển hệ thống", "spread": "Lây lan sang hệ thống cấp độ 4, 5",
    "attempt": "Tấn công chưa thành công", "malware": "Mã độc", "defacement": "Thay đổi giao diện",
    "other": "Khác",
}
PERIOD_VI = {"daily": "Báo cáo ngày", "weekly": "Báo cáo tuần"}


def _text(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, datetime):
        return local_display(value)
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _editable(field: str, value: object, tag: str = "td", extra: str = "") -> str:
    text = "" if value is None or value == "" or value == [] else _text(value)
    classes = f"fill {extra}".strip()
    return (f"<{tag} class=\"{classes}\" contenteditable=\"true\" data-field=\"{escape(field)}\">"
            f"{escape(text)}</{tag}>")


def _table(rows: Rows) -> str:
    cells = []
    for label, value, *field in rows:
        cell = _editable(field[0], value) if field else f"<td>{escape(_text(value))}</td>"
        cells.append(f"<tr><th scope=\"row\">{escape(label)}</th>{cell}</tr>")
    return f"<table class=\"fields\">{''.join(cells)}</table>"


def _date_line(moment: datetime | None) -> str:
    """"…, ngày 23 tháng 11 năm 2026": the place is the officer's to fill, the date starts as today."""
    local = (moment or datetime.now(VIETNAM)).astimezone(VIETNAM)
    return (f"<p class=\"date-line\">{_editable('place', '', 'span', 'short')}, ngày "
            f"{_editable('date', f'{local.day:02d} tháng {local.month:02d} năm {local.year}', 'span')}</p>")


def _letterhead(organization: str, dated: datetime | None) -> str:
    return ("<table class=\"letterhead\"><tr><td class=\"org\">"
            f"<p class=\"org-name\">{_editable('organization', organization, 'span')}</p>"
            f"<p>Số: {_editable('reference', '', 'span', 'short')}</p></td>"
            "<td class=\"motto\"><p class=\"nation\">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br>"
            f"Độc lập - Tự do - Hạnh phúc</p>{_date_line(dated)}</td></tr></table>")


def _signature(recipient: str) -> str:
    recipients = f"- {recipient};\n- Lưu: VT." if recipient else "- Lưu: VT."
    return ("<table class=\"signature\"><tr><td class=\"recipients\"><p><strong><em>Nơi nhận:</em></strong></p>"
            f"{_editable('recipients', recipients, 'p', 'lines')}</td>"
            f"<td class=\"signer\">{_editable('signer_title', 'THỦ TRƯỞNG ĐƠN VỊ', 'p', 'signer-title')}"
            "<p class=\"sub\">(Ký, ghi rõ họ tên, đóng dấu)</p>"
            f"{_editable('signer_name', '', 'p', 'signer-name')}</td></tr></table>")


def _counts(title: str, counts: list[Count]) -> str:
    if not counts:
        return f"<h2>{escape(title)}</h2><p class=\"none\">Không có</p>"
    rows = "".join(f"<tr><td>{escape(c.key)}</td><td class=\"n\">{c.count}</td></tr>" for c in counts)
    return f"<h2>{escape(title)}</h2><table class=\"counts\">{rows}</table>"


def page(title: str, subtitle: str, body: str, *, organization: str = "", dated: datetime | None = None,
         recipient: str = "") -> str:
    return ("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><link rel=\"stylesheet\" href=\"/assets/report.css\"></head>"
            f"<body><header>{_letterhead(organization, dated)}<h1>{escape(title)}</h1>"
            f"<p class=\"sub\">{escape(subtitle)}</p>"
            f"</header><main>{body}{_signature(recipient)}</main>"
            "<footer><p>Bản dự thảo do Canh Gác lập — cần người có thẩm quyền "
            f"kiểm tra, ký trước khi gửi.</p></footer></body></html>")


def incident_notice_html(notice: IncidentNotice) -> str:
    s = notice.system
    r = notice.reporter
    body = (
        "<h2>1. Đơn vị báo cáo</h2>" + _table([("Tên đơn vị", r.organization),
                                               ("Người liên hệ", r.name, "reporter_name"),
                                               ("Điện thoại", r.phone, "reporter_phone"),
                                               ("Thư điện tử", r.email, "reporter_email"),
                                               ("Nơi nhận", notice.recipient)]) +
        "<h2>2. Hệ thống thông tin bị sự cố</h2>" + _table([
            ("Tên hệ thống thông tin", s.name), ("Cấp độ an toàn hệ thống thông tin", s.security_level),
            ("Tên miền", s.domains), ("Địa chỉ IP", s.ip_addresses), ("Chủ quản hệ thống thông tin", s.owner),
            ("Đơn vị vận hành hệ thống thông tin", s.operator)]) +
        "<h2>3. Thông tin sự cố</h2>" + _table([
            ("Số hiệu", notice.number), ("Tiêu đề", notice.title),
            ("Mô tả sự cố", notice.description, "description"),
            ("Loại sự cố", [CATEGORY_VI.get(c, c) for c in notice.categories], "incident_type"),
            ("Mức độ", term(f"severity.{notice.severity}")), ("Sự cố nghiêm trọng", notice.serious),
            ("Thời điểm xảy ra", notice.occurred_at), ("Thời điểm phát hiện", notice.detected_at),
            ("Thời hạn thông báo", notice.deadline), ("Thời điểm lập báo cáo", notice.reported_at),
            ("Địa chỉ nguồn tấn công", notice.attack_sources), ("Kỹ thuật tấn công (ATT&CK)",
                                                                notice.attack_techniques)]) +
        "<h2>4. Kết quả xử lý ban đầu</h2>" + _table([("Kết quả xử lý", notice.handling_result,
                                                       "handling_result")]) +
        "<h2>5. Đề xuất, kiến nghị</h2>" + _table([("Kiến nghị", notice.recommendations, "recommendations")]))
    return page("THÔNG BÁO SỰ CỐ AN TOÀN THÔNG TIN MẠNG", notice.form, body, organization=r.organization,
                dated=notice.reported_at, recipient=notice.recipient)


def breach_notice_html(notice: BreachNotice) -> str:
    n = notice.nature
    body = (
        "<h2>1. Bên kiểm soát dữ liệu</h2>" + _table([("Cơ quan, đơn vị", notice.controller),
                                                     ("Số hiệu sự cố", notice.number),
                                                     ("Thông tin liên hệ", notice.contact, "contact")]) +
        "<h2>2. Bản chất của vi phạm</h2>" + _table([
            ("Thời gian", n.occurred_at), ("Địa điểm", n.place, "breach_place"),
            ("Hành vi vi phạm", n.act, "breach_act"), ("Loại dữ liệu cá nhân", n.data_types, "data_types"),
            ("Số lượng dữ liệu", n.records_affected, "records_affected"),
            ("Số chủ thể dữ liệu bị ảnh hưởng", n.data_subjects_affected, "data_subjects_affected")]) +
        "<h2>3. Hậu quả, thiệt hại có thể xảy ra</h2>" + _table([("Hậu quả", notice.consequences,
                                                                 "consequences")]) +
        "<h2>4. Biện pháp đã và sẽ thực hiện</h2>" + _table([("Biện pháp", notice.mitigation, "mitigation")]) +
        "<h2>5. Thời hạn</h2>" + _table([("Thời điểm phát hiện", notice.detected_at),
                                          ("Thời hạn thông báo (72 giờ)", notice.deadline),
                                          ("Thời điểm lập báo cáo", notice.reported_at)]))
    return page("THÔNG BÁO VI PHẠM DỮ LIỆU CÁ NHÂN", notice.form, body, organization=notice.controller,
                dated=notice.reported_at)


def _incident_list(title: str, lines: Sequence[IncidentLine], figures: IncidentFigures) -> str:
    rows = [(f"{i.id} — {i.title}", f"{term('severity.' + i.severity.value)}, {term('state.' + i.state)}")
            for i in lines]
    listed = _table(rows) if rows else "<p class=\"none\">Không có</p>"
    more = f"<p class=\"more\">và {figures.more} sự cố khác</p>" if figures.truncated else ""
    counts = _table([("Tổng số", figures.total)] +
                    [(f"Mức {term('severity.' + s.value)}", n) for s, n in figures.by_severity.items() if n] +
                    [(f"Trạng thái {term('state.' + s.value)}", n) for s, n in figures.by_state.items() if n])
    categories = [Count(key=CATEGORY_VI.get(c.key, c.key), count=c.count) for c in figures.by_category]
    return (f"<h2>{escape(title)}</h2>{counts}{listed}{more}" +
            (_counts("Theo loại sự cố", categories) if categories else "") +
            (_counts("Theo cơ quan, đơn vị", figures.by_agency) if len(figures.by_agency) > 1 else ""))


def monitoring_html(report: MonitoringReport) -> str:
    body = (
        _table([("Cơ quan, đơn vị", report.agency_name), ("Từ", report.start), ("Đến", report.end),
                ("Tổng số cảnh báo", report.alerts_total)] +
               [(f"Cảnh báo mức {term('severity.' + s.value)}", n) for s, n in report.alerts_by_severity.items()]) +
        (_counts("Mục tiêu bị tấn công", report.targets) + _counts("Kỹ thuật tấn công (ATT&CK)", report.techniques) +
         _counts("Luật phát hiện", report.rules) + _counts("Nguồn tấn công", report.sources)) +
        _incident_list("Sự cố phát hiện trong kỳ", report.incidents_opened, report.opened) +
        _incident_list("Sự cố đã đóng hoặc khắc phục trong kỳ", report.incidents_closed, report.closed))
    return page(f"{PERIOD_VI[report.period].upper()} GIÁM SÁT AN TOÀN THÔNG TIN", report.form, body,
                organization=report.agency_name, dated=report.end)
