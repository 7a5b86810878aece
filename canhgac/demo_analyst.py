"""The demo's analyst: what a SOC analyst would record on the headline incidents once detection has opened
them — the dossier walk is a personal-data breach (its 72-hour notice clock starts), the web shell means the
attacker controls a level-4 system (a serious incident). Through the incident service, so every step is in
the audit trail like a person's."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from canhgac.core.errors import CanhGacError
from canhgac.core.i18n import pick
from canhgac.core.model import OPEN_STATES, BreachDetails, Incident, IncidentCategory
from canhgac.incidents import lifecycle
from canhgac.runtime import Runtime
from canhgac.simulator import Attack
from canhgac.storage.base import IncidentQuery

log = logging.getLogger(__name__)
ACTOR = "demo-scenario"
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Finding:
    """What the analyst concludes about the incident of one kind of headline attack."""

    categories: list[IncidentCategory]
    comment_vi: str
    comment_en: str
    breach: Callable[[Incident], BreachDetails] | None = None


def _walk_breach(incident: Incident) -> BreachDetails:
    return BreachDetails(occurred_at=incident.first_seen, place=incident.system or "",
                         act="Dò lần lượt mã hồ sơ trên trang tra cứu, đọc hồ sơ của người khác",
                         data_types=["họ và tên", "số định danh cá nhân", "địa chỉ thường trú"],
                         records_affected=40, data_subjects_affected=40,
                         mitigation="Chặn địa chỉ nguồn; bật giới hạn tốc độ và CAPTCHA cho trang tra cứu")


FINDINGS = {
    "record_walk": Finding([IncidentCategory.personal_data_leak],
                           "Kịch bản chạy thử: 40 hồ sơ của người dân đã bị đọc — lộ dữ liệu cá nhân; phải thông báo "
                           "trong 72 giờ (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15).",
                           "Demo scenario: 40 citizens' dossiers were read — a personal-data breach; the notice is "
                           "due within 72 hours (Law 91/2025/QH15).", _walk_breach),
    "webshell": Finding([IncidentCategory.loss_of_control],
                        "Kịch bản chạy thử: tệp web shell đã chạy lệnh trên máy chủ — mất quyền kiểm soát hệ thống "
                        "cấp độ 4: sự cố nghiêm trọng, báo cáo ban đầu ngay.",
                        "Demo scenario: the web shell ran commands on the server — control of a level-4 system "
                        "lost: a serious incident, initial report at once."),
}


class DemoAnalyst:
    def __init__(self, attacks: list[Attack], language: str) -> None:
        self.pending = {attack.kind: attack for attack in attacks if attack.kind in FINDINGS}
        self.language = language

    def run(self, runtime: Runtime, stop: threading.Event) -> None:
        """Until every headline incident is classified, or ``stop``."""
        while self.pending and not stop.wait(POLL_SECONDS):
            try:
                self.step(runtime)
            except CanhGacError as exc:  # someone changed the incident meanwhile: look again next round
                log.debug("demo analyst: %s", exc)

    def step(self, runtime: Runtime) -> None:
        incidents = runtime.store.search_incidents(IncidentQuery(states=frozenset(OPEN_STATES), limit=1000))
        for kind, attack in list(self.pending.items()):
            found = next((i for i in incidents if i.entities.get("source.ip") == attack.source_ip
                          and i.system == attack.system), None)
            if found is None:
                continue
            self._classify(runtime, found, FINDINGS[kind])
            del self.pending[kind]

    def _classify(self, runtime: Runtime, incident: Incident, finding: Finding) -> None:
        service = runtime.pipeline.incidents
        changes: dict[str, object] = {"categories": finding.categories}
        if finding.breach is not None:
            changes["breach"] = finding.breach(incident)
        known = frozenset(runtime.directory.systems)
        updated = service.apply(incident.id, scope=None, expected_version="*", actor=ACTOR, action="update",
                                mutate=lambda i: lifecycle.apply_fields(i, changes, now=service.clock(),
                                                                        known_systems=known))
        text = pick(finding.comment_vi, finding.comment_en, self.language)
        service.apply(updated.id, scope=None, expected_version="*", actor=ACTOR, action="comment",
                      mutate=lambda i: lifecycle.add_comment(i, text, actor=ACTOR, now=service.clock()))
