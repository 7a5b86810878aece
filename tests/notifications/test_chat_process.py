"""The outbox through the real programs: ``canhgac ingest`` killed while a message is in flight and started again
with the same CANHGAC_HOME, ``canhgac sources`` telling why a channel is stuck, and a page action reaching the
incident's thread through the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from canhgac.api import create_app
from canhgac.core.config import EXAMPLE_CONFIG, load_settings
from canhgac.storage import open_store
from canhgac.storage.base import IncidentQuery
from fastapi.testclient import TestClient

from canhgac.cli import main
from tests.notifications.chat_harness import FakeClock, dispatcher_for
from tests.notifications.fake_slack import FakeSlack

SLACK_BLOCK = "    token_env: SLACK_BOT_TOKEN      # without a token in this variable, Slack is skipped\n"
ANALYST = {"X-API-Key": "demo-soc-analyst"}
QUYNHON = {"X-API-Key": "demo-quynhon"}


def sqli(n: int) -> str:
    return (f'203.0.113.{n} - - [22/Nov/2026:15:04:{n:02d} +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%27%20'
            f'UNION%20SELECT%20username,password%20FROM%20nguoi_dung-- HTTP/1.1" 500 312 "-" "Mozilla/5.0"\n')


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack()
    yield server
    server.close()


@pytest.fixture
def chat_home(home: Path, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CANHGAC_HOME with the example configuration pointed at the fake Slack, paced at 20 messages a second."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert SLACK_BLOCK in text
    text = text.replace(SLACK_BLOCK, SLACK_BLOCK + f"    base_url: {fake.base_url}\n    pace_seconds: 0.05\n"
                                                   "    public_url: https://soc.example.gov.vn\n")
    home.mkdir(parents=True, exist_ok=True)
    (home / "canhgac.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    return home


def ingest(log: Path, agency: str = "gialai") -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "canhgac.cli", "ingest", str(log), "--source", "nginx",
                             "--agency", agency, "--json"], env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_ingest_killed_with_a_message_in_flight_then_restarted_loses_none_and_doubles_none(
        chat_home: Path, fake: FakeSlack, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(sqli(n) for n in range(1, 13)), encoding="utf-8")  # 12 sources: 12 incidents
    first = ingest(log)
    deadline = time.monotonic() + 60
    while len(fake.messages) < 6 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.01)
    fake.hang_seconds, fake.mode = 30.0, "hang"  # the next message is posted, its answer never comes
    seen = len(fake.messages)
    while len(fake.messages) == seen and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.01)
    assert first.poll() is None, first.communicate()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    in_flight = len(fake.messages)
    assert 6 < in_flight < 24
    fake.mode = None

    second = ingest(log)  # same file: nothing new to detect; what the first left in the outbox is delivered
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    tops = Counter(m.notice_id for m in fake.messages)
    assert all(count == 1 for count in tops.values()), tops  # no doubles
    assert len(fake.messages) == 24  # 12 incidents, each in the Gia Lai channel and the national one: none lost
    for channel in ("#soc-gia-lai", "#soc-quoc-gia"):
        ids = [m.notice_id.split("|")[1] for m in fake.in_channel(channel) if m.notice_id]
        assert ids == sorted(ids) and len(ids) == 12  # in order per channel
    assert fake.calls("conversations.history")  # the one in flight was looked up before anything was re-sent
    store = open_store(load_settings())
    try:
        assert store.list_chat_notices() == []
    finally:
        store.close()


CRASH_AT = """import os, sys
from canhgac.storage.sqlite.store import SqliteStore
setattr(SqliteStore, sys.argv[1], lambda *args, **kwargs: os._exit(9))  # the process dies right there
from canhgac.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("method", ["create_incident", "put_chat_notices"])
def test_a_crash_between_alert_incident_and_notice_loses_none_of_them(chat_home: Path, fake: FakeSlack,
                                                                      tmp_path: Path, method: str) -> None:
    """Killed after storing the alerts but before their incident, or after the incidents but before their
    notices: started again on the same file, every incident is opened and told of, once."""
    log = tmp_path / "access.log"
    log.write_text("".join(sqli(n) for n in range(1, 13)), encoding="utf-8")
    crashed = subprocess.run([sys.executable, "-c", CRASH_AT, method, "ingest", str(log), "--source", "nginx",
                              "--agency", "gialai", "--json"], env=dict(os.environ), capture_output=True, text=True,
                             timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    again = ingest(log)
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    store = open_store(load_settings())
    try:
        assert len(store.search_incidents(IncidentQuery(limit=100))) == 12
        assert store.list_chat_notices() == []
    finally:
        store.close()
    assert len(fake.messages) == 24 and all(n == 1 for n in Counter(m.notice_id for m in fake.messages).values())


def test_a_channel_without_the_bot_is_shown_with_what_to_do(chat_home: Path, fake: FakeSlack, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    fake.mode = "not_in_channel"
    log = tmp_path / "access.log"
    log.write_text(sqli(1), encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai", "--json"]) == 0
    capsys.readouterr()
    assert main(["sources"]) == 0
    table = capsys.readouterr().out
    assert "#soc-gia-lai" in table and "not_in_channel" in table
    assert "mời bot vào kênh bằng lệnh /invite @canhgac" in table
    settings = load_settings()
    store = open_store(settings)
    try:
        with TestClient(create_app(settings, store)) as client:
            channels = client.get("/api/v1/sources/chat", headers=ANALYST).json()
            assert {c["channel"] for c in channels} == {"#soc-gia-lai", "#soc-quoc-gia"}
            assert all("mời bot vào kênh" in c["reason_vi"] and "invite" in c["reason_en"] for c in channels)
            assert client.get("/api/v1/sources/chat", headers=QUYNHON).json() == []  # not its agency
    finally:
        store.close()


def test_a_comment_for_chat_from_the_page_lands_in_the_incident_thread(
        chat_home: Path, fake: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text(sqli(1), encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai", "--json"]) == 0
    [top, _] = [m for m in fake.messages if m.thread_ts is None]
    settings = load_settings()
    store = open_store(settings)
    try:
        with TestClient(create_app(settings, store)) as client:
            [incident] = client.get("/api/v1/incidents", headers=ANALYST).json()
            path = f"/api/v1/incidents/{incident['id']}"
            etag = client.get(path, headers=ANALYST).headers["etag"]
            response = client.post(f"{path}/comments", headers={**ANALYST, "If-Match": etag},
                                   json={"text": "Đã chặn IP tại tường lửa", "to_chat": True})
            assert response.status_code == 200, response.text
        assert [n.kind for n in store.list_chat_notices(channel=top.channel)] == ["reply", "update"]
        assert dispatcher_for(store, settings, FakeClock()).drain(timeout=60)
    finally:
        store.close()
    [reply] = [m for m in fake.in_channel(top.channel) if m.thread_ts == top.ts]
    assert "Đã chặn IP tại tường lửa" in reply.text and top.updates
