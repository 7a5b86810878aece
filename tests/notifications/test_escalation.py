"""On-call escalation with a frozen clock, through the store, the outbox, the dispatcher and a fake Slack: the chain
climbs on schedule until someone acknowledges, legal deadlines are reminded once each, quiet hours hold low
severities until morning, the digest comes at 07:30 local."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from canhgac.core.config import EXAMPLE_CONFIG, Settings, parse_settings
from canhgac.core.directory import Directory
from canhgac.core.errors import ConfigErrors
from canhgac.core.model import FilingKind, Incident, IncidentCategory, IncidentState, Resolution, Severity
from canhgac.incidents.lifecycle import file_notice, reopen, transition
from canhgac.incidents.service import IncidentService
from canhgac.notifications.escalation import request_escalation
from canhgac.notifications.escalation.scheduled import outbox_delivery, run_escalation, schedule_escalation_job
from canhgac.storage.base import Store

from tests.notifications.chat_harness import FakeClock, dispatcher_for
from tests.notifications.fake_slack import FakeSlack, Posted

# Monday 23 November 2026, 10:00 in Vietnam. Shifts of 24 h from 1 November 08:00: 22 handovers have passed,
# so people[22 % 3] (U0SOC0002) is on call and U0SOC0003 is next.
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ON_CALL, NEXT, LEAD = "U0SOC0002", "U0SOC0003", "U0SOCLEAD"
POLICY = {"name": "truc-gia-lai", "agencies": ["gialai"], "min_severity": "high",
          "rotation": {"people": ["U0SOC0001", ON_CALL, NEXT], "shift_hours": 24, "handover": "08:00",
                       "starts": "2026-11-01"},
          "steps": [{"after_minutes": 15, "to": "next"}, {"after_minutes": 30, "to": "channel"},
                    {"after_minutes": 60, "to": "soc_lead"}],
          "channel": "#truc-gia-lai", "soc_lead": LEAD}


def configured(slack_url: str = "http://127.0.0.1:9/api/", *, users: list[dict[str, str]] | None = None,
               language: str = "vi", **policy: Any) -> Settings:
    """The example configuration with one on-call policy and Slack at ``slack_url``, parsed like a file."""
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["notifications"]["oncall"] = [{**POLICY, **policy}]
    data["notifications"]["slack"]["base_url"] = slack_url
    data["notifications"]["slack"]["users"] = users or []
    data["notifications"]["language"] = language
    return parse_settings(yaml.safe_dump(data, allow_unicode=True), "test.yaml")


class Desk:
    """A store, a frozen clock, the escalation job run against them, and what reaches the fake Slack."""

    def __init__(self, store: Store, fake: FakeSlack, *, users: list[dict[str, str]] | None = None,
                 language: str = "vi", **policy: Any) -> None:
        self.store, self.fake = store, fake
        self.settings = configured(fake.base_url, users=users, language=language, **policy)
        self.directory = Directory(self.settings)
        self.now = T0
        self.service = IncidentService(store, self.directory, clock=lambda: self.now)
        self.deliver = outbox_delivery(store, self.settings, self.directory)
        self.dispatcher = dispatcher_for(store, self.settings, FakeClock())

    def open(self, severity: Severity, *, agency: str = "gialai-quynhon", title: str = "SQL injection",
             categories: list[IncidentCategory] | None = None) -> Incident:
        return self.service.new_incident(agency=agency, title=title, severity=severity, fingerprint=f"f-{title}",
                                         rule_id="r", first_seen=self.now, last_seen=self.now, detected_at=self.now,
                                         categories=categories or [])

    def run(self, at: datetime) -> list[Posted]:
        """One run of the job at ``at``, the outbox drained: the messages of ours Slack accepted (an incident's
        top message, which opens its thread, is the outbox's own and left out)."""
        self.now = at
        before = len(self.fake.messages)
        run_escalation(self.store, self.settings, self.directory, self.deliver, now=at)
        assert self.dispatcher.drain(120)
        return [m for m in self.fake.messages[before:] if not (m.notice_id or "").endswith("|post")]

    def thread_of(self, incident: Incident, channel: str = "#truc-gia-lai") -> str:
        (top,) = [m for m in self.fake.in_channel(channel) if m.notice_id == f"{channel}|{incident.id}|post"]
        return top.ts

    def acknowledge(self, incident: Incident, at: datetime) -> None:
        self.now = at
        self.service.apply(incident.id, scope=None, expected_version="*", actor="an", action="state",
                           mutate=lambda i: transition(i, IncidentState.acknowledged, actor="an", now=at))


def mentions(message: Posted) -> list[str]:
    return re.findall(r"<@([A-Z0-9]+)>", message.text)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    server = FakeSlack()
    yield server
    server.close()


@pytest.fixture
def desk(sqlite_store: Store, fake: FakeSlack) -> Desk:
    return Desk(sqlite_store, fake)


def test_unacknowledged_critical_climbs_the_chain_on_schedule(store: Store, fake: FakeSlack) -> None:
    desk = Desk(store, fake)  # both stores: SQLite and Elasticsearch (osmem)
    incident = desk.open(Severity.critical)
    (page,) = desk.run(T0)
    thread = desk.thread_of(incident)
    assert (page.channel, page.thread_ts, mentions(page)) == ("#truc-gia-lai", thread, [ON_CALL])
    assert "chưa được tiếp nhận" in page.text and incident.id in page.text
    assert desk.run(T0) == [] and desk.run(T0 + timedelta(minutes=14, seconds=59)) == []
    (step,) = desk.run(T0 + timedelta(minutes=15))
    assert (step.thread_ts, mentions(step)) == (thread, [NEXT]) and "người trực kế tiếp" in step.text
    assert desk.run(T0 + timedelta(minutes=29)) == []
    (channel,) = desk.run(T0 + timedelta(minutes=30))
    assert (channel.channel, channel.thread_ts) == ("#truc-gia-lai", None)  # a message of its own
    assert incident.id in channel.text and "30 phút" in channel.text
    (lead,) = desk.run(T0 + timedelta(minutes=60))
    assert (lead.thread_ts, mentions(lead)) == (thread, [LEAD]) and "trưởng SOC" in lead.text
    assert desk.run(T0 + timedelta(hours=3)) == []  # the chain is used up; nothing is sent twice
    assert len({m.notice_id for m in fake.messages}) == len(fake.messages)


def test_acknowledging_stops_the_chain(desk: Desk) -> None:
    incident = desk.open(Severity.critical)
    desk.run(T0)
    desk.run(T0 + timedelta(minutes=15))
    desk.acknowledge(incident, T0 + timedelta(minutes=20))
    assert desk.run(T0 + timedelta(minutes=30)) == [] and desk.run(T0 + timedelta(minutes=90)) == []
    ours = [m for m in desk.fake.messages if not (m.notice_id or "").endswith("|post")]
    assert [mentions(m) for m in ours] == [[ON_CALL], [NEXT]]


def test_a_reopened_incident_starts_a_new_chain(desk: Desk) -> None:
    incident = desk.open(Severity.critical)
    desk.run(T0)
    desk.acknowledge(incident, T0 + timedelta(minutes=5))
    desk.now = T0 + timedelta(hours=1)
    desk.service.apply(incident.id, scope=None, expected_version="*", actor="an", action="state",
                       mutate=lambda i: transition(i, IncidentState.resolved, actor="an", now=desk.now,
                                                   resolution=Resolution.true_positive))
    assert desk.run(T0 + timedelta(hours=1)) == []
    back = T0 + timedelta(hours=2)
    desk.now = back
    desk.service.apply(incident.id, scope=None, expected_version="*", actor="canhgac", action="reopen",
                       mutate=lambda i: reopen(i, actor="canhgac", now=back, reason="new alerts",
                                               to_state=IncidentState.new))
    (page,) = desk.run(back)
    assert mentions(page) == [ON_CALL] and page.thread_ts == desk.thread_of(incident)
    assert [mentions(m) for m in desk.run(back + timedelta(minutes=15))] == [[NEXT]]


def test_below_the_policy_severity_or_outside_its_agencies_nobody_is_paged(desk: Desk) -> None:
    desk.open(Severity.medium, title="scan")  # the policy pages from high
    desk.open(Severity.critical, agency="daklak", title="other province")
    assert desk.run(T0) == [] and desk.run(T0 + timedelta(hours=1)) == []


def test_ack_timeout_per_severity_moves_the_whole_chain(sqlite_store: Store, fake: FakeSlack) -> None:
    desk = Desk(sqlite_store, fake, ack_timeout_minutes={"high": 40})
    desk.open(Severity.high)
    desk.run(T0)
    assert desk.run(T0 + timedelta(minutes=39)) == []
    assert [mentions(m) for m in desk.run(T0 + timedelta(minutes=40))] == [[NEXT]]
    assert desk.run(T0 + timedelta(minutes=54)) == []
    (channel,) = desk.run(T0 + timedelta(minutes=55))
    assert channel.thread_ts is None and "55 phút" in channel.text


def test_the_rotation_changes_hands_at_handover(desk: Desk) -> None:
    handover = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 08:00 local the next day: U0SOC0003's shift
    desk.now = handover - timedelta(minutes=1)
    before = desk.open(Severity.critical, title="before")
    pages = [m for m in desk.run(handover - timedelta(minutes=1)) if m.thread_ts]
    assert [(m.thread_ts, mentions(m)) for m in pages] == [(desk.thread_of(before), [ON_CALL])]
    desk.now = handover
    after = desk.open(Severity.critical, title="after")
    assert [(m.thread_ts, mentions(m)) for m in desk.run(handover)] == [(desk.thread_of(after), [NEXT])]


def test_deadline_reminders_arrive_before_each_legal_deadline(desk: Desk) -> None:
    incident = desk.open(Severity.high, categories=[IncidentCategory.personal_data_leak])
    desk.acknowledge(incident, T0 + timedelta(minutes=5))  # reminders do not depend on the chain
    desk.run(T0 + timedelta(minutes=5))
    breach_due, notice_due = T0 + timedelta(hours=72), T0 + timedelta(hours=120)

    def reminders(at: datetime) -> list[str]:
        return [m.text for m in desk.run(at) if m.thread_ts == desk.thread_of(incident)]

    assert reminders(breach_due - timedelta(hours=24, minutes=1)) == []
    (day_before,) = reminders(breach_due - timedelta(hours=24))
    assert "nhắc hạn" in day_before and "vi phạm dữ liệu cá nhân" in day_before
    assert "26/11/2026 10:00:00 (GMT+7)" in day_before and "còn khoảng 24 giờ" in day_before
    assert "<@U0SOC0001>" in day_before  # two handovers later, people[24 % 3] is on call
    assert reminders(breach_due - timedelta(hours=23)) == []
    (two_hours,) = reminders(breach_due - timedelta(hours=2))
    assert "còn khoảng 2 giờ" in two_hours
    (late,) = reminders(breach_due)
    assert "quá hạn" in late and reminders(breach_due + timedelta(hours=1)) == []
    (notice_day_before,) = reminders(notice_due - timedelta(hours=24))
    assert "Thông tư 20/2017" in notice_day_before
    desk.now = filed = notice_due - timedelta(hours=3)
    desk.service.apply(incident.id, scope=None, expected_version="*", actor="an", action="file",
                       mutate=lambda i: file_notice(i, FilingKind.incident_notice, due=notice_due, filed_at=filed,
                                                    actor="an", now=filed, reference="CV-1", late_reason=None))
    assert reminders(notice_due - timedelta(hours=2)) == [] and reminders(notice_due) == []  # filed: no more


def test_quiet_hours_hold_a_low_severity_notice_until_morning(sqlite_store: Store, fake: FakeSlack) -> None:
    desk = Desk(sqlite_store, fake, min_severity="low")
    evening = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 23:00 local
    desk.now = evening
    desk.open(Severity.low, title="port scan")
    assert desk.run(evening) == [] and desk.run(evening + timedelta(hours=6, minutes=59)) == []  # until 05:59
    morning = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 06:00 local
    (page,) = desk.run(morning)
    assert mentions(page) == [ON_CALL] and "port scan" in page.text  # the night shift runs until 08:00
    assert desk.run(morning + timedelta(minutes=14)) == []  # the chain counts from the page, not from the night
    assert len(desk.run(morning + timedelta(minutes=15))) == 1


def test_quiet_hours_do_not_hold_a_critical_incident(sqlite_store: Store, fake: FakeSlack) -> None:
    desk = Desk(sqlite_store, fake, min_severity="low")
    night = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 00:30 local
    desk.now = night
    desk.open(Severity.critical, title="ransomware")
    (page,) = desk.run(night)
    assert "ransomware" in page.text and page.thread_ts


def test_morning_digest_at_half_past_seven_local(desk: Desk) -> None:
    desk.now = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 23:30 local: overnight
    desk.open(Severity.medium, title="night scan")
    desk.now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # the day before
    desk.open(Severity.medium, title="old scan")
    desk.now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    desk.open(Severity.medium, title="notice due")  # its 5-day notice is due 25/11 10:00 local
    digest_at = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 07:30 local, 24 November
    assert desk.run(digest_at - timedelta(minutes=1)) == []
    (digest,) = desk.run(digest_at)
    assert (digest.channel, digest.thread_ts) == ("#truc-gia-lai", None)
    text = digest.text
    assert "Bản tin sáng 24/11/2026" in text and "Sự cố đang mở: 3 (trung bình 3)" in text
    assert "Mới qua đêm (từ 23/11/2026 22:00:00 (GMT+7)): 1" in text and "night scan" in text
    assert "old scan" not in text and "Hạn chót pháp lý hôm nay hoặc đã quá: 0" in text
    assert mentions(digest) == [ON_CALL]  # the night shift until 08:00
    assert desk.run(digest_at + timedelta(minutes=1)) == []
    (next_day,) = desk.run(digest_at + timedelta(days=1))
    due = next_day.text.split("Hạn chót pháp lý hôm nay hoặc đã quá: ")[1]
    assert due.startswith("1") and "notice due" in due and "25/11/2026 10:00:00" in due


def test_a_request_to_escalate_is_sent_at_the_next_run(desk: Desk) -> None:
    incident = desk.open(Severity.critical)
    desk.run(T0)
    desk.acknowledge(incident, T0 + timedelta(minutes=2))  # acknowledged, yet someone wants more hands
    request_escalation(desk.store, incident.id, actor="an.nguyen", at=T0 + timedelta(minutes=3))
    (asked,) = desk.run(T0 + timedelta(minutes=4))
    assert mentions(asked) == [NEXT] and "an.nguyen yêu cầu báo cấp trên" in asked.text
    assert desk.run(T0 + timedelta(minutes=5)) == []
    request_escalation(desk.store, incident.id, actor="an.nguyen", at=T0 + timedelta(minutes=6))
    (again,) = desk.run(T0 + timedelta(minutes=7))
    assert mentions(again) == [LEAD]  # the next person was asked already; then the SOC lead


def test_only_the_chosen_person_is_mentioned_and_log_text_is_inert(desk: Desk) -> None:
    desk.open(Severity.critical, title="<@U0ATTACKER> <!channel> see https://evil.example/x")
    (page,) = desk.run(T0)
    assert mentions(page) == [ON_CALL] and "<!channel>" not in page.text and "https://" not in page.text
    assert "&lt;@U0ATTACKER&gt; &lt;!channel&gt;" in page.text and "hxxps://evil[.]example/x" in page.text


def test_rotation_names_mapped_slack_users(sqlite_store: Store, fake: FakeSlack) -> None:
    users = [{"slack_id": "U0MAPPED02", "name": "tran.thi.b", "role": "soc_analyst"}]
    rotation = {**POLICY["rotation"], "people": ["U0SOC0001", "tran.thi.b", NEXT]}
    desk = Desk(sqlite_store, fake, users=users, rotation=rotation)
    desk.open(Severity.critical)
    (page,) = desk.run(T0)
    assert mentions(page) == ["U0MAPPED02"] and "tran.thi.b" not in page.text


def test_a_run_cut_short_before_its_state_is_saved_doubles_nothing(desk: Desk,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    incident = desk.open(Severity.critical)
    saved = desk.store.put_state

    def crash(key: str, value: dict[str, Any]) -> None:
        if key.startswith("escalation:"):
            raise OSError("the process died here")
        saved(key, value)

    monkeypatch.setattr(desk.store, "put_state", crash)
    with pytest.raises(OSError):
        desk.run(T0)  # the page reached the outbox; its record did not
    monkeypatch.setattr(desk.store, "put_state", saved)
    assert desk.dispatcher.drain(120)
    assert desk.run(T0 + timedelta(seconds=30)) == []  # planned again with the same key: the outbox keeps one
    pages = [m for m in desk.fake.messages if m.thread_ts == desk.thread_of(incident)]
    assert [mentions(m) for m in pages] == [[ON_CALL]]


def test_english_when_the_notifications_are_in_english(sqlite_store: Store, fake: FakeSlack) -> None:
    desk = Desk(sqlite_store, fake, language="en")
    desk.open(Severity.critical)
    (page,) = desk.run(T0)
    assert page.text.startswith(f"<@{ON_CALL}> you are on call") and "(critical)" in page.text
    (step,) = desk.run(T0 + timedelta(minutes=15))
    assert "Not acknowledged after 15 minutes" in step.text


def test_a_restart_carries_on_from_the_stored_state(tmp_path: Path, fake: FakeSlack) -> None:
    from canhgac.storage.sqlite import SqliteStore

    first = SqliteStore(tmp_path / "db.sqlite")
    desk = Desk(first, fake)
    desk.open(Severity.critical)
    desk.run(T0)
    first.close()
    again = SqliteStore(tmp_path / "db.sqlite")
    try:
        later = Desk(again, fake)
        assert later.run(T0 + timedelta(minutes=1)) == []
        assert [mentions(m) for m in later.run(T0 + timedelta(minutes=16))] == [[NEXT]]
    finally:
        again.close()


def test_serve_schedules_the_job_only_when_chat_can_be_sent(fake: FakeSlack, monkeypatch: pytest.MonkeyPatch,
                                                            sqlite_store: Store) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    settings = configured(fake.base_url)
    scheduler = BackgroundScheduler(timezone="UTC")
    assert schedule_escalation_job(scheduler, sqlite_store, settings, Directory(settings))
    assert scheduler.get_job("escalation").trigger.interval == timedelta(minutes=1)
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert not schedule_escalation_job(BackgroundScheduler(timezone="UTC"), sqlite_store, settings,
                                       Directory(settings))


def test_config_check_names_unknown_agencies_and_people() -> None:
    with pytest.raises(ConfigErrors) as caught:
        configured(agencies=["nowhere"], rotation={**POLICY["rotation"], "people": ["U0SOC0001", "ba.tuan"]})
    text = "\n".join(str(e) for e in caught.value.errors)
    assert "notifications.oncall[0].agencies[0]" in text and "unknown agency 'nowhere'" in text
    assert "notifications.oncall[0].rotation.people[1]" in text and "'ba.tuan'" in text
    with pytest.raises(ConfigErrors, match="soc_lead"):
        configured(soc_lead=None)
    with pytest.raises(ConfigErrors, match="after_minutes must grow"):
        configured(steps=[{"after_minutes": 30, "to": "next"}, {"after_minutes": 15, "to": "channel"}])
