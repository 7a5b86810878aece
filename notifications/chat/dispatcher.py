"""The one sender of chat notices: reads the outbox, delivers each channel's notices in order, removes a notice
only once Slack accepted it.

- Pacing: one message per channel per ``pace`` seconds; a 429 holds that channel for ``Retry-After``.
- Failures that may pass (5xx, timeouts, cut connections) are retried with exponential back-off and jitter; the
  notice keeps its place, so nothing overtakes it in its channel.
- No doubles: before a send whose outcome could go unknown, the notice is marked ``sending_since`` in the store
  and its id travels in the message's metadata. A notice found so marked (the process died, or the call timed
  out) is looked up in the channel's history first and only posted if Slack does not have it.
- Refusals that concern the channel (``not_in_channel``, ``missing_scope``…) keep the notice with the reason and
  hold the channel, tried again every ``PARKED_RETRY``; a refusal of one message sets that notice aside.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from canhgac.core.directory import Directory
from canhgac.notifications.chat.delivery import ChatSender, Delivery
from canhgac.notifications.chat.health import CHANNEL_ERRORS
from canhgac.notifications.chat.notices import opener_notice
from canhgac.notifications.slack.messages import top_message
from canhgac.storage.base import Store
from canhgac.storage.outbox import ChatNotice

log = logging.getLogger(__name__)
PARKED_RETRY = timedelta(minutes=5)
BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0
#: Outcome unknown: look for the message this far before the attempt began (clocks of two machines differ).
LOOKUP_SLACK = timedelta(minutes=2)
POLL_SECONDS = 1.0  # how soon notices written by other processes (API workers) are seen
KEPT_SENT_IDS = 200
THREAD_PREFIX = "chat-thread:"


class Clock:
    """Wall time and waiting; tests pass one that moves time on instead of sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


@dataclass
class DispatchStats:
    sent: int = 0
    updated: int = 0
    rate_limited: int = 0
    retried: int = 0
    found_after_crash: int = 0
    last_error: str | None = None
    errors: dict[str, int] = field(default_factory=dict)


