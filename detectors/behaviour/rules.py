"""The behaviour detector's rules: ids, titles and response guides, in Vietnamese and English."""

from __future__ import annotations

from dataclasses import dataclass

from canhgac.core.model import Severity

PREFIX = "canhgac-behaviour-"
TAGS = ["attack.collection", "attack.t1213", "attack.exfiltration", "attack.t1567"]

_RESPONSE_OFFICIAL_VI = (
    "1. Gọi điện xác minh với cán bộ (số điện thoại trong danh bạ đơn vị, không dùng kênh có thể đã bị chiếm) "
    "và lãnh đạo trực tiếp: thao tác này có phải công việc được giao không?\n"
    "2. Nếu không xác minh được hoặc cán bộ không thực hiện: tạm khóa tài khoản, thu hồi phiên đăng nhập và đổi "
    "mật khẩu.\n"
    "3. Kiểm tra nơi nhận tệp đã xuất, tải xuống hoặc in (máy trạm, thư điện tử, thiết bị lưu trữ ngoài) và thu "
    "hồi nếu được.\n"
    "4. Đánh giá nghĩa vụ thông báo vi phạm dữ liệu cá nhân trong 72 giờ (Nghị định 13/2023/NĐ-CP).\n"
    "5. Nếu là công việc bình thường (ví dụ đợt cao điểm cấp đổi giấy tờ): đánh dấu cảnh báo là công việc bình "
    "thường để mức thường học theo.")
_RESPONSE_OFFICIAL_EN = (
    "1. Call the official (the number in the unit's directory, not a channel that may be taken over) and their "
    "manager: was this work they were asked to do?\n"
    "2. If it cannot be confirmed or they did not do it: suspend the account, end its sessions and reset the "
    "password.\n"
    "3. Check where the exported, downloaded or printed files went (workstation, e-mail, removable media) and "
    "recover them where possible.\n"
    "4. Assess the 72-hour personal-data breach notice (Decree 13/2023).\n"
    "5. If it was ordinary work (e.g. a peak of document renewals): mark the alert as expected work so the "
    "baseline learns it.")
_RESPONSE_CLIENT_VI = (
    "Với hệ thống gọi API (tài khoản dịch vụ): liên hệ đơn vị quản lý hệ thống đối tác; tạm thu hồi hoặc đổi khóa "
    "truy cập của tài khoản trên nền tảng chia sẻ dữ liệu (LGSP/NGSP); kiểm tra phạm vi dữ liệu đã trả về.")
_RESPONSE_CLIENT_EN = (
    "For a calling system (service account): contact the owner of the partner system; suspend or rotate the "
    "account's credentials on the data-sharing platform (LGSP/NGSP); check which data was returned.")


_FALSE_POSITIVES = ["Peaks of ordinary work (document renewals, year-end statistics) not yet learned",
                    "A new task given to the official or a new integration of the partner system"]
_FALSE_POSITIVES_VI = ["Đợt cao điểm công việc bình thường (cấp đổi giấy tờ, thống kê cuối năm) chưa được học",
                       "Nhiệm vụ mới được giao cho cán bộ hoặc tích hợp mới của hệ thống đối tác"]


@dataclass(frozen=True)
class BehaviourRule:
    kind: str  # volume | drift | enumeration | scope | off-hours
    title: str
    title_vi: str
    description: str
    description_vi: str
    severity: Severity

    @property
    def id(self) -> str:
        return PREFIX + self.kind

    @property
    def name(self) -> str:
        return "behaviour_" + self.kind.replace("-", "_")

    @property
    def tags(self) -> list[str]:
        return list(TAGS)

    @property
    def falsepositives(self) -> list[str]:
        return list(_FALSE_POSITIVES)

    @property
    def falsepositives_vi(self) -> list[str]:
        return list(_FALSE_POSITIVES_VI)

    @property
    def response_vi(self) -> str:
        return f"{_RESPONSE_OFFICIAL_VI}\n{_RESPONSE_CLIENT_VI}"

    @property
    def response(self) -> str:
        return f"{_RESPONSE_OFFICIAL_EN}\n{_RESPONSE_CLIENT_EN}"


RULES = {rule.id: rule for rule in (
    BehaviourRule("volume", "Account far above its own normal and its peers",
                  "Tài khoản vượt xa mức thường của chính mình và của người cùng bộ phận",
                  "An official or API client viewed, downloaded, printed, exported or received far more records in "
                  "an hour or a day than its own history and its peers make normal.",
                  "Một cán bộ hoặc hệ thống gọi API đã xem, tải xuống, in, xuất hoặc nhận nhiều hồ sơ, bản ghi trong "
                  "một giờ hoặc một ngày hơn hẳn mức thường của chính mình và của người cùng bộ phận.",
                  Severity.high),
    BehaviourRule("drift", "Slow exfiltration: days above normal adding up",
                  "Rò rỉ chậm: nhiều ngày liên tiếp vượt mức thường",
                  "Day after day a little above normal, with no single hour alarming, adding up to several normal "
                  "days' worth of extra records.",
                  "Nhiều ngày liên tiếp cao hơn mức thường một chút, không giờ nào đáng báo động, nhưng cộng lại "
                  "bằng lượng hồ sơ của nhiều ngày làm việc.", Severity.high),
    BehaviourRule("enumeration", "Sequential dossier numbers walked",
                  "Duyệt lần lượt hồ sơ theo mã liên tiếp",
                  "Most records touched in an hour have consecutive numbers: a walk through the register rather "
                  "than work on citizens' requests.",
                  "Phần lớn hồ sơ truy cập trong một giờ có mã số liên tiếp nhau: duyệt lần lượt sổ hồ sơ thay vì "
                  "xử lý yêu cầu của người dân.", Severity.high),
    BehaviourRule("scope", "Records outside the official's own unit or procedures",
                  "Truy cập hồ sơ ngoài đơn vị hoặc ngoài thủ tục thường làm",
                  "An official read records of another unit, or of procedures they never handle.",
                  "Cán bộ truy cập hồ sơ của đơn vị khác, hoặc của những thủ tục mình chưa từng xử lý.",
                  Severity.medium),
    BehaviourRule("off-hours", "Activity at hours the account never works",
                  "Hoạt động vào giờ tài khoản không bao giờ làm việc",
                  "The account worked at an hour of the week it never works; worse from a network or device it "
                  "never used (a stolen password).",
                  "Tài khoản hoạt động vào giờ trong tuần mà nó không bao giờ làm việc; nghiêm trọng hơn khi từ mạng "
                  "hoặc thiết bị chưa từng dùng (có thể bị lộ mật khẩu).", Severity.medium),
)}

RULE_IDS = tuple(RULES)
