"""Chat notices that cannot be lost: the outbox in the store and its dispatcher, against a fake Slack that
misbehaves (429 with Retry-After, 500, timeouts, not_in_channel, down and back), with a clock that does not sleep."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from canhgac.core.config import Settings
from canhgac.core.model import Severity
from canhgac.notifications.chat import Dispatcher, chat_health
from canhgac.storage.base import Store
from canhgac.storage.sqlite import SqliteStore

from tests.notifications.chat_harness import (
    FakeClock,
    chat_settings,
    created,
    dispatcher_for,
    stored_incident,
    writer_for,
)
from tests.notifications.fake_slack import FakeSlack

GIALAI, NATIONAL = "#soc-gia-lai", "#soc-quoc-gia"


def burst(store: Store, settings: Settings, count: int) -> dict[str, list[str]]:
    """``count`` new incidents: even ones medium in Gia Lai (its channel only), odd ones high in Đắk Lắk (the
    national channel only). Returns the incident ids each channel must show, in order."""
    expected: dict[str, list[str]] = {GIALAI: [], NATIONAL: []}
    incidents = []
    for n in range(count):
        if n % 2 == 0:
            incident = stored_incident(store, n, agency="gialai", severity=Severity.medium)
            expected[GIALAI].append(incident.id)
        else:
            incident = stored_incident(store, n, agency="daklak", severity=Severity.high)
            expected[NATIONAL].append(incident.id)
        incidents.append(incident)
    writer = writer_for(store, settings)
    for start in range(0, count, 10):  # as detection hands them over: batch after batch
        writer.notify([created(i) for i in incidents[start:start + 10]])
    return expected


def top_messages(fake: FakeSlack, channel: str) -> list[str]:
    return [m.notice_id.split("|")[1] for m in fake.in_channel(channel) if m.thread_ts is None and m.notice_id]


def test_a_burst_of_50_against_429_every_other_call_is_posted_once_in_order(
        store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    fake = FakeSlack(mode="ratelimit_every_other", retry_after=1, clock=clock.epoch)
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        expected = burst(store, settings, 50)
        assert len(store.list_chat_notices()) == 50
        dispatcher = dispatcher_for(store, settings, clock)
        assert dispatcher.drain(timeout=3600)
        for channel in (GIALAI, NATIONAL):
            assert top_messages(fake, channel) == expected[channel]  # each once, in order
        assert len(fake.messages) == 50 and fake.rate_limited >= 49
        assert store.list_chat_notices() == []
        # About one message per second per channel, and every 429's Retry-After (1 s) waited out.
        for channel in (GIALAI, NATIONAL):
            stamps = [float(m.ts) for m in fake.in_channel(channel)]
            assert min(b - a for a, b in itertools.pairwise(stamps)) >= 0.999
        assert clock.slept >= 25
    finally:
        fake.close()


class Crash(BaseException):
    """The process dying: raised after Slack accepted a message, before the outbox heard of it."""


def reopened(store: Store, request: pytest.FixtureRequest) -> Store:
    """The store closed and opened again, as a restarted process opens it."""
    store.close()
    if store.kind == "sqlite":
        return SqliteStore(store.path)  # type: ignore[attr-defined]
    from canhgac.storage.elasticsearch import ElasticsearchStore

    from tests.conftest import es_client

    return ElasticsearchStore(es_client(request.getfixturevalue("es_url")), index_prefix=store.prefix)  # type: ignore[attr-defined]


def test_a_restart_in_the_middle_loses_none_and_doubles_none(
        store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    clock = FakeClock()
    fake = FakeSlack(mode="ratelimit_every_other", retry_after=1, clock=clock.epoch)
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        expected = burst(store, settings, 50)
        first = dispatcher_for(store, settings, clock)
        post = first.sender.post
        accepted = 0

        def dies_on_the_20th(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal accepted
            outcome = post(*args, **kwargs)
            accepted += outcome.ok
            if accepted == 20:
                raise Crash
            return outcome

        first.sender.post = dies_on_the_20th  # type: ignore[method-assign]
        with pytest.raises(Crash):
            first.drain(timeout=3600)
        assert len(fake.messages) == 20
        again = reopened(store, request)
        try:
            second = dispatcher_for(again, settings, clock)
            assert second.drain(timeout=3600)
            for channel in (GIALAI, NATIONAL):
                assert top_messages(fake, channel) == expected[channel]
            assert len(fake.messages) == 50
            assert second.stats.found_after_crash == 1  # the one in flight was found in the history, not re-sent
            assert fake.calls("conversations.history")
            assert again.list_chat_notices() == []
        finally:
            again.close()
    finally:
        fake.close()


def test_server_errors_are_retried_with_growing_back_off_then_posted_once(
        sqlite_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    fake = FakeSlack(mode="error500", clock=clock.epoch)
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        writer_for(sqlite_store, settings).notify([created(stored_incident(sqlite_store, 1, severity=Severity.medium))])
        dispatcher = dispatcher_for(sqlite_store, settings, clock)
        assert not dispatcher.drain(timeout=60)
        [waiting] = sqlite_store.list_chat_notices()
        assert waiting.error is None and waiting.attempts >= 5  # still waiting its turn, not given up
        times = [at for _, at, status in fake.log if status == 500]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps == sorted(gaps) and gaps[-1] >= 4 * gaps[0] >= 3  # exponential (jitter fixed at its middle)
        fake.mode = None
        assert dispatcher.drain(timeout=600)
        assert len(fake.messages) == 1 and fake.calls("conversations.history")  # looked up first: a 500 may lie
    finally:
        fake.close()


def test_an_unanswered_post_is_looked_up_before_it_is_sent_again(
        sqlite_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    fake = FakeSlack(mode="hang", clock=clock.epoch)
    fake.hang_seconds = 2.0  # Slack posts the message, the answer comes after the client gave up
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        writer_for(sqlite_store, settings).notify([created(stored_incident(sqlite_store, 1, severity=Severity.medium))])
        dispatcher = dispatcher_for(sqlite_store, settings, clock, timeout=1)
        dispatcher.step()
        [waiting] = sqlite_store.list_chat_notices()
        assert waiting.sending_since is not None and len(fake.messages) == 1
        fake.mode = None
        assert dispatcher.drain(timeout=600)
        assert len(fake.messages) == 1 and dispatcher.stats.found_after_crash == 1
        assert sqlite_store.list_chat_notices() == []
    finally:
        fake.close()


def test_slack_down_then_back_on_the_same_port(
        sqlite_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    fake = FakeSlack(clock=clock.epoch)
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        fake.stop()
        writer_for(sqlite_store, settings).notify([created(stored_incident(sqlite_store, n, severity=Severity.medium))
                                                   for n in (1, 2)])
        dispatcher = dispatcher_for(sqlite_store, settings, clock)
        assert not dispatcher.drain(timeout=30)
        assert len(sqlite_store.list_chat_notices()) == 2  # nothing lost while Slack is away
        fake.start()
        assert dispatcher.drain(timeout=600)
        assert top_messages(fake, GIALAI) == ["GLI-2026-000001", "GLI-2026-000002"]
    finally:
        fake.close()


def test_not_in_channel_is_kept_with_its_reason_and_delivered_once_the_bot_is_invited(
        sqlite_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    fake = FakeSlack(mode="not_in_channel", clock=clock.epoch)
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        writer_for(sqlite_store, settings).notify([created(stored_incident(sqlite_store, n, severity=Severity.medium))
                                                   for n in (1, 2)])
        dispatcher: Dispatcher = dispatcher_for(sqlite_store, settings, clock)
        assert dispatcher.drain(timeout=60)  # nothing more to do now: the channel waits for the bot
        assert Counter(r["path"] for r in fake.requests) == Counter()  # refused, never accepted
        [health] = chat_health(sqlite_store)
        assert health.channel == GIALAI and health.waiting == 2 and health.error == "not_in_channel"
        assert "mời bot vào kênh" in health.doc("vi")["reason"] and "/invite @canhgac" in health.doc("vi")["reason"]
        assert "invite" in health.doc("en")["reason"]
        fake.mode = None  # someone typed /invite @canhgac
        clock.sleep(301)
        assert dispatcher.drain(timeout=600)
        assert top_messages(fake, GIALAI) == ["GLI-2026-000001", "GLI-2026-000002"] and chat_health(sqlite_store) == []
    finally:
        fake.close()