class Dispatcher:
    def __init__(self, store: Store, sender: ChatSender, directory: Directory, *, language: str = "vi",
                 public_url: str | None = None, pace: float = 1.0, clock: Clock | None = None,
                 jitter: Callable[[], float] = random.random, channels: list[str] | None = None) -> None:
        self.store = store
        self.sender = sender
        self.directory = directory
        self.language = language
        self.public_url = public_url
        self.pace = timedelta(seconds=pace)
        self.clock = clock or Clock()
        self.jitter = jitter
        self.channels = list(channels or [])
        self.stats = DispatchStats()
        self.wake = threading.Event()
        self._last_sent: dict[str, datetime] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._drain_until = 0.0

    # one pass ---------------------------------------------------------------------------------
    def step(self) -> float | None:
        """Deliver every channel's first notice that is due; seconds until the next one is due, or None when
        nothing is waiting but stuck channels and set-aside notices."""
        now = self.clock.now()
        waits: list[float] = []
        for channel in self._channels():
            head = self._head(channel)
            if head is None:
                continue
            due = max(head.not_before or now, self._last_sent.get(channel, now - self.pace) + self.pace)
            if due > now:
                if head.error is None:
                    waits.append((due - now).total_seconds())
                continue
            self._deliver(head, now)
            if self._head(channel) is not None:
                waits.append(self.pace.total_seconds())
        return min(waits) if waits else None

    def drain(self, timeout: float) -> bool:
        """Step until nothing deliverable is left (True) or ``timeout`` seconds of the clock have passed."""
        deadline = self.clock.now() + timedelta(seconds=timeout)
        while True:
            wait = self.step()
            if wait is None:
                return True
            left = (deadline - self.clock.now()).total_seconds()
            if left <= 0:
                return False
            self.clock.sleep(min(wait, left))

    def _channels(self) -> list[str]:
        seen = {n.channel for n in self.store.list_chat_notices(limit=1000)}
        return sorted(seen | set(self.channels))

    def _head(self, channel: str) -> ChatNotice | None:
        """The channel's first notice, skipping notices set aside (refused on their own account)."""
        for notice in self.store.list_chat_notices(channel=channel, limit=200):
            if notice.error is None or notice.error in CHANNEL_ERRORS:
                return notice
        return None

    # one notice -------------------------------------------------------------------------------
    def _deliver(self, notice: ChatNotice, now: datetime) -> None:
        thread = self._thread_of(notice)
        if notice.kind != "update" and notice.sending_since is not None and self._found(notice, thread):
            return
        if notice.kind == "post":
            if thread is not None:  # posted before (a repeat of the same change): one top message only
                self.store.delete_chat_notice(notice.id)
                return
            self._send(notice, now, thread_ts=None)
        elif notice.kind == "reply":
            if thread is None:  # the top message first (it was never posted in this channel), then the reply
                self._open_thread(notice, now)
                return
            if notice.id in thread.get("sent", []):
                self.store.delete_chat_notice(notice.id)
                return
            self._send(notice, now, thread_ts=thread["ts"])
        elif notice.kind == "update":
            if thread is None:  # nothing to rewrite: the top message, when posted, shows the incident as it is
                self.store.delete_chat_notice(notice.id)
                return
            self._update(notice, thread, now)
        else:
            self._send(notice, now, thread_ts=None)

    def _open_thread(self, reply: ChatNotice, now: datetime) -> None:
        opener = opener_notice(reply.channel, reply.incident_id or "", reply.agency,
                               reply.created - timedelta(microseconds=1))
        self.store.put_chat_notices([opener])  # kept as it is if it waits already (maybe in flight)
        stored = next((n for n in self.store.list_chat_notices(channel=reply.channel, limit=1000)
                       if n.id == opener.id), opener)
        if stored.error is not None and stored.error not in CHANNEL_ERRORS:  # the top message was refused itself
            self.store.update_chat_notice(reply.model_copy(update={"error": stored.error, "error_at": now}))
            return
        self._deliver(stored, now)

    def _send(self, notice: ChatNotice, now: datetime, *, thread_ts: str | None) -> None:
        text, blocks = notice.text, notice.blocks
        if notice.kind == "post":
            incident = self.store.get_incident(notice.incident_id or "")
            if incident is None:
                self.store.delete_chat_notice(notice.id)
                return
            text, blocks = top_message(incident, self.directory, self.language, public_url=self.public_url)
        marked = notice.model_copy(update={"sending_since": now, "attempts": notice.attempts + 1})
        self.store.update_chat_notice(marked)
        outcome = self.sender.post(notice.channel, text, blocks, notice_id=notice.id, thread_ts=thread_ts)
        self._last_sent[notice.channel] = self.clock.now()
        if outcome.ok:
            self._delivered(marked, outcome.ts, outcome.channel_id)
            self.stats.sent += 1
        else:
            self._failed(marked, outcome, now)

    def _update(self, notice: ChatNotice, thread: dict, now: datetime) -> None:  # type: ignore[type-arg]
        incident = self.store.get_incident(notice.incident_id or "")
        if incident is None:
            self.store.delete_chat_notice(notice.id)
            return
        text, blocks = top_message(incident, self.directory, self.language, public_url=self.public_url)
        outcome = self.sender.update(thread.get("channel_id") or notice.channel, thread["ts"], text, blocks)
        self._last_sent[notice.channel] = self.clock.now()
        if outcome.ok or (outcome.permanent and outcome.error not in CHANNEL_ERRORS):
            # An update is best effort: a top message Slack will not rewrite (deleted, too old) is left as it is.
            self.store.delete_chat_notice(notice.id)
            self.stats.updated += outcome.ok
        else:
            self._failed(notice.model_copy(update={"attempts": notice.attempts + 1}), outcome, now)

    def _found(self, notice: ChatNotice, thread: dict | None) -> bool:  # type: ignore[type-arg]
        """A notice whose last send went unanswered: True (and done) if Slack has it after all."""
        assert notice.sending_since is not None
        thread_ts = thread["ts"] if notice.kind == "reply" and thread is not None else None
        found = self.sender.find(notice.channel, notice.id, since=notice.sending_since - LOOKUP_SLACK,
                                 thread_ts=thread_ts)
        if not found.ok:  # cannot tell: wait, do not risk a double
            self._failed(notice.model_copy(update={"attempts": notice.attempts + 1}), found, self.clock.now(),
                         keep_marked=True)
            return True
        if found.ts is None:
            return False
        self.stats.found_after_crash += 1
        self._delivered(notice, found.ts, found.channel_id or (thread or {}).get("channel_id"))
        return True

    def _delivered(self, notice: ChatNotice, ts: str | None, channel_id: str | None) -> None:
        if notice.incident_id is not None and notice.kind in ("post", "reply"):
            key = _thread_key(notice.channel, notice.incident_id)
            thread = self.store.get_state(key) or {}
            if notice.kind == "post" and ts is not None:
                thread = {**thread, "ts": ts, "channel_id": channel_id or notice.channel}
            thread["sent"] = [*thread.get("sent", []), notice.id][-KEPT_SENT_IDS:]
            if "ts" in thread:
                self.store.put_state(key, thread)
        self.store.delete_chat_notice(notice.id)

    def _failed(self, notice: ChatNotice, outcome: Delivery, now: datetime, *, keep_marked: bool = False) -> None:
        error = outcome.error or "unknown"
        self.stats.last_error = error
        self.stats.errors[error] = self.stats.errors.get(error, 0) + 1
        update: dict[str, object] = {"sending_since": notice.sending_since if (outcome.uncertain or keep_marked)
                                     else None}
        if outcome.retry_after is not None:
            self.stats.rate_limited += 1
            update["not_before"] = now + timedelta(seconds=max(outcome.retry_after, 0.0))
        elif outcome.permanent:
            update |= {"error": error, "error_at": now, "not_before": now + PARKED_RETRY}
            log.warning("Slack refused notice %s for %s: %s", notice.id, notice.channel, error)
        else:
            self.stats.retried += 1
            delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, notice.attempts - 1))
            update["not_before"] = now + timedelta(seconds=delay * (0.5 + self.jitter() / 2))
        self.store.update_chat_notice(notice.model_copy(update=update))

    def _thread_of(self, notice: ChatNotice) -> dict | None:  # type: ignore[type-arg]
        if notice.incident_id is None:
            return None
        thread = self.store.get_state(_thread_key(notice.channel, notice.incident_id))
        return thread if thread and thread.get("ts") else None

    # the thread in serve and ingest -----------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chat-dispatcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            # only a step that began after the stop was asked may end the thread: one begun before it may have
            # missed a notice written just before the stop
            stopping = self._stopping.is_set()
            try:
                wait = self.step()
            except Exception as exc:  # the store or Slack misbehaving: keep the thread, try again shortly
                log.warning("chat dispatcher: %s", exc)
                self.stats.last_error = str(exc)
                wait = 5.0
            if stopping and (wait is None or time.monotonic() >= self._drain_until):
                return
            self.wake.wait(min(wait if wait is not None else POLL_SECONDS, POLL_SECONDS))
            self.wake.clear()

    def stop(self, drain_seconds: float = 10.0) -> None:
        """Deliver what is due within ``drain_seconds``, then stop (what is left stays in the outbox)."""
        if self._thread is None:
            return
        self._drain_until = time.monotonic() + drain_seconds
        self._stopping.set()
        self.wake.set()
        self._thread.join(drain_seconds + 15)
        self._thread = None


def _thread_key(channel: str, incident_id: str) -> str:
    return f"{THREAD_PREFIX}{channel}|{incident_id}"

